//! Property tests of everything that reads what people and other servers write: mail, rule
//! files, the configuration and chat command lines. Random and damaged inputs (real ones with
//! bits flipped, cut short, headers repeated, MIME boundaries broken, lines moved) must never
//! panic; every piece of mail ends in the register; a rule file that does not load says where.
//!
//! Each property runs a fixed number of cases (the `*_CASES` constants) and prints what it ran;
//! `cargo test --test properties -- --nocapture` shows the counts. A failure prints the smallest
//! input proptest could shrink it to.

mod seed;
mod support;

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chancery::commands::{Catalog, Context, Request, answer};
use chancery::config::Config;
use chancery::core::intake::Source;
use chancery::core::letter::{check_mail, fingerprint, read_headers_only, read_letter};
use chancery::core::rules::RuleBook;
use chancery::core::viewer::Audience;
use chancery::store::{Arrival, Outcome};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

/// Cases per property: together they run in well under a minute in the debug test profile.
const MAIL_CASES: u32 = 1500;
const READ_CASES: u32 = 50_000;
const RULE_CASES: u32 = 3000;
const CONFIG_CASES: u32 = 3000;
const COMMAND_CASES: u32 = 4000;

/// Runs `test` on `cases` values of `strategy`; panics with the shrunk failing input, if any.
fn check<S>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    // No regression files in the tree: a failure prints its shrunk input, which becomes a test of
    // its own (as the letters and the command line below).
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    let mut runner = TestRunner::new(config);
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("property `{name}` failed: {failure}");
    }
    println!("property `{name}`: {cases} cases passed");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Damage: what happens to text on its way (bits flipped, cut short, lines repeated or lost).

#[derive(Debug, Clone)]
enum Damage {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Remove {
        at: usize,
        len: usize,
    },
    /// A copy of some span, elsewhere.
    Splice {
        from: usize,
        len: usize,
        to: usize,
    },
    /// A header line said twice (the first header section's line `line`).
    DuplicateHeader {
        line: usize,
    },
    /// A MIME boundary delimiter cut, renamed, closed early or removed.
    BreakBoundary {
        which: usize,
        how: u8,
    },
    DuplicateLine {
        line: usize,
    },
    RemoveLine {
        line: usize,
    },
    SwapLines {
        a: usize,
        b: usize,
    },
}

/// Fragments that mean something to the parsers, to insert among random bytes.
const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    "\r\n\r\n",
    "--",
    "=?utf-8?B?",
    "=?koi8-r?Q?=D0=B0?=",
    "?=",
    "=\r\n",
    ":",
    "\0",
    "\"",
    "[[rule]]\n",
    "[",
    "]",
    "= ",
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "Content-Disposition: attachment; filename=\"../../etc/passwd\"\r\n",
    "charset=x-unknown",
    "From: <@>\r\n",
    "Message-ID: <>\r\n",
    "\u{feff}",
    "\u{202e}",
    "ə",
    "Ж",
    "🙂",
];

fn damage() -> impl Strategy<Value = Damage> {
    let inserted =
        prop_oneof![proptest::collection::vec(any::<u8>(), 1..24), proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Damage::FlipBit { at, bit }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
        (any::<usize>(), inserted).prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        (any::<usize>(), 1usize..200).prop_map(|(at, len)| Damage::Remove { at, len }),
        (any::<usize>(), 1usize..300, any::<usize>()).prop_map(|(from, len, to)| Damage::Splice { from, len, to }),
        any::<usize>().prop_map(|line| Damage::DuplicateHeader { line }),
        (any::<usize>(), any::<u8>()).prop_map(|(which, how)| Damage::BreakBoundary { which, how }),
        any::<usize>().prop_map(|line| Damage::DuplicateLine { line }),
        any::<usize>().prop_map(|line| Damage::RemoveLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::SwapLines { a, b }),
    ]
}

fn damages() -> impl Strategy<Value = Vec<Damage>> {
    proptest::collection::vec(damage(), 1..6)
}

