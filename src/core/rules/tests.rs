use chrono::NaiveDate;

use super::*;
use crate::core::confidentiality::Confidentiality;
use crate::core::letter::read_letter;

const UNITS: &str = r##"
[[unit]]
id = "registry"
name = { en = "General Documents", az = "Ümumi şöbə", ru = "Общий отдел" }
email = "registry@uni.example"
room = "#registry:uni.example"
head = { name = "Aygün Məmmədova", email = "a.mammadova@uni.example" }
default = true

[[unit]]
id = "international"
name = { en = "International Relations", az = "Beynəlxalq əlaqələr", ru = "Международные связи" }
email = "international@uni.example"
room = "#international:uni.example"
head = { name = "Leyla Əliyeva", email = "l.aliyeva@uni.example" }

[[unit]]
id = "finance"
name = { en = "Finance", az = "Maliyyə", ru = "Финансы" }
email = "finance@uni.example"
room = "#finance:uni.example"
head = { name = "Rəşad Quliyev", email = "r.guliyev@uni.example" }
"##;

fn files(rules: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut files = vec![("units.toml".to_string(), UNITS.to_string())];
    files.extend(rules.iter().map(|(name, text)| (name.to_string(), text.to_string())));
    files
}

fn book(rules: &str) -> RuleBook {
    match RuleBook::parse(&files(&[("20-test.toml", rules)])) {
        Ok(book) => book,
        Err(errors) => panic!("rules do not parse:\n{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
    }
}

fn errors_of(rules: &[(&str, &str)]) -> Vec<String> {
    match RuleBook::parse(&files(rules)) {
        Ok(_) => panic!("rules parse but should not"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn error_of(rules: &str) -> Vec<String> {
    errors_of(&[("20-test.toml", rules)])
}

/// A plain-text letter from header lines and a body.
fn mail(headers: &[(&str, &str)], body: &str) -> Letter {
    let mut raw = String::new();
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    raw.push_str(&body.replace('\n', "\r\n"));
    read_letter(raw.as_bytes())
}

fn simple(from: &str, subject: &str) -> Letter {
    mail(&[("From", from), ("To", "registry@uni.example"), ("Subject", subject)], "Hello.\n")
}

/// A letter with one attachment.
fn with_attachment(subject: &str, file_name: &str, media_type: &str, content: &[u8]) -> Letter {
    use std::fmt::Write as _;
    let mut raw = String::new();
    let _ = write!(
        raw,
        "From: Supplier <billing@supplies.example>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n\
         --b1\r\nContent-Type: {media_type}; name=\"{file_name}\"\r\nContent-Disposition: attachment; filename=\"{file_name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n"
    );
    raw.push_str(&base64(content));
    raw.push_str("\r\n--b1--\r\n");
    read_letter(raw.as_bytes())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// units and defaults

#[test]
fn reads_units_and_rules() {
    let book = book(
        r#"
[[rule]]
name = "Partners"
from = "*@uni-x.edu.tr"
unit = "international"
"#,
    );
    assert_eq!(book.rule_count(), 1);
    assert_eq!(book.units().len(), 3);
    assert_eq!(book.default_unit().id, "registry");
    let unit = book.unit("international").unwrap();
    assert_eq!(unit.name.az, "Beynəlxalq əlaqələr");
    assert_eq!(unit.room, "#international:uni.example");
    assert_eq!(unit.head.email, "l.aliyeva@uni.example");
    assert!(book.unit("nowhere").is_none());
}

#[test]
fn letters_no_rule_routes_go_to_the_default_unit() {
    let book = book("[[rule]]\nname = \"Partners\"\nfrom = \"*@uni-x.edu.tr\"\nunit = \"international\"\n");
    let routing = book.route(&simple("someone@elsewhere.org", "Hello"));
    assert_eq!(routing.unit, "registry");
    assert!(routing.is_default());
    assert_eq!(routing.rule, None);
    assert_eq!(routing.acknowledge.as_deref(), Some("default"));
    assert!(!routing.forward && !routing.notify_room);
    assert_eq!(routing.confidentiality, None);
    assert!(routing.reasons.is_empty());
}

// ---------------------------------------------------------------------------------------
// conditions

#[test]
fn address_globs_cover_the_whole_address() {
    let book = book(
        r#"
[[rule]]
name = "Uni X"
from = "*@uni-x.edu.tr"
unit = "international"

[[rule]]
name = "Turkish universities"
from = "*.edu.tr"
tags = ["turkey"]

[[rule]]
name = "German universities"
from = "*@uni-*.de"
tags = ["germany"]
"#,
    );
    let routing = book.route(&simple("Prof. Kaya <Kaya@Uni-X.EDU.TR>", "Exchange"));
    assert_eq!(routing.unit, "international");
    assert_eq!(routing.rule.as_deref(), Some("Uni X"));
    assert_eq!(routing.reasons[0].condition, "from matches *@uni-x.edu.tr");
    assert_eq!(routing.reasons[0].matched, "Kaya@Uni-X.EDU.TR");
    assert_eq!(routing.tags, vec!["turkey"]);

    assert_eq!(book.route(&simple("a@metu.edu.tr", "x")).tags, vec!["turkey"]);
    assert!(book.route(&simple("a@uni-x.edu.tr.evil.example", "x")).is_default());
    assert!(book.route(&simple("a@notuni-x.edu.tr", "x")).is_default());
    let german = book.route(&simple("dekan@uni-bonn.de", "x"));
    assert_eq!(german.tags, vec!["germany"]);
    assert_eq!(german.reasons[0].condition, "from matches *@uni-*.de");
    assert!(book.route(&simple("dekan@uni-bonn.de.example", "x")).tags.is_empty());
}

#[test]
fn plain_text_in_addresses_looks_at_names_too_but_globs_do_not() {
    let book = book(
        r#"
[[rule]]
name = "Ministry"
from = "ministry of science"
tags = ["ministry"]

[[rule]]
name = "Glob on names"
from = "*Kaya*"
tags = ["kaya"]
"#,
    );
    let routing = book.route(&simple("Ministry of Science and Education <office@edu.gov.az>", "Order"));
    assert_eq!(routing.tags, vec!["ministry"]);
    assert_eq!(routing.reasons[0].matched, "Ministry of Science and Education <office@edu.gov.az>");
    assert!(book.route(&simple("Ayşe Kaya <ayse@x.example>", "x")).tags.is_empty());
    assert_eq!(book.route(&simple("kaya@x.example", "x")).tags, vec!["kaya"]);
}

#[test]
fn to_and_cc() {
    let book = book(
        r#"
[[rule]]
name = "To international"
to = "international@uni.example"
unit = "international"

[[rule]]
name = "Copied to finance"
cc = "*@finance.uni.example"
tags = ["finance-cc"]
"#,
    );
    let letter = mail(
        &[
            ("From", "a@x.example"),
            ("To", "Registry <registry@uni.example>, international@uni.example"),
            ("Cc", "chief@finance.uni.example"),
            ("Subject", "s"),
        ],
        "b\n",
    );
    let routing = book.route(&letter);
    assert_eq!(routing.unit, "international");
    assert_eq!(routing.tags, vec!["finance-cc"]);
    assert_eq!(routing.reasons[1].matched, "chief@finance.uni.example");
}

#[test]
fn subject_text_ignores_case_and_the_turkic_i_and_yo() {
    let book = book(
        r#"
[[rule]]
name = "Confidential"
subject = ["confidential", "məxfi", "конфиденциально"]
confidentiality = "confidential"

[[rule]]
name = "Invoices"
subject = "счёт на оплату"
unit = "finance"
"#,
    );
    let routing = book.route(&simple("a@x.example", "MƏXFİ: şəxsi iş"));
    assert_eq!(routing.confidentiality, Some(Confidentiality::Confidential));
    assert_eq!(routing.reasons[0].condition, "subject contains \"məxfi\"");
    assert_eq!(routing.reasons[0].matched, "MƏXFİ");
    assert_eq!(book.route(&simple("a@x.example", "КОНФИДЕНЦИАЛЬНО")).confidentiality, Some(Confidentiality::Confidential));
    assert_eq!(book.route(&simple("a@x.example", "Strictly Confidential")).confidentiality, Some(Confidentiality::Confidential));
    let invoice = book.route(&simple("a@x.example", "Счет на  оплату №17"));
    assert_eq!(invoice.unit, "finance");
    assert_eq!(invoice.reasons[0].matched, "Счет на оплату");
    assert!(book.route(&simple("a@x.example", "Hello")).is_default());
}

#[test]
fn body_text_matches_across_line_breaks() {
    let book = book("[[rule]]\nname = \"Grant\"\nbody = \"travel grant\"\ntags = [\"grant\"]\n");
    let letter = mail(&[("From", "a@x.example"), ("Subject", "Question")], "We would like to apply for the travel\ngrant of 2026.\n");
    let routing = book.route(&letter);
    assert_eq!(routing.tags, vec!["grant"]);
    assert_eq!(routing.reasons[0].condition, "body contains \"travel grant\"");
    assert_eq!(routing.reasons[0].matched, "travel grant");
    let other = mail(&[("From", "a@x.example"), ("Subject", "travel grant")], "Nothing here.\n");
    assert!(book.route(&other).tags.is_empty(), "the body rule must not look at the subject");
}

#[test]
fn regular_expressions() {
    let book = book(
        r#"
[[rule]]
name = "Contract numbers"
subject = 'regex:\bcontract\s+no\.?\s*\d{3,}'
tags = ["contract"]

[[rule]]
name = "Word visa"
subject = 'regex:\bvisas?\b'
tags = ["visa"]
"#,
    );
    let routing = book.route(&simple("a@x.example", "Re: CONTRACT No. 20417 signed"));
    assert_eq!(routing.tags, vec!["contract"]);
    assert_eq!(routing.reasons[0].condition, r"subject matches regex:\bcontract\s+no\.?\s*\d{3,}");
    assert_eq!(routing.reasons[0].matched, "CONTRACT No. 20417");
    assert_eq!(book.route(&simple("a@x.example", "Visa support letter")).tags, vec!["visa"]);
    assert!(book.route(&simple("a@x.example", "It is advisable to")).tags.is_empty());
}

#[test]
fn attachments_and_sizes() {
    let book = book(
        r#"
[[rule]]
name = "PDF by name"
attachment_name = "*.pdf"
tags = ["pdf-name"]

[[rule]]
name = "PDF by type"
attachment_type = "application/pdf"
tags = ["pdf-type"]

[[rule]]
name = "Spreadsheets"
attachment_type = "application/vnd.*"
tags = ["office"]

[[rule]]
name = "With attachment"
has_attachment = true
tags = ["attached"]

[[rule]]
name = "Without attachment"
has_attachment = false
tags = ["bare"]

[[rule]]
name = "Big"
size_over = "2KB"
tags = ["big"]

[[rule]]
name = "Small"
size_under = "2KB"
tags = ["small"]
"#,
    );
    let pdf = with_attachment("Invoice", "Faktura 17.PDF", "application/pdf", &[b'%'; 3000]);
    let routing = book.route(&pdf);
    assert_eq!(routing.tags, vec!["pdf-name", "pdf-type", "attached", "big"]);
    assert_eq!(routing.reasons[0].matched, "Faktura 17.PDF");
    assert_eq!(routing.reasons[2].condition, "has_attachment = true");
    assert_eq!(routing.reasons[3].condition, "size over 2 KB");

    let sheet = with_attachment("Budget", "budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK");
    assert_eq!(book.route(&sheet).tags, vec!["office", "attached", "small"]);
    assert_eq!(book.route(&simple("a@x.example", "Hi")).tags, vec!["bare", "small"]);
}

#[test]
fn headers_by_value_and_by_presence() {
    let book = book(
        r#"
[[rule]]
name = "Urgent"
header = { name = "X-Priority", value = "regex:^1" }
tags = ["urgent"]

[[rule]]
name = "Automatic"
header = { name = "auto-submitted", value = ["auto-generated", "auto-replied"] }
acknowledge = false

[[rule]]
name = "Mailing lists"
header = { name = "List-Id" }
tags = ["list"]
"#,
    );
    let letter = mail(
        &[
            ("From", "a@x.example"),
            ("Subject", "s"),
            ("X-Priority", "1 (Highest)"),
            ("Auto-Submitted", "auto-replied"),
            ("List-Id", "<news.x.example>"),
        ],
        "b\n",
    );
    let routing = book.route(&letter);
    assert_eq!(routing.tags, vec!["urgent", "list"]);
    assert_eq!(routing.acknowledge, None);
    assert_eq!(routing.reasons[0].condition, "header X-Priority matches regex:^1");
    assert_eq!(routing.reasons[0].matched, "1");
    assert_eq!(routing.reasons[1].condition, "header auto-submitted contains \"auto-replied\"");
    assert_eq!(routing.reasons[2].condition, "header List-Id is present");
    let plain = mail(&[("From", "a@x.example"), ("Subject", "s"), ("X-Priority", "3"), ("Auto-Submitted", "no")], "b\n");
    let routing = book.route(&plain);
    assert!(routing.tags.is_empty());
    assert_eq!(routing.acknowledge.as_deref(), Some("default"));
}

#[test]
fn any_all_and_not() {
    let book = book(
        r#"
[[rule]]
name = "Erasmus from partners, not from us"
any = [ { subject = "erasmus" }, { body = "erasmus+" } ]
all = [ { not = { from = "*@uni.example" } }, { not = { subject = "newsletter" } } ]
unit = "international"

[[rule]]
name = "Not from us at all"
not = { from = ["*@uni.example", "*.uni.example"] }
tags = ["external"]
"#,
    );
    let from_partner = simple("a@uni-x.edu.tr", "Erasmus nominations");
    let routing = book.route(&from_partner);
    assert_eq!(routing.unit, "international");
    assert_eq!(routing.tags, vec!["external"]);
    let conditions: Vec<&str> = routing.reasons.iter().map(|r| r.condition.as_str()).collect();
    assert_eq!(
        conditions,
        vec![
            "subject contains \"erasmus\"",
            "not (from matches *@uni.example)",
            "not (subject contains \"newsletter\")",
            "not (from matches *@uni.example or from matches *.uni.example)"
        ]
    );
    let in_body = mail(&[("From", "a@uni-x.edu.tr"), ("Subject", "Call")], "The Erasmus+ call is open.\n");
    assert_eq!(book.route(&in_body).unit, "international");
    assert!(book.route(&simple("staff@uni.example", "Erasmus nominations")).is_default());
    assert!(book.route(&simple("staff@dept.uni.example", "Hello")).tags.is_empty());
    assert!(book.route(&simple("a@uni-x.edu.tr", "Erasmus newsletter")).is_default());
}

// ---------------------------------------------------------------------------------------
// order, overriding, stop

#[test]
fn later_rules_override_and_tags_add_up() {
    let book = book(
        r#"
[[rule]]
name = "Partners"
from = "*.edu.tr"
unit = "international"
classification = "05-01"
due_in_working_days = 10
forward = true
notify_room = true
tags = ["partner"]

[[rule]]
name = "Invoices"
subject = "invoice"
unit = "finance"
classification = "03-02"
due_in_working_days = 5
acknowledge = "invoice"
notify_room = false
tags = ["invoice", "partner"]
"#,
    );
    let routing = book.route(&simple("a@metu.edu.tr", "Invoice for the summer school"));
    assert_eq!(routing.unit, "finance");
    assert_eq!(routing.rule.as_deref(), Some("Invoices"));
    assert_eq!(routing.classification.as_deref(), Some("03-02"));
    assert_eq!(routing.due_in_working_days, Some(5));
    assert_eq!(routing.acknowledge.as_deref(), Some("invoice"));
    assert!(routing.forward, "the second rule does not say, so the first one's forward stays");
    assert!(!routing.notify_room);
    assert_eq!(routing.tags, vec!["partner", "invoice"]);
    assert_eq!(routing.reasons.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(), vec!["Partners", "Invoices"]);
}

#[test]
fn stop_ends_the_evaluation() {
    let rules = |stop: bool| {
        format!(
            "[[rule]]\nname = \"Erasmus\"\nsubject = \"erasmus\"\nunit = \"international\"\nstop = {stop}\n\n\
             [[rule]]\nname = \"Payments\"\nsubject = \"payment\"\nunit = \"finance\"\n"
        )
    };
    let letter = simple("a@x.example", "Erasmus grant payment");
    assert_eq!(book(&rules(true)).route(&letter).unit, "international");
    assert_eq!(book(&rules(false)).route(&letter).unit, "finance");
    // A rule that does not match does not stop anything.
    assert_eq!(book(&rules(true)).route(&simple("a@x.example", "payment")).unit, "finance");
}

#[test]
fn rule_files_are_read_in_name_order() {
    let first = "[[rule]]\nname = \"A\"\nsubject = \"x\"\nunit = \"finance\"\n";
    let second = "[[rule]]\nname = \"B\"\nsubject = \"x\"\nunit = \"international\"\n";
    // Given out of order: 10 comes before 20 whatever the order of the list.
    let book = RuleBook::parse(&files(&[("20-b.toml", second), ("10-a.toml", first), ("README.md", "not rules")])).unwrap();
    assert_eq!(book.rule_names().collect::<Vec<_>>(), vec!["A", "B"]);
    assert_eq!(book.route(&simple("a@x.example", "x")).unit, "international");
}

#[test]
fn confidentiality_is_never_lowered() {
    let book = book(
        r#"
[[rule]]
name = "Secret"
subject = "secret"
confidentiality = "secret"

[[rule]]
name = "Partners are internal"
from = "*.edu.tr"
confidentiality = "internal"

[[rule]]
name = "Newsletters are public"
subject = "newsletter"
confidentiality = "public"
"#,
    );
    assert_eq!(book.route(&simple("a@metu.edu.tr", "Secret newsletter")).confidentiality, Some(Confidentiality::Secret));
    assert_eq!(book.route(&simple("a@metu.edu.tr", "Newsletter")).confidentiality, Some(Confidentiality::Internal));
    assert_eq!(book.route(&simple("a@x.example", "Newsletter")).confidentiality, Some(Confidentiality::Public));
}

#[test]
fn only_woken_rules_are_decided_but_the_outcome_is_the_same() {
    let book = book(
        r#"
[[rule]]
name = "Not ours"
not = { from = "*@uni.example" }
tags = ["external"]

[[rule]]
name = "Big without pdf"
size_over = "1KB"
not = { attachment_type = "application/pdf" }
tags = ["big"]

[[rule]]
name = "Either"
any = [ { subject = "a1" }, { has_attachment = true } ]
tags = ["either"]

[[rule]]
name = "Word"
subject = "visa"
tags = ["visa"]
"#,
    );
    let letters = [
        simple("a@uni.example", "visa"),
        simple("a@x.example", "a1"),
        mail(&[("From", "a@uni.example"), ("Subject", "long")], &"text ".repeat(400)),
        with_attachment("x", "a.pdf", "application/pdf", &[0; 2000]),
        with_attachment("visa", "a.doc", "application/msword", &[0; 2000]),
    ];
    for letter in &letters {
        assert_eq!(book.route(letter), engine::route_every_rule(&book, letter), "{}", letter.subject);
    }
    assert_eq!(book.route(&letters[0]).tags, vec!["visa"]);
    assert_eq!(book.route(&letters[2]).tags, vec!["big"]);
    assert_eq!(book.route(&letters[3]).tags, vec!["external", "either"]);
}

#[test]
fn the_index_finds_exactly_what_each_pattern_finds_alone() {
    let book = book(
        r#"
[[rule]]
name = "Every kind of pattern"
any = [
  { from = ["*@uni-x.edu.tr", "*.edu.tr", "rector@*", "*@uni-*.de", "ministry", "regex:^(?:kaya|demir)@", "a?c@x.example"] },
  { to = ["international@uni.example", "*@finance.uni.example"] },
  { cc = "regex:copy" },
  { subject = ["visa", "счёт на оплату", "məxfi", "travel grant", 'regex:\bsecret\b', 'regex:^re:\s*\S+\s+gc-12\b', 'regex:^\d+$', 'regex:(?-u:\b)abc'] },
  { body = ["reference number rn-1", 'regex:\bviz[ae]\b', "İcazə"] },
  { attachment_name = ["*.pdf", "*faktura*"] },
  { attachment_type = ["application/*", "pdf"] },
  { header = { name = "X-Priority", value = ['regex:^\s*1', "high"] } },
  { header = { name = "List-Id" } },
]
tags = ["x"]
"#,
    );
    let letters = [
        simple("Prof. Kaya <kaya@Uni-X.EDU.TR>", "Visa support"),
        simple("Ministry of Science <office@gov.example>", "СЧЕТ НА  ОПЛАТУ"),
        simple("dekan@uni-bonn.de", "MƏXFİ"),
        simple("rector@partner.example", "Top secret plans"),
        simple("abc@x.example", "Re: Report GC-12 budget"),
        simple("a@x.example", "12345"),
        simple("a@x.example", "xabc secretary"),
        mail(
            &[
                ("From", "a@x.example"),
                ("To", "International <international@uni.example>"),
                ("Cc", "Copy <c@finance.uni.example>"),
                ("Subject", "s"),
            ],
            "b\n",
        ),
        mail(
            &[("From", "a@x.example"), ("Subject", "s"), ("X-Priority", "  1 (Highest)"), ("List-Id", "<l.x>")],
            "The travel\ngrant, Reference  Number RN-17 and a VIZA.\nİCAZƏ\n",
        ),
        with_attachment("s", "Hesab-Faktura.PDF", "application/pdf", b"%PDF"),
        with_attachment("s", "notes.txt", "text/plain", b"hello"),
    ];
    for letter in &letters {
        let (indexed, one_by_one) = engine::hits_one_by_one(&book, letter);
        assert_eq!(indexed, one_by_one, "letter {:?} from {:?}", letter.subject, letter.from);
    }
    let total: usize = letters.iter().map(|l| engine::hits_one_by_one(&book, l).1.len()).sum();
    assert!(total >= 25, "the letters should exercise most patterns, matched {total}");
}

#[test]
fn a_rule_book_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<RuleBook>();
}

#[test]
fn routing_round_trips_through_json() {
    let book = book("[[rule]]\nname = \"S\"\nsubject = \"secret\"\nconfidentiality = \"secret\"\ntags = [\"x\"]\nunit = \"finance\"\n");
    let routing = book.route(&simple("a@x.example", "Secret"));
    let json = serde_json::to_string(&routing).unwrap();
    assert!(json.contains("\"confidentiality\":\"secret\""), "{json}");
    let back: Routing = serde_json::from_str(&json).unwrap();
    assert_eq!(back, routing);
    let unit: Unit = serde_json::from_str(&serde_json::to_string(book.default_unit()).unwrap()).unwrap();
    assert_eq!(&unit, book.default_unit());
}

// ---------------------------------------------------------------------------------------
// errors

#[test]
fn syntax_errors_are_reported_at_their_line() {
    let errors = error_of("[[rule]]\nname = \"A\"\nsubject = \"unclosed\nunit = \"finance\"\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("20-test.toml:3: TOML syntax"), "{errors:?}");
}

#[test]
fn unknown_units_are_reported_at_their_line() {
    let errors = error_of("[[rule]]\nname = \"A\"\nsubject = \"x\"\n\nunit = \"internatonal\"\n");
    assert_eq!(errors, vec!["20-test.toml:5: unknown unit \"internatonal\"; units.toml has: finance, international, registry"]);
}

#[test]
fn bad_regexes_are_reported_at_their_line() {
    let errors = error_of("[[rule]]\nname = \"A\"\nsubject = [\n  \"fine\",\n  \"regex:(unclosed\",\n]\ntags = [\"x\"]\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("20-test.toml:5: bad regular expression in `subject`: regex:(unclosed: "), "{errors:?}");
    assert!(!errors[0].contains('\n'), "one line: {errors:?}");
}

#[test]
fn misspelt_keys_are_errors_with_a_hint() {
    // One mistake, one error: not also "has no conditions" for the condition that is misspelt.
    let errors = error_of("[[rule]]\nname = \"A\"\nsubjet = \"x\"\ntags = [\"x\"]\n");
    assert_eq!(errors, vec!["20-test.toml:3: unknown key `subjet` in rule \"A\" (did you mean `subject`?)"]);
    let action = error_of("[[rule]]\nname = \"A\"\nsubject = \"x\"\nunti = \"finance\"\n");
    assert_eq!(action, vec!["20-test.toml:4: unknown key `unti` in rule \"A\" (did you mean `unit`?)"]);
    let name = error_of("[[rule]]\nnmae = \"A\"\nsubject = \"x\"\ntags = [\"x\"]\n");
    assert_eq!(name, vec!["20-test.toml:2: unknown key `nmae` in the rule at line 1 (did you mean `name`?)"]);
    let header = error_of("[[rule]]\nname = \"A\"\nheader = { nmae = \"X-Priority\" }\ntags = [\"x\"]\n");
    assert_eq!(header, vec!["20-test.toml:3: unknown key `nmae` in `header` (did you mean `name`?)"]);
    // A key nothing resembles leaves the rule without conditions: two mistakes, two errors.
    let unrelated = error_of("[[rule]]\nname = \"A\"\ncolour = \"x\"\ntags = [\"x\"]\n");
    assert_eq!(unrelated.len(), 2, "{unrelated:?}");
    let nested = error_of("[[rule]]\nname = \"A\"\nany = [ { subject = \"x\" }, { form = \"y\" } ]\ntags = [\"x\"]\n");
    assert_eq!(nested, vec!["20-test.toml:3: unknown key `form` in `any` (did you mean `from`?)"]);
    let action_inside = error_of("[[rule]]\nname = \"A\"\nnot = { subject = \"x\", unit = \"finance\" }\n");
    assert!(
        action_inside.contains(&"20-test.toml:3: `unit` belongs to the rule itself, not inside `not`".to_string()),
        "{action_inside:?}"
    );
}

#[test]
fn every_problem_of_every_file_is_reported() {
    let first = r#"
[[rule]]
subject = "x"
unit = "finance"

[[rule]]
name = "Twice"
subject = "x"
confidentiality = "top-secret"

[[rule]]
name = "Big"
size_over = "5 parsecs"
tags = ["big"]
"#;
    let second = r#"
[[rule]]
name = "Twice"
from = "*@x.example"
due_in_working_days = -1
acknowledge = "no such/template"
"#;
    let third = "[rule]\nname = \"Single brackets\"\n";
    let errors = errors_of(&[("10-a.toml", first), ("20-b.toml", second), ("30-c.toml", third)]);
    assert_eq!(
        errors,
        vec![
            "10-a.toml:2: a rule needs a name, e.g. name = \"Invoices from suppliers\"",
            "10-a.toml:9: confidentiality must be public, internal, confidential or secret, not \"top-secret\"",
            "10-a.toml:13: `size_over`: \"5 parsecs\" is not a size; write e.g. \"5MB\", \"500KB\" or \"2GB\"",
            "20-b.toml:3: rule name \"Twice\" is already used at 10-a.toml:7",
            "20-b.toml:5: due_in_working_days must be from 0 to 400, not -1",
            "20-b.toml:6: acknowledge template \"no such/template\" must be a name of letters, digits, - or _ (or write acknowledge = false)",
            "30-c.toml:1: write [[rule]] (two brackets) above each rule",
        ]
    );
}

#[test]
fn empty_text_and_empty_braces_are_refused() {
    let errors = error_of("[[rule]]\nname = \"A\"\nsubject = [\"x\", \" \"]\nall = [ {} ]\ntags = [\"t\"]\n");
    assert_eq!(
        errors,
        vec![
            "20-test.toml:3: empty text in `subject` would match every letter",
            "20-test.toml:4: empty braces { } in `all` would match every letter"
        ]
    );
}

#[test]
fn units_file_problems() {
    let errors = RuleBook::parse(&[("x.toml".to_string(), "[[rule]]\nname = \"A\"\nsubject = \"x\"\nunit = \"finance\"\n".to_string())])
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert_eq!(errors, vec!["units.toml: missing: units.toml lists the units letters can be routed to"]);

    let units = r##"
[[unit]]
id = "registry"
name = { en = "Registry", az = "Ümumi şöbə" }
email = "registry"
room = "registry"
head = { name = "A", email = "a@uni.example" }
default = true

[[unit]]
id = "Finance Dept"
name = { en = "Finance", az = "Maliyyə", ru = "Финансы" }
email = "finance@uni.example"
room = "#finance:uni.example"
head = { name = "B", email = "b@uni.example" }
default = true
colour = "blue"
"##;
    let errors = RuleBook::parse(&[("mail-rules/units.toml".to_string(), units.to_string())])
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert_eq!(
        errors,
        vec![
            "mail-rules/units.toml:4: the unit's name needs `ru`",
            "mail-rules/units.toml:5: `email` \"registry\" is not an e-mail address",
            "mail-rules/units.toml:6: room \"registry\" must be a Matrix room alias like \"#international:uni.example\"",
            "mail-rules/units.toml:10: only one unit can be the default; the unit at line 2 already is",
            "mail-rules/units.toml:11: unit id \"Finance Dept\" must be lowercase letters, digits, - or _ (e.g. \"student-affairs\")",
            "mail-rules/units.toml:17: unknown key `colour` in a unit; see mail-rules/README.md for the keys there are",
        ]
    );
}

#[test]
fn misspelt_unit_keys_are_one_error_each() {
    let unit = |extra: &str| {
        format!(
            "[[unit]]\nid = \"registry\"\nname = {{ en = \"Registry\", az = \"Ümumi şöbə\", ru = \"Общий отдел\" }}\n\
             email = \"registry@uni.example\"\nroom = \"#registry:uni.example\"\nhead = {{ name = \"A\", email = \"a@uni.example\" }}\n{extra}"
        )
    };
    let errors_in = |units: &str| -> Vec<String> {
        RuleBook::parse(&[("units.toml".to_string(), units.to_string())]).unwrap_err().iter().map(ToString::to_string).collect()
    };
    assert_eq!(errors_in(&unit("defualt = true\n")), vec!["units.toml:7: unknown key `defualt` in a unit (did you mean `default`?)"]);
    let missing_email = unit("default = true\n").replace("email = \"registry@", "emial = \"registry@");
    assert_eq!(errors_in(&missing_email), vec!["units.toml:4: unknown key `emial` in a unit (did you mean `email`?)"]);
    let head = unit("default = true\n").replace("head = { name", "head = { nmae");
    assert_eq!(errors_in(&head), vec!["units.toml:6: unknown key `nmae` in a unit's head (did you mean `name`?)"]);
    let lang = unit("default = true\n").replace("ru = ", "rus = ");
    assert_eq!(errors_in(&lang), vec!["units.toml:3: unknown key `rus` in a unit's name (did you mean `ru`?)"]);
    let section = unit("default = true\n").replace("[[unit]]", "[[units]]");
    assert_eq!(errors_in(&section), vec!["units.toml:1: unknown key `units` in units.toml (did you mean `unit`?)"]);
}

#[test]
fn toml_syntax_errors_are_one_line_with_file_and_line() {
    for broken in [
        "[[rule]]\nname = \"A\"\nsubject = \"unclosed\nunit = \"finance\"\n",
        "[[rule]]\nname = \"A\"\nsubject = [\"erasmus\"\nunit = \"finance\"\n",
        "[[rule]\nname = \"A\"\n",
        "[[rule]]\nname = \"A\"\nname = \"B\"\n",
        "[[rule]]\nname = \"A\"\nsubject = 'x' 'y'\n",
    ] {
        let errors = error_of(broken);
        assert_eq!(errors.len(), 1, "{broken:?}: {errors:?}");
        let error = &errors[0];
        assert!(error.starts_with("20-test.toml:") && error.contains(": TOML syntax: "), "{broken:?}: {error}");
        assert!(!error.contains('\n') && !error.contains(" | "), "one line, no drawing: {error:?}");
        let line: usize = error.split(':').nth(1).and_then(|l| l.parse().ok()).expect("a line number");
        assert!((1..=4).contains(&line), "{error}");
    }
}

// ---------------------------------------------------------------------------------------
// deadlines

#[test]
fn due_dates_skip_weekends() {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap(); // 2026-03-06 is a Friday
    assert_eq!(due_date(day(6), 0), day(6));
    assert_eq!(due_date(day(6), 1), day(9), "Friday + 1 = Monday");
    assert_eq!(due_date(day(5), 3), day(10), "Thursday + 3 = Tuesday");
    assert_eq!(due_date(day(7), 1), day(9), "Saturday + 1 = Monday");
    assert_eq!(due_date(day(8), 5), day(13), "Sunday + 5 = Friday");
    assert_eq!(due_date(day(4), 10), day(18), "Wednesday + 10 = Wednesday two weeks on");
    assert_eq!(due_date(day(6), 5), day(13), "Friday + 5 = Friday");
    // The same as counting one day at a time.
    for start in 1..=14 {
        for n in 0..=23 {
            let mut expected = day(start);
            for _ in 0..n {
                expected = expected.succ_opt().unwrap();
                while expected.weekday().number_from_monday() > 5 {
                    expected = expected.succ_opt().unwrap();
                }
            }
            if n == 0 {
                expected = day(start);
            }
            assert_eq!(due_date(day(start), n), expected, "{} + {n}", day(start));
        }
    }
    assert_eq!(due_date(NaiveDate::MAX, 3), NaiveDate::MAX);
}

mod file_plan;
mod starter;

#[test]
fn due_dates_skip_public_holidays() {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
    // Novruz: 20-24 March 2026 (Friday to Tuesday).
    let novruz: Vec<NaiveDate> = (20..=24).map(day).collect();
    assert_eq!(due_date_skipping(day(19), 1, &novruz), day(25), "Thursday + 1 over Novruz = Wednesday");
    assert_eq!(due_date_skipping(day(18), 3, &novruz), day(26));
    for start in 1..=20 {
        for n in 0..12 {
            assert_eq!(due_date_skipping(day(start), n, &[]), due_date(day(start), n), "no holidays: as due_date");
        }
    }
}

#[test]
fn a_rule_book_too_large_to_index_says_what_is_too_many() {
    let error = engine::IndexError::TooMany { what: "patterns", count: 4_294_967_296 };
    assert_eq!(error.to_string(), "too many patterns in the rule book: 4294967296");
}
