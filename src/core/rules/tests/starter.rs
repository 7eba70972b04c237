//! The rules shipped in `mail-rules/`: they parse, and a sample letter for every rule routes
//! where the rule says. A rule added to the starter set needs a sample here.

use std::collections::BTreeSet;

use super::super::*;
use crate::core::confidentiality::Confidentiality;
use crate::core::letter::read_letter;

fn shipped() -> RuleBook {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mail-rules");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("mail-rules/ exists") {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    match RuleBook::parse(&files) {
        Ok(book) => book,
        Err(errors) => panic!("mail-rules/ does not parse:\n{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")),
    }
}

fn letter(from: &str, subject: &str, extra_headers: &[(&str, &str)]) -> Letter {
    let mut raw =
        format!("From: {from}\r\nTo: Registry <registry@uni.example>\r\nSubject: {subject}\r\nMessage-ID: <sample@x.example>\r\n");
    for (name, value) in extra_headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear colleagues,\r\nplease find the details below.\r\n",
    );
    read_letter(raw.as_bytes())
}

fn with_pdf(from: &str, subject: &str) -> Letter {
    let raw = format!(
        "From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\nContent-Type: text/plain\r\n\r\nAttached.\r\n\
         --sep\r\nContent-Type: application/pdf; name=\"bill-10.pdf\"\r\nContent-Disposition: attachment; filename=\"bill-10.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcTl8uXrCg==\r\n--sep--\r\n"
    );
    read_letter(raw.as_bytes())
}

struct Sample {
    rule: &'static str,
    letter: Letter,
    unit: &'static str,
    check: fn(&Routing),
}

fn samples() -> Vec<Sample> {
    [marked_samples(), international_samples(), office_samples()].into_iter().flatten().collect()
}

/// Letters marked by their senders: automatic, secret, confidential.
fn marked_samples() -> Vec<Sample> {
    vec![
        Sample {
            rule: "Automatic mail gets no acknowledgement",
            letter: letter(
                "Mail Delivery System <MAILER-DAEMON@mx.partner.example>",
                "Undelivered Mail Returned to Sender",
                &[("Auto-Submitted", "auto-replied")],
            ),
            unit: "registry",
            check: |r| {
                assert_eq!(r.acknowledge, None);
                assert_eq!(r.tags, vec!["automatic"]);
            },
        },
        Sample {
            rule: "Marked secret",
            letter: letter("Ministry of Defence <office@mod.example>", "SECRET: tender documents for the new campus", &[]),
            unit: "registry",
            check: |r| assert_eq!(r.confidentiality, Some(Confidentiality::Secret)),
        },
        Sample {
            rule: "Marked confidential",
            letter: letter("Audit Chamber <info@audit.example>", "MƏXFİ: yoxlamanın nəticələri", &[]),
            unit: "registry",
            check: |r| {
                assert_eq!(r.confidentiality, Some(Confidentiality::Confidential));
                assert_eq!(r.tags, vec!["restricted"]);
            },
        },
    ]
}

/// Letters for the International Relations Office and from governments.
fn international_samples() -> Vec<Sample> {
    vec![
        Sample {
            rule: "Partner universities abroad",
            letter: letter("Prof. Ayşe Kaya <a.kaya@metu.edu.tr>", "Joint summer school 2026", &[]),
            unit: "international",
            check: |r| {
                assert_eq!(r.classification.as_deref(), Some("05-01"));
                assert!(r.notify_room);
                assert_eq!(r.reasons[0].condition, "from matches *.edu.tr");
                assert_eq!(r.reasons[0].matched, "a.kaya@metu.edu.tr");
            },
        },
        Sample {
            rule: "Exchange programmes and mobility",
            letter: letter("National Agency <office@agency.example>", "Erasmus+ KA171: mobility results for students", &[]),
            unit: "international",
            check: |r| {
                assert_eq!(r.classification.as_deref(), Some("05-02"));
                assert!(r.forward);
                assert!(!r.tags.contains(&"student".to_string()), "stop keeps the students rule out: {:?}", r.tags);
            },
        },
        Sample {
            rule: "Visas and invitation letters",
            letter: letter("Иван Петров <petrov@msu.example>", "Виза для приглашённого профессора", &[]),
            unit: "international",
            check: |r| assert_eq!(r.due_in_working_days, Some(5)),
        },
        Sample {
            rule: "Cooperation agreements",
            letter: letter("Dış İlişkiler <intl@ankara.example>", "İŞBİRLİĞİ PROTOKOLÜ taslağı", &[]),
            unit: "international",
            check: |r| assert_eq!(r.tags, vec!["agreement"]),
        },
        Sample {
            rule: "Embassies and consulates",
            letter: letter("Consular Department <consular@mfa.gov.az>", "Note verbale No. 4/117", &[]),
            unit: "international",
            check: |r| assert!(!r.tags.contains(&"government".to_string()), "stop keeps the government rule out: {:?}", r.tags),
        },
        Sample {
            rule: "Ministry and government",
            letter: letter("Ministry of Science and Education <office@edu.gov.az>", "Order No. 12 on the academic calendar", &[]),
            unit: "rectorate",
            check: |r| {
                assert_eq!(r.classification.as_deref(), Some("01-01"));
                assert_eq!(r.due_in_working_days, Some(5));
            },
        },
    ]
}

