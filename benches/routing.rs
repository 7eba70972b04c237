//! Routing benchmark: how the cost of routing a letter grows with the number of rules.
//!
//! Pure and in memory, on one thread (no services needed): `cargo bench --bench routing`.
//! 1. generates 10,000 letters (`CHANCERY_BENCH_LETTERS` overrides) with `read_letter`: senders
//!    from partner universities and elsewhere, subjects in four languages with reference codes,
//!    1-6 KB bodies, a third with a PDF attachment;
//! 2. builds rule books of 10, 1,000 and 10,000 rules: every book starts with the same ten
//!    rules, like the starter set (keyword lists, partner domains, a phrase in the body), and
//!    larger books add rules that name something specific (sender globs, recipients, subject
//!    codes, some regular expressions, some body conditions, a few `any`/`not`/attachment
//!    rules); and a header-only book of 1,000 rules (from/to/subject only);
//! 3. routes every letter with each book and prints letters/s, the ratios against 10 rules,
//!    and how long each book took to build.
//!
//! Goals: 1,000 rules cost at most 2x what 10 rules cost per letter; header-only rules route at
//! least 100,000 letters/s on one core.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chancery::core::letter::{Letter, read_letter};
use chancery::core::rules::RuleBook;

const DEFAULT_LETTERS: usize = 10_000;
const RUNS: usize = 5;
const UNITS: [&str; 6] = ["registry", "international", "rectorate", "finance", "hr", "students"];

/// Words registry mail is made of, in English, Azerbaijani, Russian and Turkish.
const WORDS: [&str; 48] = [
    "invoice",
    "agreement",
    "mobility",
    "erasmus",
    "visa",
    "transcript",
    "diploma",
    "vacancy",
    "conference",
    "grant",
    "report",
    "budget",
    "contract",
    "order",
    "meeting",
    "invitation",
    "application",
    "schedule",
    "payment",
    "certificate",
    "müqavilə",
    "hesab-faktura",
    "məktub",
    "dəvət",
    "tələbə",
    "ərizə",
    "sərəncam",
    "iclas",
    "hesabat",
    "məzuniyyət",
    "счёт",
    "договор",
    "приглашение",
    "студент",
    "заявление",
    "приказ",
    "совещание",
    "отчёт",
    "протокол",
    "fatura",
    "anlaşma",
    "öğrenci",
    "davet",
    "toplantı",
    "başvuru",
    "rapor",
    "burs",
    "sözleşme",
];

/// A small deterministic generator, so every run routes the same letters with the same rules.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }
}

fn letters(count: usize) -> Vec<Letter> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|i| {
            let from = match rng.below(10) {
                0..=3 => format!("Prof. Partner {i} <staff{}@partner{}.edu.tr>", rng.below(50), rng.below(5000)),
                4 => format!("Office <office@dept{}.uni{}.ac.uk>", rng.below(9), rng.below(2000)),
                5 => format!("\"Ministry\" <info{}@ministry{}.gov.az>", rng.below(9), rng.below(300)),
                6 => format!("Supplier {i} <billing@supplier{}.example>", rng.below(3000)),
                _ => format!("Correspondent {i} <person{}@mail{}.example>", rng.below(100_000), rng.below(500)),
            };
            let to = if rng.chance(20) { format!("unit{}@uni.example", rng.below(400)) } else { "registry@uni.example".to_string() };
            let subject = format!(
                "{}{} {} {} GC-{} {}",
                if rng.chance(30) { "Re: " } else { "" },
                capitalise(rng.word()),
                rng.word(),
                rng.word(),
                rng.below(20_000),
                if rng.chance(10) { format!("ref-{}", rng.below(20_000)) } else { String::new() },
            );
            let mut body = String::new();
            let paragraphs = 2 + rng.below(10);
            for _ in 0..paragraphs {
                for _ in 0..(8 + rng.below(12)) {
                    body.push_str(rng.word());
                    body.push(' ');
                    if rng.chance(5) {
                        let _ = write!(body, "reference number RN-{} ", rng.below(20_000));
                    }
                }
                body.push_str("\r\n\r\n");
            }
            let priority = if rng.chance(5) { "X-Priority: 1 (Highest)\r\n" } else { "" };
            let raw = if rng.chance(33) {
                format!(
                    "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{i}@bench.example>\r\n{priority}MIME-Version: 1.0\r\n\
                     Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\
                     --b\r\nContent-Type: application/pdf; name=\"doc-{i}.pdf\"\r\nContent-Disposition: attachment; filename=\"doc-{i}.pdf\"\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
                    "JVBERi0xLjQKJcTl8uXrCjEgMCBvYmoK".repeat(20 + rng.below(200))
                )
            } else {
                format!(
                    "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{i}@bench.example>\r\n{priority}MIME-Version: 1.0\r\n\
                     Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
                )
            };
            read_letter(raw.as_bytes())
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq)]
enum Mix {
    /// Senders, recipients, subjects, bodies, regexes, attachments, `any` and `not`.
    Realistic,
    /// Only from, to and subject (plain text and globs, a few regexes).
    HeadersOnly,
}