/// Byte ranges of the lines of `bytes`, each with its line ending.
fn lines(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let len = bytes.len();
    match damage {
        Damage::FlipBit { at, bit } if len > 0 => bytes[at % len] ^= 1 << (bit % 8),
        Damage::Truncate { at } => bytes.truncate(at % (len + 1)),
        Damage::Insert { at, bytes: inserted } => {
            let at = at % (len + 1);
            bytes.splice(at..at, inserted.iter().copied());
        }
        Damage::Remove { at, len: n } if len > 0 => {
            let at = at % len;
            bytes.drain(at..(at + n).min(len));
        }
        Damage::Splice { from, len: n, to } if len > 0 => {
            let from = from % len;
            let span = bytes[from..(from + n).min(len)].to_vec();
            let to = to % (len + 1);
            bytes.splice(to..to, span);
        }
        Damage::DuplicateHeader { line } => {
            let header_end = memchr_blank_line(bytes).unwrap_or(len);
            let header_lines = lines(&bytes[..header_end]);
            if !header_lines.is_empty() {
                let (start, end) = header_lines[line % header_lines.len()];
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
        Damage::BreakBoundary { which, how } => {
            let Some(boundary) = boundary_of(bytes) else { return };
            let found: Vec<usize> = find_all(bytes, &boundary);
            if found.is_empty() {
                return;
            }
            let at = found[which % found.len()];
            let end = at + boundary.len();
            match how % 4 {
                // Renamed: it no longer matches its declaration.
                0 => bytes[at..end].reverse(),
                // Cut by a byte.
                1 => {
                    bytes.remove(end - 1);
                }
                // Closed early.
                2 => {
                    bytes.splice(end..end, *b"--");
                }
                // Gone, with its line.
                _ => {
                    let start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                    let stop = bytes[end..].iter().position(|&b| b == b'\n').map_or(len, |i| end + i + 1);
                    bytes.drain(start..stop);
                }
            }
        }
        Damage::DuplicateLine { line } => {
            let all = lines(bytes);
            if !all.is_empty() {
                let (start, end) = all[line % all.len()];
                let copy = bytes[start..end].to_vec();
                bytes.splice(end..end, copy);
            }
        }
        Damage::RemoveLine { line } => {
            let all = lines(bytes);
            if !all.is_empty() {
                let (start, end) = all[line % all.len()];
                bytes.drain(start..end);
            }
        }
        Damage::SwapLines { a, b } => {
            let all = lines(bytes);
            if all.len() > 1 {
                let (first, second) = {
                    let (x, y) = (all[a % all.len()], all[b % all.len()]);
                    if x.0 <= y.0 { (x, y) } else { (y, x) }
                };
                if first != second {
                    let mut out = bytes[..first.0].to_vec();
                    out.extend_from_slice(&bytes[second.0..second.1]);
                    out.extend_from_slice(&bytes[first.1..second.0]);
                    out.extend_from_slice(&bytes[first.0..first.1]);
                    out.extend_from_slice(&bytes[second.1..]);
                    *bytes = out;
                }
            }
        }
        _ => {}
    }
}

fn damaged(original: &[u8], damages: &[Damage]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for damage in damages {
        apply(&mut bytes, damage);
    }
    bytes
}

fn damaged_text(original: &str, damages: &[Damage]) -> String {
    String::from_utf8_lossy(&damaged(original.as_bytes(), damages)).into_owned()
}

/// Where the first header section ends (its blank line), if it does.
fn memchr_blank_line(bytes: &[u8]) -> Option<usize> {
    find_all(bytes, b"\n\r\n").into_iter().chain(find_all(bytes, b"\n\n")).min().map(|at| at + 1)
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return Vec::new();
    }
    (0..=haystack.len() - needle.len()).filter(|&i| &haystack[i..i + needle.len()] == needle).collect()
}

/// The first `boundary=` parameter's value.
fn boundary_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let at = find_all(bytes, b"boundary=").into_iter().next()? + b"boundary=".len();
    let rest = &bytes[at..];
    let value: Vec<u8> = match rest.first() {
        Some(b'"') => rest[1..].iter().take_while(|&&b| b != b'"' && b != b'\n').copied().collect(),
        _ => rest.iter().take_while(|&&b| !matches!(b, b';' | b'\r' | b'\n' | b' ')).copied().collect(),
    };
    (!value.is_empty()).then_some(value)
}

// ---------------------------------------------------------------------------------------------
// Mail: whatever arrives is registered.

