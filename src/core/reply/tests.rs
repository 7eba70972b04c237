use std::collections::BTreeMap;

use super::*;
use crate::core::letter::read_letter;

/// The templates the repository ships.
pub(crate) fn shipped_templates() -> Templates {
    let files = [
        ("ack.en.txt", include_str!("../../../mail-rules/templates/ack.en.txt")),
        ("ack.az.txt", include_str!("../../../mail-rules/templates/ack.az.txt")),
        ("ack.ru.txt", include_str!("../../../mail-rules/templates/ack.ru.txt")),
        ("ack-confidential.en.txt", include_str!("../../../mail-rules/templates/ack-confidential.en.txt")),
        ("ack-confidential.az.txt", include_str!("../../../mail-rules/templates/ack-confidential.az.txt")),
        ("ack-confidential.ru.txt", include_str!("../../../mail-rules/templates/ack-confidential.ru.txt")),
        ("forward.txt", include_str!("../../../mail-rules/templates/forward.txt")),
        ("forward-confidential.txt", include_str!("../../../mail-rules/templates/forward-confidential.txt")),
    ];
    Templates::parse(files).unwrap_or_else(|errors| panic!("shipped templates: {errors:?}"))
}

fn policy() -> ReplyPolicy {
    ReplyPolicy {
        from: "University Registry <registry@uni.example>".into(),
        own_domains: vec!["uni.example".into()],
        max_acks_per_sender_per_day: 3,
        templates: shipped_templates(),
    }
}

fn unit() -> UnitInfo {
    UnitInfo {
        id: "international".into(),
        email: "international@uni.example".into(),
        names: [
            ("en".to_string(), "International Relations Office".to_string()),
            ("az".to_string(), "Beynəlxalq əlaqələr şöbəsi".to_string()),
            ("ru".to_string(), "Отдел международных связей".to_string()),
        ]
        .into(),
    }
}

