use std::collections::HashSet;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

use super::*;
use crate::core::confidentiality::Confidentiality;
use crate::core::outbound::MailKind;

const ZONE: Tz = chrono_tz::Asia::Baku;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn masthead() -> Masthead<'static> {
    Masthead {
        university: "Baku State University",
        city: "Baku",
        boilerplate: "Baku State University, founded in 1919, teaches 25,000 students.",
        media_contact: "Press office\npress@uni.example",
    }
}

fn shipped(language: Language) -> PressTemplate {
    let text = match language {
        Language::En => include_str!("../../../mail-rules/templates/press/en.txt"),
        Language::Az => include_str!("../../../mail-rules/templates/press/az.txt"),
        Language::Ru => include_str!("../../../mail-rules/templates/press/ru.txt"),
    };
    PressTemplate::parse(&PressTemplate::file_name(language), language, text).unwrap_or_else(|e| panic!("{e}"))
}

fn release(status: Status, version: i64, approved_version: Option<i64>) -> Release {
    let today = now().with_timezone(&ZONE).date_naive();
    Release {
        id: 7,
        title: "Erasmus+ week".into(),
        language: Language::En,
        status,
        version,
        approved_version,
        approved_by: approved_version.map(|_| "@manager:uni.example".into()),
        approved_at: approved_version.map(|_| now()),
        sent_at: None,
        out_number: None,
        embargo: None,
        created_by: "@officer:uni.example".into(),
        created_at: now(),
        content: shipped(Language::En).draft("Erasmus+ week", &masthead(), today).unwrap(),
    }
}

fn member(unit: &str, role: Role) -> StaffMember {
    StaffMember { id: "@x:uni.example".into(), name: "X".into(), unit: unit.into(), role, clearance: Confidentiality::Internal }
}

#[test]
fn the_shipped_templates_fill_every_field_in_their_language() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let en = shipped(Language::En).draft("Erasmus+ week", &masthead(), today).unwrap();
    assert_eq!(en.headline, "Erasmus+ week");
    assert_eq!(en.dateline, "BAKU, 1 December 2026");
    assert_eq!(en.boilerplate, masthead().boilerplate);
    assert_eq!(en.contact, "Press office\npress@uni.example");
    assert!(!en.lead.is_empty() && !en.body.is_empty() && !en.quote.is_empty());
    assert!(shipped(Language::Az).draft("Erasmus+ həftəsi", &masthead(), today).unwrap().dateline.contains("1 dekabr 2026"));
    assert!(shipped(Language::Ru).draft("Неделя Erasmus+", &masthead(), today).unwrap().dateline.contains("1 декабря 2026"));
}

#[test]
fn a_broken_template_names_its_file_and_the_problem() {
    let parse = |text: &str| PressTemplate::parse("en.txt", Language::En, text).unwrap_err().to_string();
    let all = Field::ALL.map(|f| format!("[{}]\n{{{{ title }}}}\n", f.name())).join("");
    assert!(PressTemplate::parse("en.txt", Language::En, &all).is_ok());
    assert!(parse("[headline]\n{{ title }}\n").contains("no section for dateline, lead, body, quote, boilerplate, contact"));
    assert!(parse(&all.replace("[quote]\n{{ title }}", "[quote]\n{{ rector }}")).contains("[quote] uses `rector`"));
    assert!(parse(&all.replace("[body]", "[summary]")).contains("there is no field 'summary'"));
    assert!(parse(&format!("Dear editor\n{all}")).contains("line 1: text before the first [section]"));
    assert!(parse(&all.replace("[lead]\n{{ title }}", "[lead]\n{% if %}")).contains("en.txt"));
    assert!(parse(&format!("{all}[headline]\nx\n")).contains("[headline] comes twice"));
}