/// Real-shaped letters: plain, encoded words, multipart with attachments, another charset,
/// nested parts, a reply, a delivery report.
const LETTERS: &[&[u8]] = &[
    b"From: Partner University <io@partner.edu.tr>\r\nTo: University Registry <registry@uni.example>\r\n\
     Subject: =?utf-8?B?RXJhc211cysgbW9iaWxpdHkgMjAyNy8yOA==?=\r\nMessage-ID: <a1@partner.edu.tr>\r\n\
     Date: Tue, 01 Dec 2026 12:00:00 +0300\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
     Dear colleagues,\r\nplease find our proposal for the Erasmus+ exchange.\r\n",
    b"From: =?koi8-r?Q?=F0=C5=D4=D2=CF=D7?= <petrov@msu.example>\r\nTo: registry@uni.example\r\nSubject: Invoice 2026/118\r\n\
     Message-ID: <b2@msu.example>\r\nDate: Mon, 30 Nov 2026 09:15:00 +0300\r\nMIME-Version: 1.0\r\n\
     Content-Type: multipart/mixed; boundary=\"outer-XYZ\"\r\n\r\nPreamble.\r\n--outer-XYZ\r\n\
     Content-Type: multipart/alternative; boundary=inner42\r\n\r\n--inner42\r\nContent-Type: text/plain; charset=windows-1251\r\n\
     Content-Transfer-Encoding: quoted-printable\r\n\r\n=C4=EE=E1=F0=FB=E9 =E4=E5=ED=FC=\r\n, invoice attached.\r\n--inner42\r\n\
     Content-Type: text/html; charset=utf-8\r\n\r\n<p>Invoice attached.</p>\r\n--inner42--\r\n--outer-XYZ\r\n\
     Content-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; filename*=utf-8''%D1%81%D1%87%D0%B5%D1%82.pdf\r\n\
     Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg==\r\n--outer-XYZ\r\n\
     Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"lines.csv\"\r\n\r\nitem,amount\r\nfees,1200\r\n--outer-XYZ--\r\nEpilogue.\r\n",
    b"From: Ministry <info@edu.gov.az>\r\nTo: rector@uni.example, registry@uni.example\r\nCc: hr@uni.example\r\n\
     Subject: Re: Staff appointment\r\nIn-Reply-To: <OUT-2026-000012@uni.example>\r\n\
     References: <c0@edu.gov.az> <OUT-2026-000012@uni.example>\r\nMessage-ID: <c3@edu.gov.az>\r\n\
     Date: Wed, 02 Dec 2026 08:00:00 +0400\r\nAuto-Submitted: no\r\nContent-Type: text/plain; charset=iso-8859-9\r\n\
     Content-Transfer-Encoding: 8bit\r\n\r\nRe: IN-2026-000004 \xfd\xf0\xfe answered.\r\n",
    b"From: Mail Delivery System <MAILER-DAEMON@mx.partner.example>\r\nTo: registry@uni.example\r\n\
     Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <d4@mx.partner.example>\r\n\
     Date: Sat, 28 Nov 2026 09:01:01 +0400\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
     Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn.1\"\r\n\r\n--dsn.1\r\n\
     Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--dsn.1\r\nContent-Type: message/delivery-status\r\n\r\n\
     Reporting-MTA: dns; mx.partner.example\r\n\r\nFinal-Recipient: rfc822; nobody@partner.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\
     --dsn.1\r\nContent-Type: message/rfc822\r\n\r\nFrom: registry@uni.example\r\nTo: nobody@partner.example\r\n\
     Subject: Acknowledgement IN-2026-000001\r\nMessage-ID: <OUT-ack-1@uni.example>\r\n\r\nRegistered.\r\n--dsn.1--\r\n",
    b"Subject: no sender, bare LF\nDate: not a date\nContent-Type: text/plain; charset=\"unknown-8bit\"\n\nline one\nline two\n",
];

/// Header-like text that is not quite mail.
fn mail_like() -> impl Strategy<Value = Vec<u8>> {
    proptest::string::string_regex("([A-Za-z-]{1,14}:[ -~]{0,50}\r?\n){0,6}(\r?\n)?[ -~\r\n]{0,200}")
        .expect("a valid regex")
        .prop_map(String::into_bytes)
}