/// Letters for the rector and the university's own offices, and urgent ones.
fn office_samples() -> Vec<Sample> {
    let none: fn(&Routing) = |_| {};
    vec![
        Sample {
            rule: "Letters to the rector",
            letter: letter("Гражданин <citizen@mail.example>", "Обращение к ректору университета", &[]),
            unit: "rectorate",
            check: |r| assert_eq!(r.reasons[0].matched, "ректор"),
        },
        Sample {
            rule: "Invoices",
            letter: letter("Mühasibatlıq <info@printshop.example>", "Hesab-faktura № 245", &[]),
            unit: "finance",
            check: |r| {
                assert_eq!(r.tags, vec!["invoice"]);
                assert_eq!(r.reasons[0].matched, "faktura");
            },
        },
        Sample {
            rule: "Bills from known suppliers",
            letter: with_pdf("AzerTelecom Billing <billing@azertelecom.example>", "Your bill for October"),
            unit: "finance",
            check: |r| assert_eq!(r.tags, vec!["invoice", "supplier"]),
        },
        Sample {
            rule: "Bank statements",
            letter: letter("Bank <noreply-statements@bank.example>", "Выписка по счету за октябрь", &[]),
            unit: "finance",
            check: |r| assert_eq!(r.confidentiality, Some(Confidentiality::Internal)),
        },
        Sample {
            rule: "Job applications",
            letter: letter("Samir Orujov <samir@mail.example>", "Application for the lecturer vacancy (CV attached)", &[]),
            unit: "hr",
            check: |r| assert_eq!(r.confidentiality, Some(Confidentiality::Internal)),
        },
        Sample {
            rule: "Personal files and leave",
            letter: letter("Rauf Məmmədov <r.mammadov@uni.example>", "Xəstəlik vərəqəsi", &[]),
            unit: "hr",
            check: |r| assert_eq!(r.confidentiality, Some(Confidentiality::Confidential)),
        },
        Sample {
            rule: "Student records and diplomas",
            letter: letter("Former student <alumnus@mail.example>", "Request for a transcript of records", &[]),
            unit: "students",
            check: |r| assert_eq!(r.classification.as_deref(), Some("04-01")),
        },
        Sample {
            rule: "Admissions",
            letter: letter("Dövlət İmtahan Mərkəzi <info@exam.example>", "QƏBUL İMTAHANLARININ nəticələri", &[]),
            unit: "students",
            check: none,
        },
        Sample {
            rule: "Marked urgent",
            letter: letter("Supplier <accounts@printshop.example>", "Invoice 88 overdue", &[("X-Priority", "1 (Highest)")]),
            unit: "finance",
            check: |r| {
                assert_eq!(r.due_in_working_days, Some(2), "the urgent deadline replaces the invoice one");
                assert_eq!(r.tags, vec!["invoice", "urgent"]);
            },
        },
    ]
}

#[test]
fn the_shipped_rules_parse() {
    let book = shipped();
    assert_eq!(book.default_unit().id, "registry");
    let units: Vec<&str> = book.units().iter().map(|u| u.id.as_str()).collect();
    assert_eq!(units, vec!["registry", "international", "rectorate", "finance", "hr", "students"]);
    assert!(book.rule_count() >= 15, "{}", book.rule_count());
}

#[test]
fn every_shipped_rule_routes_its_sample_letter() {
    let book = shipped();
    let mut covered = BTreeSet::new();
    for sample in samples() {
        let routing = book.route(&sample.letter);
        assert!(
            routing.reasons.iter().any(|reason| reason.rule == sample.rule),
            "rule {:?} did not match its sample {:?}: {routing:#?}",
            sample.rule,
            sample.letter.subject
        );
        assert_eq!(routing.unit, sample.unit, "sample of {:?}: {routing:#?}", sample.rule);
        (sample.check)(&routing);
        covered.insert(sample.rule);
    }
    let missing: Vec<&str> = book.rule_names().filter(|name| !covered.contains(name)).collect();
    assert!(missing.is_empty(), "shipped rules without a sample letter in this test: {missing:?}");
}

#[test]
fn the_shipped_rules_avoid_the_known_traps() {
    let book = shipped();
    let route = |from: &str, subject: &str| book.route(&letter(from, subject, &[]));
    let secretary = route("a@x.example", "Visit of the Secretary-General");
    assert_eq!(secretary.confidentiality, None, "secretary is not secret");
    assert!(route("a@x.example", "Letter to the Director of the library").is_default(), "director is not rector");
    assert!(route("a@x.example", "Письмо директору библиотеки").is_default(), "директор is not ректор");
    assert!(route("a@x.example", "Diplomatic pouch").is_default(), "diplomatic is not diploma");
    assert!(route("a@x.example", "It is advisable to renew").is_default(), "advisable is not visa");
    assert!(!route("a@x.example", "Sports facility booking").tags.contains(&"urgent".to_string()), "facility is not acil");
    assert!(route("a@x.example", "Ремонт за счёт средств спонсора").is_default(), "за счёт is no invoice");
    assert!(route("rektor@bdu.edu.az", "Joint conference").is_default(), "Azerbaijani universities are not abroad");
    assert!(route("colleague@uni.example", "Lunch").is_default());
}