fn mail(headers: &str, subject: &str, body: &str) -> Letter {
    read_letter(
        format!(
            "From: Ayşe Yılmaz <ayse@uni-x.edu.tr>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
             Message-ID: <m2@uni-x.edu.tr>\r\n{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
        .as_bytes(),
    )
}

fn ack(letter: &Letter, confidential: bool, today: u32, template: &str) -> Result<OutgoingMail, NoReply> {
    let unit = unit();
    let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential };
    acknowledgement(letter, &registration, today, template, &policy(), "chancery.ack.IN-2026-000123.x@uni.example".into())
}

#[test]
fn machine_generated_mail_is_recognised() {
    let cases = [
        ("Auto-Submitted: auto-replied\r\n", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated; owner-email=\"x@y\"\r\n", "Auto-Submitted"),
        ("Precedence: bulk\r\n", "Precedence"),
        ("Precedence: List\r\n", "Precedence"),
        ("Precedence: junk\r\n", "Precedence"),
        ("X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress"),
        ("List-Id: Partners <partners.lists.uni-x.edu.tr>\r\n", "List-Id"),
        ("Return-Path: <>\r\n", "Return-Path"),
        ("X-Chancery-Loop: registry@uni.example\r\n", "X-Chancery-Loop"),
    ];
    for (header, expected) in cases {
        let letter = mail(header, "Out of office", "I am away");
        let reason = is_machine_generated(&letter).unwrap_or_else(|| panic!("{header:?} is machine-generated"));
        assert!(reason.contains(expected), "{header:?}: {reason}");
        assert!(matches!(ack(&letter, false, 0, "default"), Err(NoReply::MachineGenerated(_))), "{header:?}");
    }
    assert_eq!(is_machine_generated(&mail("Auto-Submitted: no\r\n", "Hello", "Dear colleagues")), None);
    assert_eq!(is_machine_generated(&mail("Precedence: first-class\r\n", "Hello", "Dear colleagues")), None);
    assert_eq!(is_machine_generated(&mail("Return-Path: <ayse@uni-x.edu.tr>\r\n", "Hello", "Dear colleagues")), None);
}

#[test]
fn daemons_and_noreply_senders_get_nothing() {
    for from in ["MAILER-DAEMON@mx.uni-x.edu.tr", "postmaster@uni-x.edu.tr", "noreply@portal.gov.az", "no-reply@x.org", "donotreply@x.org"]
    {
        let letter = read_letter(format!("From: {from}\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n").as_bytes());
        let reason = is_machine_generated(&letter).unwrap_or_else(|| panic!("{from} is a machine"));
        assert!(reason.contains("sender"), "{reason}");
    }
    let report = read_letter(
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered Mail\r\n\
          Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    );
    assert!(is_machine_generated(&report).is_some());
    let dsn_from_person = read_letter(
        b"From: someone@x.org\r\nSubject: Read\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    );
    assert!(is_machine_generated(&dsn_from_person).unwrap().contains("multipart/report"));
}

#[test]
fn own_addresses_and_domains_get_nothing() {
    for from in ["registry@uni.example", "dean@uni.example", "lab@physics.uni.example", "Registry@UNI.EXAMPLE"] {
        let letter = read_letter(format!("From: {from}\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n").as_bytes());
        assert!(matches!(ack(&letter, false, 0, "default"), Err(NoReply::OwnAddress(_))), "{from}");
    }
    let near_miss = read_letter(b"From: a@notuni.example\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
    assert!(ack(&near_miss, false, 0, "default").is_ok(), "notuni.example is not uni.example");
}

#[test]
fn a_sender_gets_a_few_acknowledgements_a_day_at_most() {
    let letter = mail("", "Erasmus+ agreement", "Dear colleagues");
    assert!(ack(&letter, false, 2, "default").is_ok());
    assert_eq!(ack(&letter, false, 3, "default"), Err(NoReply::RateLimited { recipient: "ayse@uni-x.edu.tr".into(), sent_today: 3 }));
    let mut none = policy();
    none.max_acks_per_sender_per_day = 0;
    let unit = unit();
    let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
    assert!(matches!(acknowledgement(&letter, &registration, 0, "default", &none, "x@y".into()), Err(NoReply::RateLimited { .. })));
}

#[test]
fn answers_in_the_letters_language() {
    let az = mail("", "Müqavilə haqqında", "Hörmətli həmkarlar, əməkdaşlıq müqaviləsini göndəririk.");
    let ru = mail("", "Соглашение о сотрудничестве", "Уважаемые коллеги, направляем проект соглашения.");
    let en = mail("", "Cooperation agreement", "Dear colleagues, please find the draft attached.");
    let de = mail("", "Kooperationsvertrag", "Sehr geehrte Kolleginnen, anbei der Entwurf für die Zusammenarbeit. Grüße");
    let tr = mail("", "İşbirliği anlaşması", "Değerli meslektaşlarımız, anlaşma taslağını ekte bulabilirsiniz.");
    let ru_with_english_signature =
        mail("", "Приглашение", "Уважаемые коллеги, приглашаем вас на конференцию.\n--\nJohn Smith, Dept. of Physics");
    assert_eq!(language_of(&az), Language::Az);
    assert_eq!(language_of(&ru), Language::Ru);
    assert_eq!(language_of(&en), Language::En);
    assert_eq!(language_of(&de), Language::En, "ü alone is not Azerbaijani");
    assert_eq!(language_of(&tr), Language::Az, "Turkish partners read Azerbaijani better than English");
    assert_eq!(language_of(&ru_with_english_signature), Language::Ru);

    let az_ack = ack(&az, false, 0, "default").unwrap();
    assert!(az_ack.text.contains("Beynəlxalq əlaqələr şöbəsi"), "{}", az_ack.text);
    assert!(az_ack.subject.contains("Qeydiyyat") || az_ack.subject.contains("qeydə"), "{}", az_ack.subject);
    let ru_ack = ack(&ru, false, 0, "default").unwrap();
    assert!(ru_ack.text.contains("Отдел международных связей"), "{}", ru_ack.text);
    let en_ack = ack(&en, false, 0, "default").unwrap();
    assert!(en_ack.text.contains("International Relations Office"), "{}", en_ack.text);
    // The template name can fix the language.
    let forced = ack(&en, false, 0, "az").unwrap();
    assert!(forced.text.contains("Beynəlxalq"), "{}", forced.text);
    let forced = ack(&az, false, 0, "default-ru").unwrap();
    assert!(forced.text.contains("Отдел"), "{}", forced.text);
    assert_eq!(ack(&en, false, 0, "nonexistent"), Err(NoReply::UnknownTemplate("nonexistent".into())));
}

#[test]
fn acknowledgement_carries_number_and_threading() {
    let letter = mail(
        "In-Reply-To: <m1@uni-x.edu.tr>\r\nReferences: <m0@uni-x.edu.tr> <m1@uni-x.edu.tr>\r\n",
        "Erasmus+ agreement",
        "Dear colleagues",
    );
    let mail = ack(&letter, false, 0, "default").unwrap();
    assert_eq!(mail.kind, MailKind::Acknowledgement);
    assert_eq!(mail.to, vec!["ayse@uni-x.edu.tr".to_string()]);
    assert_eq!(mail.from, "University Registry <registry@uni.example>");
    assert!(mail.subject.contains("[IN-2026-000123]"), "{}", mail.subject);
    assert!(mail.subject.contains("Erasmus+ agreement"), "{}", mail.subject);
    assert!(mail.text.contains("IN-2026-000123") && mail.text.contains("28.11.2026"), "{}", mail.text);
    assert!(mail.text.contains("Ayşe Yılmaz"), "{}", mail.text);
    assert_eq!(mail.in_reply_to.as_deref(), Some("m2@uni-x.edu.tr"));
    assert_eq!(mail.references, vec!["m0@uni-x.edu.tr", "m1@uni-x.edu.tr", "m2@uni-x.edu.tr"]);
    assert!(mail.auto_submitted);
    assert!(!mail.attach_original);
    assert_eq!(mail.message_id, "chancery.ack.IN-2026-000123.x@uni.example");
}

#[test]
fn confidential_acknowledgement_never_shows_the_subject() {
    for (subject, body) in [
        ("Disciplinary case of student Mammadov", "Dear colleagues"),
        ("Дело студента Иванова", "Уважаемые коллеги"),
        ("Tələbə Məmmədovun intizam işi", "Hörmətli həmkarlar"),
    ] {
        let letter = mail("", subject, body);
        let mail = ack(&letter, true, 0, "default").unwrap();
        assert!(mail.subject.contains("[IN-2026-000123]"), "{}", mail.subject);
        for word in subject.split_whitespace().filter(|w| w.chars().count() > 3) {
            assert!(!mail.subject.contains(word), "{word} leaked into {}", mail.subject);
            assert!(!mail.text.contains(word), "{word} leaked into {}", mail.text);
        }
    }
}

#[test]
fn hostile_subjects_stay_on_one_line() {
    let mut letter = mail("", "x", "Dear colleagues");
    letter.subject = "Hello\r\nBcc: victim@x.org\r\n\r\nbody".into();
    let mail = ack(&letter, false, 0, "default").unwrap();
    assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
}

#[test]
fn nothing_without_a_sender() {
    let letter = read_letter(b"Subject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
    assert_eq!(ack(&letter, false, 0, "default"), Err(NoReply::NoSender));
}

#[test]
fn forward_attaches_the_original_unless_confidential() {
    let letter = mail("", "Erasmus+ agreement", "Dear colleagues");
    let unit = unit();
    let open = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
    let mail = forward_to_unit(&letter, &open, &policy(), "chancery.fwd.x@uni.example".into()).unwrap();
    assert_eq!(mail.kind, MailKind::Forward);
    assert_eq!(mail.to, vec!["international@uni.example".to_string()]);
    assert!(mail.attach_original);
    assert!(mail.subject.contains("[IN-2026-000123]") && mail.subject.contains("Erasmus+ agreement"), "{}", mail.subject);
    assert_eq!(mail.references, vec!["m2@uni-x.edu.tr".to_string()]);

    let secret = mail_with_subject("Disciplinary case of student Mammadov");
    let closed = Registration { confidential: true, ..open };
    let mail = forward_to_unit(&secret, &closed, &policy(), "chancery.fwd.y@uni.example".into()).unwrap();
    assert!(!mail.attach_original);
    assert!(mail.subject.contains("IN-2026-000123"));
    for word in ["Disciplinary", "Mammadov", "ayse", "Ayşe"] {
        assert!(!mail.subject.contains(word) && !mail.text.contains(word), "{word} leaked: {} / {}", mail.subject, mail.text);
    }
}

fn mail_with_subject(subject: &str) -> Letter {
    mail("", subject, "Dear colleagues")
}

#[test]
fn forward_never_loops() {
    let unit = UnitInfo { email: "registry@uni.example".into(), ..unit() };
    let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
    let letter = mail("", "Hello", "Dear colleagues");
    assert!(matches!(forward_to_unit(&letter, &registration, &policy(), "x@y".into()), Err(NoReply::Loop(_))));
    let ours = mail("X-Chancery-Loop: registry@uni.example\r\n", "Hello", "Dear colleagues");
    let unit = self::unit();
    let registration = Registration { unit: &unit, ..registration };
    assert!(matches!(forward_to_unit(&ours, &registration, &policy(), "x@y".into()), Err(NoReply::Loop(_))));
    let nowhere = UnitInfo { email: String::new(), ..self::unit() };
    let registration = Registration { unit: &nowhere, ..registration };
    assert!(matches!(forward_to_unit(&letter, &registration, &policy(), "x@y".into()), Err(NoReply::NoRecipient(_))));
}

#[test]
fn template_files_are_checked() {
    let mut files: BTreeMap<String, String> = [
        "ack.en.txt",
        "ack.az.txt",
        "ack.ru.txt",
        "ack-confidential.en.txt",
        "ack-confidential.az.txt",
        "ack-confidential.ru.txt",
        "forward.txt",
        "forward-confidential.txt",
    ]
    .iter()
    .map(|f| (f.to_string(), "Subject: [{{ number }}]\n\nLetter {{ number }} of {{ date }}.\n".to_string()))
    .collect();
    assert!(Templates::parse(files.clone()).is_ok());

    let mut leaky = files.clone();
    leaky.insert("ack-confidential.en.txt".into(), "Subject: {{ subject }}\n\nx\n".into());
    let errors = Templates::parse(leaky).unwrap_err();
    assert!(errors.iter().any(|e| e.file == "ack-confidential.en.txt" && e.message.contains("confidential")), "{errors:?}");

    let mut broken = files.clone();
    broken.insert("ack.en.txt".into(), "Hello {{ number }}\n".into());
    broken.insert("ack.ru.txt".into(), "Subject: x\n\n{{ number\n".into());
    broken.insert("ack.de.txt".into(), "Subject: x\n\ny\n".into());
    broken.insert("ack-visa.en.txt".into(), "Subject: x\n\n{{ nubmer }}\n".into());
    let errors = Templates::parse(broken).unwrap_err();
    let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
    assert!(text.contains("ack.en.txt: the first line"), "{text}");
    assert!(text.contains("ack.ru.txt: body"), "{text}");
    assert!(text.contains("ack.de.txt: is not a template name"), "{text}");
    assert!(text.contains("ack-visa.en.txt: body uses `nubmer`"), "{text}");
    assert!(text.contains("ack-visa.az.txt: is missing"), "{text}");

    files.remove("forward.txt");
    let errors = Templates::parse(files).unwrap_err();
    assert_eq!(errors, vec![TemplateError { file: "forward.txt".into(), message: "is missing".into() }]);
}

#[test]
fn named_sets_and_their_confidential_fallback() {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for f in ["ack.en.txt", "ack.az.txt", "ack.ru.txt", "forward.txt"] {
        files.insert(f.into(), "Subject: {{ subject }}\n\ndefault {{ number }}\n".into());
    }
    for f in ["ack-confidential.en.txt", "ack-confidential.az.txt", "ack-confidential.ru.txt", "forward-confidential.txt"] {
        files.insert(f.into(), "Subject: [{{ number }}]\n\nconfidential {{ number }}\n".into());
    }
    for code in ["en", "az", "ru"] {
        files.insert(format!("ack-visa.{code}.txt"), format!("Subject: Visa {{{{ subject }}}}\n\nvisa-{code} {{{{ number }}}}\n"));
    }
    let templates = Templates::parse(files).unwrap();
    assert!(templates.knows("visa") && templates.knows("visa-ru") && templates.knows("default") && templates.knows("az"));
    assert!(!templates.knows("tour") && !templates.knows("visa-de"));
    assert_eq!(templates.sets().collect::<Vec<_>>(), vec!["default", "visa"]);
    let policy = ReplyPolicy { templates, ..policy() };
    let unit = unit();
    let letter = mail("", "Visa for Dr. Smith", "Dear colleagues");
    let open = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
    let mail = acknowledgement(&letter, &open, 0, "visa-ru", &policy, "x@y".into()).unwrap();
    assert!(mail.text.starts_with("visa-ru IN-2026-000123"), "{}", mail.text);
    assert_eq!(mail.subject, "[IN-2026-000123] Visa Visa for Dr. Smith");
    let closed = Registration { confidential: true, ..open };
    let mail = acknowledgement(&letter, &closed, 0, "visa", &policy, "x@y".into()).unwrap();
    assert!(mail.text.starts_with("confidential"), "a set without a confidential variant uses the default one: {}", mail.text);
    assert!(!mail.subject.contains("Smith"));
}

#[test]
fn dates_follow_the_office_zone() {
    let late = DateTime::parse_from_rfc3339("2026-11-27T21:30:00Z").unwrap().with_timezone(&Utc);
    assert_eq!(local_date(late, chrono_tz::Asia::Baku), "28.11.2026");
}