#[derive(Debug, Clone)]
enum MailInput {
    Damaged { letter: usize, damages: Vec<Damage> },
    Random(Vec<u8>),
    MailLike(Vec<u8>),
}

impl MailInput {
    fn bytes(&self) -> Vec<u8> {
        match self {
            MailInput::Damaged { letter, damages } => damaged(LETTERS[letter % LETTERS.len()], damages),
            MailInput::Random(bytes) | MailInput::MailLike(bytes) => bytes.clone(),
        }
    }
}

fn mail_input() -> impl Strategy<Value = MailInput> {
    prop_oneof![
        6 => (any::<usize>(), damages()).prop_map(|(letter, damages)| MailInput::Damaged { letter, damages }),
        2 => proptest::collection::vec(any::<u8>(), 0..2048).prop_map(MailInput::Random),
        2 => mail_like().prop_map(MailInput::MailLike),
    ]
}

#[test]
fn random_and_damaged_mail_never_panics_and_always_ends_in_the_register() {
    let runtime = runtime();
    let (store, _url, _guard) = runtime.block_on(support::fresh_store());
    let policy = support::shipped_policy();
    let registered = AtomicUsize::new(0);
    let unparsed = AtomicUsize::new(0);
    let distinct: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let at = seed::now();

    check("mail", MAIL_CASES, proptest::collection::vec(mail_input(), 1..4), |inputs| {
        let raws: Vec<Vec<u8>> = inputs.iter().map(MailInput::bytes).collect();
        let arrivals: Vec<Arrival> = raws
            .iter()
            .map(|raw| {
                // The listener's other reading, of a letter over the size limit: its head only.
                let head = &raw[..raw.len().min(512)];
                read_headers_only(head, raw.len() as u64, 256);
                Arrival {
                    letter: read_letter(raw),
                    raw: raw.clone(),
                    source: Source::File { path: support::unique("prop.eml") },
                    received_at: at,
                }
            })
            .collect();
        let outcomes = runtime
            .block_on(store.register_incoming(arrivals, &policy, &support::reminder_policy(), at))
            .map_err(|e| TestCaseError::fail(format!("registering failed: {e}")))?;
        prop_assert_eq!(outcomes.len(), raws.len(), "one outcome per letter");
        for (raw, outcome) in raws.iter().zip(&outcomes) {
            let new = distinct.lock().expect("lock").insert(fingerprint(raw));
            match outcome {
                Outcome::Registered { flags, .. } => {
                    prop_assert!(new, "bytes registered before got a second number: {outcome:?}");
                    let not_mail = check_mail(raw).is_err();
                    prop_assert_eq!(
                        flags.contains(&"unparsed"),
                        not_mail,
                        "the `unparsed` flag agrees with check_mail ({:?}): flags {:?}",
                        check_mail(raw),
                        flags
                    );
                    registered.fetch_add(1, Ordering::Relaxed);
                    unparsed.fetch_add(usize::from(not_mail), Ordering::Relaxed);
                }
                Outcome::SameLetter { .. } => prop_assert!(!new, "new bytes were taken for a letter registered before"),
                Outcome::AlreadyRecorded { .. } => prop_assert!(false, "a file is never an already recorded IMAP message"),
            }
        }
        Ok(())
    });

    let (checked, problems) = runtime.block_on(store.verify()).expect("verify");
    let distinct = distinct.lock().expect("lock").len();
    assert!(problems.is_empty(), "verify found problems after the run: {problems:?}");
    assert_eq!(checked, distinct, "every distinct input is one document, and verify read them all");
    println!(
        "mail: {} letters registered ({} not mail, flagged unparsed), all verified",
        registered.load(Ordering::Relaxed),
        unparsed.load(Ordering::Relaxed)
    );
    runtime.block_on(store.close());
}