#[test]
fn every_edit_is_a_new_version_and_an_edit_after_approval_needs_a_new_one() {
    let draft = release(Status::Draft, 1, None);
    let edit1 = edit(&draft, Field::Lead, "  The university opens\n\n\n its doors.  ").unwrap();
    assert_eq!((edit1.version, edit1.needs_new_approval), (2, false));
    assert_eq!(edit1.content.lead, "The university opens\n\nits doors.");
    assert_eq!(edit(&draft, Field::Headline, "A\n  new   headline").unwrap().content.headline, "A new headline");

    let approved = release(Status::Approved, 2, Some(2));
    let edit2 = edit(&approved, Field::Quote, "“Welcome,” said the rector.").unwrap();
    assert_eq!((edit2.version, edit2.needs_new_approval), (3, true));

    assert_eq!(edit(&draft, Field::Body, " \n "), Err(Refusal::Empty(Field::Body)));
    assert!(edit(&draft, Field::Quote, "").is_ok(), "a release may go without a quote");
    assert_eq!(edit(&draft, Field::Headline, "Erasmus+ week"), Err(Refusal::Unchanged(Field::Headline)));
    assert_eq!(edit(&draft, Field::Headline, &"x".repeat(301)), Err(Refusal::TooLong("headline", 300)));
    let sent = Release { out_number: Some("OUT-2026-000004".into()), ..release(Status::Sent, 2, Some(2)) };
    assert!(edit(&sent, Field::Body, "more").unwrap_err().to_string().contains("sent already, as OUT-2026-000004"));
}

#[test]
fn only_managers_of_the_international_office_or_admins_approve() {
    let draft = release(Status::Draft, 2, None);
    assert_eq!(approve(&draft, &member("international", Role::Manager)), Ok(2));
    assert_eq!(approve(&draft, &member("registry", Role::Admin)), Ok(2));
    assert_eq!(approve(&draft, &member("international", Role::Staff)), Err(Refusal::NotAnApprover));
    assert_eq!(approve(&draft, &member("finance", Role::Manager)), Err(Refusal::NotAnApprover));
    assert_eq!(approve(&draft, &member("registry", Role::Registrar)), Err(Refusal::NotAnApprover));
    let approved = release(Status::Approved, 2, Some(2));
    assert_eq!(approve(&approved, &member("international", Role::Manager)), Err(Refusal::AlreadyApproved { id: 7, version: 2 }));
    let edited = release(Status::Draft, 3, Some(2));
    assert_eq!(approve(&edited, &member("international", Role::Manager)), Ok(3));
}

#[test]
fn only_an_approved_version_goes_to_the_media_and_only_when_mail_can_go() {
    let to = vec!["news@press.example".to_string()];
    let later = Some(now() + chrono::Duration::hours(20));
    assert_eq!(check_send(&release(Status::Approved, 2, Some(2)), &to, true, later, now()), Ok(()));
    let draft = check_send(&release(Status::Draft, 1, None), &to, true, None, now()).unwrap_err();
    assert!(draft.to_string().contains("is not approved"), "{draft}");
    let edited = check_send(&release(Status::Draft, 3, Some(2)), &to, true, None, now()).unwrap_err();
    assert!(edited.to_string().contains("edited after version 2 was approved: version 3 needs a new approval"), "{edited}");
    let approved = release(Status::Approved, 2, Some(2));
    assert_eq!(check_send(&approved, &to, false, None, now()), Err(Refusal::MailDisabled));
    assert_eq!(check_send(&approved, &[], true, None, now()), Err(Refusal::NoRecipients));
    assert_eq!(check_send(&approved, &to, true, Some(now()), now()), Err(Refusal::EmbargoPassed));
    let sent = release(Status::Sent, 2, Some(2));
    assert!(matches!(check_send(&sent, &to, true, None, now()), Err(Refusal::AlreadySent { .. })));
}

#[test]
fn media_addresses_are_addresses_each_once() {
    let emails = ["news@press.example", " NEWS@press.example ", "", "not an address", "a@b", "x@y.example, z@w.example", "desk@tv.example"];
    assert_eq!(media_recipients(emails), vec!["news@press.example".to_string(), "desk@tv.example".to_string()]);
}