/// The files of a rule book of `count` rules: units.toml and one file per 100 rules.
///
/// Every book starts with the same ten rules, like the starter set in `mail-rules/`: keyword
/// lists that cover the vocabulary of the subjects, the partner domains, one phrase in the
/// body. Every letter matches two or three of them, in every book. The rest of a larger book
/// names something specific, as a registry's rules do as they grow: a partner's or supplier's
/// domain, a recipient, a project or contract code, a reference in the body, a few regular
/// expressions and `any`/`not`/attachment rules.
fn book_files(count: usize, mix: Mix) -> Vec<(String, String)> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ count as u64);
    let mut files = vec![("units.toml".to_string(), units_toml()), ("000-core.toml".to_string(), core_rules(mix))];
    let mut file = String::new();
    for i in CORE_RULES..count {
        let _ = writeln!(file, "[[rule]]\nname = \"Rule {i}\"");
        match (mix, rng.below(100)) {
            (_, 0..=34) => {
                let _ = writeln!(file, "from = [\"*@partner{}.edu.tr\", \"*.uni{}.ac.uk\"]", rng.below(5000), rng.below(2000));
            }
            (_, 35..=44) => {
                let _ = writeln!(file, "from = \"*@supplier{}.example\"", rng.below(3000));
            }
            (_, 45..=49) => {
                let _ = writeln!(file, "to = \"unit{}@uni.example\"", rng.below(400));
            }
            (Mix::Realistic, 80..=83) | (Mix::HeadersOnly, 80..=82) => {
                let _ = writeln!(file, "subject = 'regex:\\bref-{}\\b'", rng.below(20_000));
            }
            (Mix::Realistic, 84..=86) => {
                let _ = writeln!(file, "subject = 'regex:^re:\\s*\\S+\\s+\\S+\\s+\\S+\\s+gc-{}\\b'", rng.below(20_000));
            }
            (Mix::Realistic, 87..=94) => {
                let _ = writeln!(file, "body = \"reference number RN-{}\"", rng.below(20_000));
            }
            (Mix::Realistic, 95..=96) => {
                let _ = writeln!(
                    file,
                    "any = [ {{ subject = \"GC-{}\" }}, {{ from = \"*@ministry{}.gov.az\" }} ]\nnot = {{ from = \"*@uni.example\" }}",
                    rng.below(20_000),
                    rng.below(300)
                );
            }
            (Mix::Realistic, 97..=98) => {
                let _ = writeln!(
                    file,
                    "from = \"*@supplier{}.example\"\nattachment_type = \"application/pdf\"\nsize_over = \"10KB\"",
                    rng.below(3000)
                );
            }
            (Mix::Realistic, 99) => {
                let _ = writeln!(file, "subject = \"GC-{}\"\nhas_attachment = true", rng.below(20_000));
            }
            (Mix::HeadersOnly, 83..) => {
                let _ = writeln!(file, "from = \"staff{}@*\"\nsubject = \"GC-{}\"", rng.below(50), rng.below(20_000));
            }
            _ => {
                let _ = writeln!(file, "subject = [\"{} gc-{}\", \"GC-{}\"]", rng.word(), rng.below(20_000), rng.below(20_000));
            }
        }
        let _ = writeln!(file, "unit = \"{}\"\ntags = [\"t{}\"]", UNITS[rng.below(UNITS.len())], rng.below(50));
        if rng.chance(20) {
            let _ = writeln!(file, "classification = \"0{}-0{}\"\ndue_in_working_days = {}", rng.below(6), rng.below(9), rng.below(20));
        }
        if rng.chance(5) {
            let _ = writeln!(file, "confidentiality = \"confidential\"");
        }
        file.push('\n');
        if (i + 1) % 100 == 0 || i + 1 == count {
            files.push((format!("{:03}-bench.toml", files.len()), std::mem::take(&mut file)));
        }
    }
    files
}

const CORE_RULES: usize = 10;

/// The ten rules every book starts with.
fn core_rules(mix: Mix) -> String {
    let mut text = String::new();
    for (i, words) in WORDS.chunks(WORDS.len() / 8).enumerate() {
        let list: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        let _ = writeln!(
            text,
            "[[rule]]\nname = \"Keywords {i}\"\nsubject = [{}]\nunit = \"{}\"\nclassification = \"0{i}-01\"\ntags = [\"k{i}\"]\n",
            list.join(", "),
            UNITS[i % UNITS.len()]
        );
    }
    let _ = writeln!(
        text,
        "[[rule]]\nname = \"Partners abroad\"\nfrom = [\"*.edu.tr\", \"*.ac.uk\"]\nunit = \"international\"\nnotify_room = true\n"
    );
    match mix {
        Mix::Realistic => {
            let _ = writeln!(
                text,
                "[[rule]]\nname = \"Grant agreements\"\nbody = [\"grant agreement\", \"payment schedule\"]\ntags = [\"grant\"]\n"
            );
        }
        Mix::HeadersOnly => {
            let _ = writeln!(text, "[[rule]]\nname = \"To the rector\"\nto = \"rector@uni.example\"\nunit = \"rectorate\"\n");
        }
    }
    text
}