/// Reading alone, many more cases than registering: what `read_letter` promises of any bytes.
#[test]
fn reading_random_and_damaged_mail_never_panics_and_keeps_its_promises() {
    let flagged = AtomicUsize::new(0);
    check("reading mail", READ_CASES, mail_input(), |input| {
        let raw = input.bytes();
        let letter = read_letter(&raw);
        prop_assert_eq!(&letter.sha256, &fingerprint(&raw), "the fingerprint is of the bytes as received");
        prop_assert_eq!(letter.size, raw.len());
        prop_assert_eq!(letter.flags.iter().any(|f| f.name() == "unparsed"), check_mail(&raw).is_err(), "unparsed agrees with check_mail");
        let texts = [&letter.subject, &letter.body_text].into_iter().chain(letter.headers.iter().flat_map(|(n, v)| [n, v]));
        for text in texts {
            prop_assert!(!text.contains('\0'), "a NUL reached the letter's text: {text:?}");
        }
        for attachment in &letter.attachments {
            let name = &attachment.name;
            prop_assert!(
                !name.is_empty()
                    && !name.contains(['/', '\\'])
                    && !name.chars().any(char::is_control)
                    && !name.starts_with('.')
                    && name.chars().count() <= 180,
                "an attachment name that is not safe to show or could be a path: {name:?}"
            );
        }
        flagged.fetch_add(usize::from(!letter.flags.is_empty()), Ordering::Relaxed);
        Ok(())
    });
    println!("reading mail: {} of {READ_CASES} letters flagged for review", flagged.load(Ordering::Relaxed));
}

/// The first letter the mail property found: a delivery report whose parts were copied into
/// one another, so that a message/rfc822 part ends at its parent's boundary. mail-parser
/// meets a `debug_assert!` there (see the mail-parser profile in Cargo.toml).
#[test]
fn a_delivery_report_with_parts_cut_by_their_boundaries_is_registered() {
    let raw = damaged(LETTERS[3], &[Damage::Splice { from: 352, len: 277, to: 508 }]);
    assert!(find_all(&raw, b"--dsn.1").len() > 5, "the damage is the one found: {}", String::from_utf8_lossy(&raw));
    let runtime = runtime();
    let (store, _url, _guard) = runtime.block_on(support::fresh_store());
    let arrival = Arrival { letter: read_letter(&raw), raw, source: Source::File { path: "dsn.eml".into() }, received_at: seed::now() };
    let outcomes = runtime
        .block_on(store.register_incoming(vec![arrival], &support::shipped_policy(), &support::reminder_policy(), seed::now()))
        .expect("registered");
    assert!(matches!(outcomes.as_slice(), [Outcome::Registered { .. }]), "{outcomes:?}");
    runtime.block_on(store.close());
}

// ---------------------------------------------------------------------------------------------
// Rule files: they load, or every problem names its file and line.

/// Lines a rule file is made of, right and wrong.
fn rule_line() -> impl Strategy<Value = String> {
    let keys = proptest::sample::select(vec![
        "name",
        "from",
        "to",
        "cc",
        "subject",
        "body",
        "attachment_name",
        "attachment_type",
        "has_attachment",
        "size_over",
        "size_under",
        "header",
        "any",
        "all",
        "not",
        "unit",
        "classification",
        "confidentiality",
        "tags",
        "due_in_working_days",
        "acknowledge",
        "forward",
        "notify_room",
        "stop",
        "id",
        "default",
        "head",
        "room",
        "emial",
    ]);
    let values = proptest::sample::select(vec![
        "\"text\"",
        "\"\"",
        "[\"*.edu.tr\", \"erasmus\"]",
        "[]",
        "3",
        "-1",
        "99999999999999999999",
        "1.5",
        "true",
        "2026-12-01",
        "\"/(unclosed/\"",
        "\"/a{99999}/\"",
        "\"*@*\"",
        "{ name = \"X-Mailer\", value = \"bot\" }",
        "[{ subject = \"a\" }, { from = \"b\" }]",
        "{ subject = [\"x\"] }",
        "\"registry\"",
        "\"international\"",
        "\"secret\"",
        "\"ack\"",
        "[[1, 2], \"x\"]",
    ]);
    prop_oneof![
        1 => Just("[[rule]]".to_string()),
        1 => Just("[[unit]]".to_string()),
        1 => Just("[rule]".to_string()),
        6 => (keys, values).prop_map(|(key, value)| format!("{key} = {value}")),
        1 => "[ -~]{0,40}",
    ]
}

#[derive(Debug, Clone)]
enum RuleEdit {
    Damaged { file: usize, damages: Vec<Damage> },
    Written { file: usize, lines: Vec<String> },
    Appended { file: usize, lines: Vec<String> },
}