#[test]
fn each_newsroom_gets_its_own_copy_and_the_register_keeps_one_to_all() {
    let mut approved = release(Status::Approved, 2, Some(2));
    approved.embargo = Some(now() + chrono::Duration::hours(20));
    let to = vec!["news@press.example".to_string(), "desk@tv.example".to_string()];
    let mut ids = (1..).map(|n| format!("chancery.out.OUT-2026-000004.{n}@uni.example"));
    let (record, copies) = media_mails(&approved, "Registry <registry@uni.example>", &to, "OUT-2026-000004", || ids.next().unwrap());
    assert_eq!(record.to, to);
    assert_eq!(copies.iter().map(|m| m.to.clone()).collect::<Vec<_>>(), vec![vec![to[0].clone()], vec![to[1].clone()]]);
    let all_ids: HashSet<&str> = std::iter::once(&record).chain(&copies).map(|m| m.message_id.as_str()).collect();
    assert_eq!(all_ids.len(), 3);
    for mail in std::iter::once(&record).chain(&copies) {
        assert_eq!(mail.kind, MailKind::Correspondence);
        assert_eq!(mail.subject, "[OUT-2026-000004] Erasmus+ week");
        assert!(
            mail.text.starts_with("PRESS RELEASE\nFOR IMMEDIATE RELEASE\n\nErasmus+ week\n\nBAKU, 1 December 2026 – "),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("About the university\nBaku State University, founded in 1919"));
    }
}

#[test]
fn exports_say_what_state_the_release_is_in_and_html_is_escaped() {
    let mut draft = release(Status::Draft, 3, Some(2));
    draft.content.headline = "Students <script>alert(1)</script> & \"friends\"".into();
    draft.content.body = "First paragraph\nwith a break.\n\nSecond paragraph.".into();
    let html = html(&draft, now(), ZONE);
    assert!(html.contains("<h1>Students &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;</h1>"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(html.contains("<p>First paragraph<br>\nwith a break.</p>\n<p>Second paragraph.</p>"), "{html}");
    assert!(html.contains("<strong class=\"dateline\">BAKU, 1 December 2026</strong> – "));
    assert!(html.contains("DRAFT (version 3), not approved"));
    let markdown = markdown(&draft, now(), ZONE);
    assert!(markdown.contains("# Students \\<script>alert(1)\\</script> & \"friends\""), "{markdown}");
    assert!(markdown.contains("First paragraph  \nwith a break.\n\nSecond paragraph."));
    assert!(markdown.contains("## Media contact\n\nPress office  \npress@uni.example"));

    let mut embargoed = release(Status::Sent, 2, Some(2));
    embargoed.embargo = Some(Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap());
    assert!(markdown_note(&embargoed, now()).contains("EMBARGOED UNTIL 3 December 2026, 10:00 (Asia/Baku)"));
    assert!(markdown_note(&embargoed, now() + chrono::Duration::days(3)).contains("FOR IMMEDIATE RELEASE"));
    let russian = Release { language: Language::Ru, ..embargoed };
    assert!(markdown_note(&russian, now()).contains("ЭМБАРГО ДО 3 декабря 2026, 10:00"));
}

fn markdown_note(release: &Release, now: DateTime<Utc>) -> String {
    markdown(release, now, ZONE).lines().next().unwrap_or_default().to_string()
}

#[test]
fn fields_are_named_as_people_type_them() {
    assert_eq!(Field::parse("Headline"), Ok(Field::Headline));
    assert_eq!(Field::parse("media-contact"), Ok(Field::Contact));
    assert!(
        Field::parse("summary").unwrap_err().to_string().contains("fields: headline, dateline, lead, body, quote, boilerplate, contact")
    );
    assert_eq!(title("  Erasmus+\n week "), Ok("Erasmus+ week".to_string()));
    assert_eq!(title(" "), Err(Refusal::EmptyTitle));
}