fn units_toml() -> String {
    let mut text = String::new();
    for (i, id) in UNITS.iter().enumerate() {
        let _ = writeln!(
            text,
            "[[unit]]\nid = \"{id}\"\nname = {{ en = \"{id}\", az = \"{id}\", ru = \"{id}\" }}\nemail = \"{id}@uni.example\"\n\
             room = \"#{id}:uni.example\"\nhead = {{ name = \"Head\", email = \"head.{id}@uni.example\" }}\ndefault = {}\n",
            i == 0
        );
    }
    text
}

struct Measured {
    label: String,
    rules: usize,
    build: Duration,
    best: Duration,
    routed_by_rule: usize,
    reasons: usize,
}

impl Measured {
    fn per_second(&self, letters: usize) -> f64 {
        letters as f64 / self.best.as_secs_f64()
    }
}

fn build(files: &[(String, String)]) -> (RuleBook, Duration) {
    let started = Instant::now();
    match RuleBook::parse(files) {
        Ok(book) => (book, started.elapsed()),
        Err(errors) => {
            eprintln!("routing bench: the generated rules do not parse: {}", errors[0]);
            std::process::exit(1);
        }
    }
}

/// Routes every letter with every book, `RUNS` rounds taking turns, and keeps each book's best
/// round: on a shared machine a slow moment then costs every book alike, not one of them.
fn measure(books: &[(&str, RuleBook, Duration)], letters: &[Letter]) -> Vec<Measured> {
    let mut measured: Vec<Measured> = books
        .iter()
        .map(|(label, book, build)| {
            // A first pass warms the regex engines' lazy caches, as a running service has them.
            let (mut routed_by_rule, mut reasons) = (0, 0);
            for letter in letters {
                let routing = book.route(letter);
                routed_by_rule += usize::from(routing.rule.is_some());
                reasons += routing.reasons.len();
            }
            Measured { label: label.to_string(), rules: book.rule_count(), build: *build, best: Duration::MAX, routed_by_rule, reasons }
        })
        .collect();
    for _ in 0..RUNS {
        for ((_, book, _), result) in books.iter().zip(&mut measured) {
            let started = Instant::now();
            for letter in letters {
                std::hint::black_box(book.route(std::hint::black_box(letter)));
            }
            result.best = result.best.min(started.elapsed());
        }
    }
    measured
}

fn main() {
    let count = std::env::var("CHANCERY_BENCH_LETTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_LETTERS);
    let started = Instant::now();
    let letters = letters(count);
    let bytes: usize = letters.iter().map(|l| l.size).sum();
    println!(
        "routing bench: {} letters ({:.1} MB, {} with attachments) generated and read in {:.2?}; best of {RUNS} rounds, one thread",
        letters.len(),
        bytes as f64 / 1e6,
        letters.iter().filter(|l| !l.attachments.is_empty()).count(),
        started.elapsed()
    );
    println!();
    println!(
        "{:<28} {:>7} {:>11} {:>12} {:>10} {:>16} {:>16}",
        "book", "rules", "build", "letters/s", "µs/letter", "routed by a rule", "reasons/letter"
    );
    let books: Vec<(&str, RuleBook, Duration)> = [
        ("realistic", 10, Mix::Realistic),
        ("realistic", 1_000, Mix::Realistic),
        ("realistic", 10_000, Mix::Realistic),
        ("header-only (from/to/subj)", 1_000, Mix::HeadersOnly),
    ]
    .into_iter()
    .map(|(label, rules, mix)| {
        let (book, took) = build(&book_files(rules, mix));
        (label, book, took)
    })
    .collect();
    let results = measure(&books, &letters);
    for measured in &results {
        let per_second = measured.per_second(letters.len());
        println!(
            "{:<28} {:>7} {:>11.2?} {:>12.0} {:>10.2} {:>15.1}% {:>16.2}",
            measured.label,
            measured.rules,
            measured.build,
            per_second,
            1e6 / per_second,
            100.0 * measured.routed_by_rule as f64 / letters.len() as f64,
            measured.reasons as f64 / letters.len() as f64
        );
    }
    println!();
    let cost = |m: &Measured| m.best.as_secs_f64();
    let ratio_1000 = cost(&results[1]) / cost(&results[0]);
    let ratio_10000 = cost(&results[2]) / cost(&results[0]);
    let verdict = |ok: bool| if ok { "goal met" } else { "GOAL MISSED" };
    println!("cost per letter, 1,000 rules vs 10:   {ratio_1000:.2}x  (goal <= 2x: {})", verdict(ratio_1000 <= 2.0));
    println!("cost per letter, 10,000 rules vs 10:  {ratio_10000:.2}x");
    let header_only = results[3].per_second(letters.len());
    println!(
        "header-only, 1,000 rules:             {header_only:.0} letters/s  (goal >= 100,000/s: {})",
        verdict(header_only >= 100_000.0)
    );
}