fn rule_edit() -> impl Strategy<Value = RuleEdit> {
    let lines = || proptest::collection::vec(rule_line(), 0..14);
    prop_oneof![
        3 => (any::<usize>(), damages()).prop_map(|(file, damages)| RuleEdit::Damaged { file, damages }),
        1 => (any::<usize>(), lines()).prop_map(|(file, lines)| RuleEdit::Written { file, lines }),
        2 => (any::<usize>(), lines()).prop_map(|(file, lines)| RuleEdit::Appended { file, lines }),
    ]
}

#[test]
fn damaged_and_random_rule_files_load_or_say_which_line_is_wrong() {
    let shipped = chancery::rule_files::read_rule_files(&seed::manifest_dir().join("mail-rules")).expect("shipped rules read");
    assert!(shipped.len() > 2 && shipped.iter().any(|(name, _)| name == "units.toml"), "the shipped rules are there: {shipped:?}");
    RuleBook::parse(&shipped).unwrap_or_else(|e| panic!("the shipped rules load: {e:?}"));
    let letters: Vec<_> = LETTERS.iter().map(|raw| read_letter(raw)).collect();
    let (loaded, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));

    check("rules", RULE_CASES, rule_edit(), |edit| {
        let mut files = shipped.clone();
        let (file, text) = match &edit {
            RuleEdit::Damaged { file, damages } => (file % files.len(), damaged_text(&files[file % files.len()].1, damages)),
            RuleEdit::Written { file, lines } => (file % files.len(), lines.join("\n")),
            RuleEdit::Appended { file, lines } => (file % files.len(), format!("{}\n{}\n", files[file % files.len()].1, lines.join("\n"))),
        };
        files[file].1 = text;
        match RuleBook::parse(&files) {
            Ok(book) => {
                for letter in &letters {
                    book.route(letter);
                }
                loaded.fetch_add(1, Ordering::Relaxed);
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty(), "a refusal names at least one problem");
                for error in &errors {
                    prop_assert!(!error.message.trim().is_empty(), "an empty message: {error:?}");
                    // What a whole file lacks (no units, no default class) is at line 0.
                    let whole_book = ["units.toml", "file-plan.toml", "mail-rules"].contains(&error.file.as_str());
                    let line_count = files.iter().find(|(name, _)| *name == error.file).map_or(0, |(_, text)| text.lines().count());
                    prop_assert!(
                        (error.line >= 1 && error.line <= line_count + 1) || (error.line == 0 && whole_book),
                        "the error names a line of its file ({} lines): {error}",
                        line_count
                    );
                }
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    });
    println!("rules: {} edits loaded, {} refused with their lines", loaded.load(Ordering::Relaxed), refused.load(Ordering::Relaxed));
}

// ---------------------------------------------------------------------------------------------
// Configuration: it loads or says what is wrong in one line.

fn config_line() -> impl Strategy<Value = String> {
    let sections = proptest::sample::select(vec![
        "imap",
        "database",
        "register",
        "rules",
        "smtp",
        "matrix",
        "assistant",
        "university",
        "reminders",
        "http",
        "log",
        "instance",
        "nope",
    ]);
    let keys = proptest::sample::select(vec![
        "enabled",
        "host",
        "port",
        "tls",
        "user",
        "password",
        "password_file",
        "mailbox",
        "url",
        "timezone",
        "default_unit",
        "default_confidentiality",
        "max_message_bytes",
        "holidays",
        "dir",
        "from",
        "own_domains",
        "hour",
        "visa_lead_days",
        "digest_day",
        "listen",
        "public_url",
        "level",
        "name",
        "idle_renew_secs",
        "reconnect_max_secs",
        "fetch_batch_bytes",
        "mark",
        "keyword",
        "move_to",
        "homeserver",
        "state_dir",
        "allow_plaintext",
    ]);
    let values = proptest::sample::select(vec![
        "true",
        "\"none\"",
        "\"implicit\"",
        "0",
        "-1",
        "65536",
        "99999999999999999999",
        "\"Asia/Baku\"",
        "\"Mars/Olympus\"",
        "\"sqlite://x.db\"",
        "\"postgres://\"",
        "[\"2027-13-45\"]",
        "[]",
        "\"\"",
        "\"0.0.0.0:99999\"",
        "\"monday\"",
        "\"someday\"",
        "25",
        "[1, 2, 3]",
        "\"secret\"",
        "1.5",
        "{}",
        "\"10.0.0.1\"",
        "\"localhost\"",
    ]);
    prop_oneof![
        1 => sections.prop_map(|s| format!("[{s}]")),
        5 => (keys, values).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => "[ -~]{0,40}",
    ]
}

#[derive(Debug, Clone)]
enum ConfigText {
    Damaged(Vec<Damage>),
    Appended(Vec<String>),
    Written(Vec<String>),
}

#[test]
fn damaged_and_random_configuration_loads_or_says_what_is_wrong_in_one_line() {
    let example = std::fs::read_to_string(seed::manifest_dir().join("chancery.example.toml")).expect("the example configuration");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chancery.toml");
    std::fs::write(&path, &example).expect("write");
    Config::load(&path, true).unwrap_or_else(|e| panic!("the example configuration loads: {e}"));
    let (loaded, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let lines = || proptest::collection::vec(config_line(), 0..16);
    let text = prop_oneof![
        3 => damages().prop_map(ConfigText::Damaged),
        2 => lines().prop_map(ConfigText::Appended),
        1 => lines().prop_map(ConfigText::Written),
    ];

    check("configuration", CONFIG_CASES, text, |text| {
        let written = match &text {
            ConfigText::Damaged(damages) => damaged(example.as_bytes(), damages),
            ConfigText::Appended(lines) => format!("{example}\n{}\n", lines.join("\n")).into_bytes(),
            ConfigText::Written(lines) => lines.join("\n").into_bytes(),
        };
        std::fs::write(&path, written).map_err(|e| TestCaseError::fail(format!("write: {e}")))?;
        match Config::load(&path, true) {
            Ok(_) => loaded.fetch_add(1, Ordering::Relaxed),
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.trim().is_empty() && !message.contains('\n'), "one line that says what is wrong: {message:?}");
                refused.fetch_add(1, Ordering::Relaxed)
            }
        };
        Ok(())
    });
    println!("configuration: {} loaded, {} refused", loaded.load(Ordering::Relaxed), refused.load(Ordering::Relaxed));
}

// ---------------------------------------------------------------------------------------------
// Chat: every command line gets an answer (a reply or a usage line), never a panic.

#[derive(Debug, Clone)]
enum CommandLine {
    /// An example of `commands/`, damaged.
    Damaged {
        example: usize,
        damages: Vec<Damage>,
    },
    /// A command name followed by words people might type.
    Words {
        command: usize,
        words: Vec<String>,
    },
    Random(String),
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "add",
            "list",
            "show",
            "done",
            "cancel",
            "assign",
            "note",
            "bind",
            "set",
            "send",
            "approve",
            "notify",
            "edit",
            "IN-2026-000001",
            "IN-2026-000002",
            "OUT-2026-000001",
            "IN-2026-999999",
            "IN-0-0",
            "2026-12-01",
            "2026-02-30",
            "tomorrow",
            "in 3 days",
            "09:00",
            "25:61",
            "-1",
            "0",
            "99999999999999999999",
            "\"",
            "\"quoted text\"",
            "“curly”",
            "due=2026-12-24",
            "unit=international",
            "unit=",
            "=x",
            "kind=schengen",
            "@clerk:uni.example",
            "@nobody:x",
            "all",
            "--help",
            "ə",
            "🙂",
            "\u{202e}",
            "|",
            "`",
            "*",
            "%",
            "'; DROP TABLE documents; --",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,12}",
        "\\PC{0,8}",
    ]
}

#[test]
fn damaged_and_random_chat_commands_get_a_reply_never_a_panic() {
    let runtime = runtime();
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).unwrap_or_else(|e| panic!("{e}"));
    let settings = seed::settings();
    let (store, _url, _guard) = runtime.block_on(support::fresh_store());
    runtime.block_on(seed::seed(&store));
    let examples: Vec<String> = catalog.specs().iter().flat_map(|spec| spec.examples.iter().map(|e| e.input.clone())).collect();
    let names: Vec<String> = catalog.specs().iter().map(|spec| spec.name.clone()).collect();
    assert!(examples.len() > 20, "the command files have examples: {}", examples.len());
    let senders =
        [seed::REGISTRAR, seed::ADMIN, seed::CLERK, seed::IRO_MANAGER, seed::IRO_OFFICER, seed::HR_OFFICER, "@stranger:else.example"];
    let (answered, internal) = (AtomicUsize::new(0), Mutex::new(Vec::new()));
    let line = prop_oneof![
        4 => (any::<usize>(), damages()).prop_map(|(example, damages)| CommandLine::Damaged { example, damages }),
        3 => (any::<usize>(), proptest::collection::vec(word(), 0..7)).prop_map(|(command, words)| CommandLine::Words { command, words }),
        1 => "!?\\PC{0,60}".prop_map(CommandLine::Random),
    ];

    check("commands", COMMAND_CASES, (line, any::<usize>()), |(line, sender)| {
        let text = match &line {
            CommandLine::Damaged { example, damages } => damaged_text(&examples[example % examples.len()], damages),
            CommandLine::Words { command, words } => format!("!{} {}", names[command % names.len()], words.join(" ")),
            CommandLine::Random(text) => text.clone(),
        };
        let sender = senders[sender % senders.len()];
        let context = Context { store: &store, catalog: &catalog, settings: &settings };
        let request = Request { sender, text: &text, audience: Audience::Private, room: Some("!properties:uni.example"), now: seed::now() };
        let reply = runtime.block_on(answer(&context, &request));
        let is_command = text.trim().strip_prefix('!').is_some_and(|rest| rest.starts_with(char::is_alphabetic));
        if is_command {
            let reply = reply.ok_or_else(|| TestCaseError::fail(format!("no answer to the command {text:?}")))?;
            prop_assert!(!reply.markdown.trim().is_empty(), "an empty answer to {text:?}");
            if reply.markdown.contains("Something went wrong on my side") {
                internal.lock().expect("lock").push(format!("{sender}: {text:?}"));
            }
            answered.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    let internal = internal.into_inner().expect("lock");
    println!("commands: {} command lines answered, {} with an internal error", answered.load(Ordering::Relaxed), internal.len());
    assert!(internal.is_empty(), "command lines that failed inside instead of answering:\n{}", internal.join("\n"));
    runtime.block_on(store.close());
}

/// A letter the mail property found that PostgreSQL refused whole: NULs where the letter's
/// text did not clean them.
#[test]
fn a_letter_with_nul_bytes_is_registered() {
    let damages = [
        Damage::DuplicateLine { line: 10620041316537834634 },
        Damage::Insert { at: 3476113630441696794, bytes: vec![0; 13] },
        Damage::Insert { at: 870994456722975621, bytes: vec![0] },
    ];
    let raw = damaged(LETTERS[8499665919958317503 % LETTERS.len()], &damages);
    let runtime = runtime();
    let (store, _url, _guard) = runtime.block_on(support::fresh_store());
    let arrival = Arrival { letter: read_letter(&raw), raw, source: Source::File { path: "nul.eml".into() }, received_at: seed::now() };
    let outcomes = runtime
        .block_on(store.register_incoming(vec![arrival], &support::shipped_policy(), &support::reminder_policy(), seed::now()))
        .expect("registered");
    assert!(matches!(outcomes.as_slice(), [Outcome::Registered { .. }]), "{outcomes:?}");
    runtime.block_on(store.close());
}

/// The first command line the chat property found: PostgreSQL refuses a NUL in text, and the
/// reminder's note carried one into the database.
#[test]
fn a_command_line_with_a_nul_byte_is_answered() {
    let runtime = runtime();
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).unwrap_or_else(|e| panic!("{e}"));
    let settings = seed::settings();
    let (store, _url, _guard) = runtime.block_on(support::fresh_store());
    runtime.block_on(seed::seed(&store));
    let context = Context { store: &store, catalog: &catalog, settings: &settings };
    let text = "!remind me 2026-12-15 14:30 pay the \0conference fee";
    let request = Request { sender: seed::ADMIN, text, audience: Audience::Private, room: None, now: seed::now() };
    let reply = runtime.block_on(answer(&context, &request)).map(|r| r.markdown).unwrap_or_default();
    assert!(!reply.is_empty() && !reply.contains("Something went wrong"), "{reply}");
    assert!(!reply.contains('\0'), "{reply:?}");
    runtime.block_on(store.close());
}
