//! What follows the registration of an incoming letter, decided as data: a plan of effects. The
//! history entries and their wording, the acknowledgement and the forward for the outbox (or why
//! there are none), a bounce tied back to the mail it returns, and a card for the unit's room.
//! The store looks up the few facts a plan needs, then writes the plan down in the registering
//! transaction, so all of it happens or none of it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::announce::{self, LetterCard};
use super::bounce::BounceInfo;
use super::flags::ReviewFlag;
use super::intake::{IntakePolicy, NewEntry};
use super::letter::Letter;
use super::number::{Direction, RegistrationNumber};
use super::outbound::{self, MailKind, OutgoingMail};
use super::reply::{self, Registration, UnitInfo};
use super::rules::Routing;
use super::time::day_bounds;

/// Who the history says did what Chancery does on its own.
pub const ACTOR: &str = "chancery";

/// The Message-ID domain when the sender address has none (it always has one in practice).
const FALLBACK_DOMAIN: &str = "chancery.invalid";

/// One thing a registration causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Mail about the new entry, for the outbox: its acknowledgement or its forward.
    Enqueue(OutgoingMail),
    /// An entry in a document's history, by [`ACTOR`].
    Note(Note),
    /// The new entry is a delivery report about mail sent for the document `original`: it joins
    /// that document's thread, and `original` takes `status` when there is one (a [`Note`] in the
    /// same plan records the change).
    Bounced { original: i64, status: Option<String> },
    /// A card for the unit's Matrix room, through the room outbox.
    NotifyRoom { unit: String, card: String },
}

/// A history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The new entry, or the document whose mail a bounce returns.
    pub document: i64,
    pub action: String,
    pub field: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
    pub reason: Option<String>,
}

impl Note {
    fn new(document: i64, action: impl Into<String>, reason: impl Into<String>) -> Note {
        Note { document, action: action.into(), field: None, old: None, new: None, reason: Some(reason.into()) }
    }
}

/// The new entry as the plan needs it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub id: i64,
    pub number: &'a str,
    pub letter: &'a Letter,
    pub decided: &'a NewEntry,
    pub due_on: Option<NaiveDate>,
}

/// What the register holds that bears on a plan, looked up by the store before planning.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Set when the letter is a delivery report (`bounce::bounced_message`).
    pub bounce: Option<Bounce>,
    /// Acknowledgements enqueued so far for what [`acknowledgements_to_count`] names.
    pub acknowledgements_today: u32,
}

/// A delivery report, and the document whose mail it returns when the store found one.
#[derive(Debug, Clone)]
pub struct Bounce {
    pub info: BounceInfo,
    pub returns: Option<Returned>,
}

/// A document whose mail came back.
#[derive(Debug, Clone)]
pub struct Returned {
    pub document: i64,
    /// Its status now.
    pub status: String,
    pub found_by: FoundBy,
}

/// How the store found the document a bounce returns mail of.
#[derive(Debug, Clone)]
pub enum FoundBy {
    /// The outbox row that sent the returned Message-ID, and what that mail was.
    MessageId(MailKind),
    /// A registration number the returned mail named.
    Number(String),
}

/// Acknowledgements to count before planning: those to `recipient` enqueued since `since` (the
/// start of the office's day), for the daily limit per sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgementCount {
    pub recipient: String,
    pub since: DateTime<Utc>,
}

/// What the store must count for [`Facts::acknowledgements_today`], or `None` when the plan will
/// not consider an acknowledgement at all (no reply policy, routing asks for none, no sender).
pub fn acknowledgements_to_count(entry: &Entry<'_>, policy: &IntakePolicy, zone: Tz, now: DateTime<Utc>) -> Option<AcknowledgementCount> {
    policy.replies.as_ref()?;
    entry.decided.routing.as_ref()?.acknowledge.as_ref()?;
    let recipient = reply::acknowledgement_recipient(entry.letter)?;
    Some(AcknowledgementCount { recipient, since: day_bounds(now.with_timezone(&zone).date_naive(), zone).0 })
}

/// Everything that follows the registration of `entry`, in the order the history should show it.
pub fn plan(entry: &Entry<'_>, facts: &Facts, policy: &IntakePolicy, zone: Tz, now: DateTime<Utc>) -> Vec<Effect> {
    let mut plan = vec![registered(entry)];
    let routing = entry.decided.routing.as_ref();
    if let Some(routing) = routing {
        plan.push(Effect::Note(Note {
            field: Some("unit".into()),
            new: Some(routing.unit.clone()),
            ..Note::new(entry.id, "routed", routing_explanation(routing))
        }));
    }
    // A delivery report is tied to what it returns and nothing more: answering or announcing
    // mail about our own mail helps nobody and can loop.
    if let Some(bounce) = &facts.bounce {
        plan.extend(tie_bounce(entry, bounce));
        return plan;
    }
    let Some(routing) = routing else { return plan };
    if let Some(replies) = &policy.replies {
        let unit = unit_info(entry.decided, policy);
        let local_date = reply::local_date(now, zone);
        let registration = Registration {
            number: entry.number,
            local_date: &local_date,
            unit: &unit,
            confidential: entry.decided.confidentiality.is_restricted(),
        };
        let unique = now.timestamp_micros().to_string();
        let domain = outbound::domain_of(&replies.from).unwrap_or_else(|| FALLBACK_DOMAIN.into());
        if let Some(template) = &routing.acknowledge {
            let message_id = outbound::message_id(MailKind::Acknowledgement, entry.number, &unique, &domain);
            plan.push(
                match reply::acknowledgement(entry.letter, &registration, facts.acknowledgements_today, template, replies, message_id) {
                    Ok(mail) => Effect::Enqueue(mail),
                    Err(why) => Effect::Note(Note::new(entry.id, "not-acknowledged", why.to_string())),
                },
            );
        }
        if routing.forward {
            let message_id = outbound::message_id(MailKind::Forward, entry.number, &unique, &domain);
            plan.push(match reply::forward_to_unit(entry.letter, &registration, replies, message_id) {
                Ok(mail) => Effect::Enqueue(mail),
                Err(why) => Effect::Note(Note::new(entry.id, "not-forwarded", why.to_string())),
            });
        }
    }
    if routing.notify_room && policy.notify_rooms {
        let card = announce::letter_card(&LetterCard {
            number: entry.number,
            unit: &entry.decided.unit,
            sender: entry.letter.from.first(),
            subject: &entry.letter.subject,
            confidentiality: entry.decided.confidentiality,
            due_on: entry.due_on,
        });
        plan.push(Effect::NotifyRoom { unit: entry.decided.unit.clone(), card });
    }
    plan
}

fn registered(entry: &Entry<'_>) -> Effect {
    let detail = entry.decided.flags.iter().map(ReviewFlag::describe).collect::<Vec<_>>().join("; ");
    Effect::Note(Note {
        new: Some(entry.number.to_string()),
        reason: Some(detail).filter(|d| !d.is_empty()),
        ..Note::new(entry.id, "registered", "")
    })
}

/// "why was this routed here?" in one line for the history.
fn routing_explanation(routing: &Routing) -> String {
    match &routing.rule {
        None => "no rule matched: the default unit".to_string(),
        Some(rule) => {
            let reasons: Vec<String> =
                routing.reasons.iter().filter(|r| &r.rule == rule).map(|r| format!("{} (matched {:?})", r.condition, r.matched)).collect();
            format!("rule {rule:?}: {}", reasons.join("; "))
        }
    }
}

/// The unit as replies name it; a unit the rules do not know (rules off) is its id alone.
fn unit_info(decided: &NewEntry, policy: &IntakePolicy) -> UnitInfo {
    match policy.rules.as_ref().and_then(|book| book.unit(&decided.unit)) {
        Some(u) => UnitInfo {
            id: u.id.clone(),
            email: u.email.clone(),
            names: [("en", &u.name.en), ("az", &u.name.az), ("ru", &u.name.ru)]
                .into_iter()
                .map(|(l, n)| (l.to_string(), n.clone()))
                .collect(),
        },
        None => UnitInfo { id: decided.unit.clone(), ..UnitInfo::default() },
    }
}

/// A bounce joins the thread of what it returns. A permanent failure of an outgoing letter
/// makes it `bounced` (someone must send it another way); a returned acknowledgement or
/// forward, or a delay, is only noted.
fn tie_bounce(entry: &Entry<'_>, bounce: &Bounce) -> Vec<Effect> {
    let info = &bounce.info;
    let detail =
        [info.status.as_deref(), info.recipient.as_deref(), info.diagnostic.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let Some(returned) = &bounce.returns else {
        return vec![Effect::Note(Note::new(
            entry.id,
            "bounce-unmatched",
            format!("a delivery report that matches no mail Chancery sent: {detail}"),
        ))];
    };
    let kind = match &returned.found_by {
        FoundBy::MessageId(kind) => *kind,
        FoundBy::Number(number) => match number.parse::<RegistrationNumber>() {
            Ok(n) if n.direction == Direction::Outgoing => MailKind::Correspondence,
            _ => MailKind::Acknowledgement,
        },
    };
    let reason = format!("{} reports {}: {detail}", entry.number, if info.is_permanent() { "a failed delivery" } else { "a delay" });
    if kind == MailKind::Correspondence && info.is_permanent() {
        let status = "bounced".to_string();
        vec![
            Effect::Bounced { original: returned.document, status: Some(status.clone()) },
            Effect::Note(Note {
                field: Some("status".into()),
                old: Some(returned.status.clone()),
                new: Some(status),
                ..Note::new(returned.document, "bounced", reason)
            }),
        ]
    } else {
        vec![
            Effect::Bounced { original: returned.document, status: None },
            Effect::Note(Note::new(returned.document, format!("{}-bounced", kind.as_str()), reason)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::confidentiality::Confidentiality;
    use crate::core::letter::read_letter;
    use crate::core::reply::{ReplyPolicy, Templates};
    use crate::core::rules::{Reason, RuleBook};

    const ID: i64 = 41;
    const NUMBER: &str = "IN-2026-000123";
    const ORIGINAL: i64 = 7;

    fn now() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn templates() -> Templates {
        Templates::parse([
            ("ack.en.txt", include_str!("../../mail-rules/templates/ack.en.txt")),
            ("ack.az.txt", include_str!("../../mail-rules/templates/ack.az.txt")),
            ("ack.ru.txt", include_str!("../../mail-rules/templates/ack.ru.txt")),
            ("ack-confidential.en.txt", include_str!("../../mail-rules/templates/ack-confidential.en.txt")),
            ("ack-confidential.az.txt", include_str!("../../mail-rules/templates/ack-confidential.az.txt")),
            ("ack-confidential.ru.txt", include_str!("../../mail-rules/templates/ack-confidential.ru.txt")),
            ("forward.txt", include_str!("../../mail-rules/templates/forward.txt")),
            ("forward-confidential.txt", include_str!("../../mail-rules/templates/forward-confidential.txt")),
        ])
        .expect("shipped templates")
    }

    /// The shipped units, a reply policy, and room cards on.
    fn policy() -> IntakePolicy {
        let units = vec![("units.toml".to_string(), include_str!("../../mail-rules/units.toml").to_string())];
        IntakePolicy {
            default_unit: "registry".into(),
            default_confidentiality: Confidentiality::Internal,
            rules: Some(Arc::new(RuleBook::parse(&units).expect("shipped units"))),
            replies: Some(Arc::new(ReplyPolicy {
                from: "University Registry <registry@uni.example>".into(),
                own_domains: vec!["uni.example".into()],
                max_acks_per_sender_per_day: 3,
                templates: templates(),
            })),
            holidays: Vec::new(),
            notify_rooms: true,
        }
    }

    fn letter(from: &str, subject: &str, extra_headers: &str) -> Letter {
        read_letter(
            format!(
                "From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <m1@metu.edu.tr>\r\n{extra_headers}\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear colleagues,\r\n"
            )
            .as_bytes(),
        )
    }

    fn routing(acknowledge: bool, forward: bool, notify_room: bool) -> Routing {
        let rule = "Partner universities abroad".to_string();
        Routing {
            rule: Some(rule.clone()),
            unit: "international".into(),
            classification: Some("05-01".into()),
            confidentiality: None,
            tags: vec!["partner".into()],
            due_in_working_days: Some(10),
            acknowledge: acknowledge.then(|| "default".to_string()),
            forward,
            notify_room,
            reasons: vec![Reason { rule, condition: "from matches *.edu.tr".into(), matched: "a.kaya@metu.edu.tr".into() }],
        }
    }

    fn entry(confidentiality: Confidentiality, routing: Option<Routing>) -> NewEntry {
        let unit = routing.as_ref().map_or("international".to_string(), |r| r.unit.clone());
        NewEntry { flags: Vec::new(), thread_root: None, unit, classification: None, confidentiality, routing }
    }

    fn bounce(permanent: bool, found_by: Option<FoundBy>) -> Facts {
        let info = BounceInfo {
            status: Some(if permanent { "5.1.1" } else { "4.4.1" }.into()),
            recipient: Some("nobody@metu.edu.tr".into()),
            action: Some(if permanent { "failed" } else { "delayed" }.into()),
            diagnostic: Some("user unknown".into()),
            ..BounceInfo::default()
        };
        let returns = found_by.map(|found_by| Returned { document: ORIGINAL, status: "registered".into(), found_by });
        Facts { bounce: Some(Bounce { info, returns }), acknowledgements_today: 0 }
    }

    /// One effect in a line: enough to tell plans apart in a table.
    fn summary(effect: &Effect) -> String {
        match effect {
            Effect::Enqueue(mail) => format!("enqueue {} to {}", mail.kind.as_str(), mail.to.join(", ")),
            Effect::Note(note) => format!(
                "note {} on {}{}: {}",
                note.action,
                note.document,
                note.field.as_ref().map(|f| format!(" {f} {:?} -> {:?}", note.old, note.new)).unwrap_or_default(),
                note.reason.as_deref().unwrap_or("")
            ),
            Effect::Bounced { original, status } => format!("bounced {original} {status:?}"),
            Effect::NotifyRoom { unit, .. } => format!("room {unit}"),
        }
    }

    struct Case {
        name: &'static str,
        from: &'static str,
        subject: &'static str,
        headers: &'static str,
        confidentiality: Confidentiality,
        routing: Option<Routing>,
        facts: Facts,
        policy: IntakePolicy,
        /// Each effect's summary starts with the matching line, in order.
        expect: Vec<&'static str>,
    }

    fn case(name: &'static str) -> Case {
        Case {
            name,
            from: "Prof. Ayşe Kaya <a.kaya@metu.edu.tr>",
            subject: "Joint summer school 2027",
            headers: "",
            confidentiality: Confidentiality::Internal,
            routing: Some(routing(true, false, false)),
            facts: Facts::default(),
            policy: policy(),
            expect: Vec::new(),
        }
    }

    const REGISTERED: &str = "note registered on 41: ";
    const ROUTED: &str =
        "note routed on 41 unit None -> Some(\"international\"): rule \"Partner universities abroad\": from matches *.edu.tr";

    fn cases() -> Vec<Case> {
        vec![
            Case { expect: vec![REGISTERED, ROUTED, "enqueue acknowledgement to a.kaya@metu.edu.tr"], ..case("a partner is acknowledged") },
            Case {
                from: "Dean <dean@math.uni.example>",
                expect: vec![REGISTERED, ROUTED, "note not-acknowledged on 41: dean@math.uni.example is the university's own address"],
                ..case("the university's own domain gets no acknowledgement")
            },
            Case {
                headers: "Auto-Submitted: auto-replied\r\n",
                expect: vec![REGISTERED, ROUTED, "note not-acknowledged on 41: machine-generated mail (Auto-Submitted: auto-replied)"],
                ..case("auto-submitted mail gets no acknowledgement")
            },
            Case {
                facts: Facts { acknowledgements_today: 3, ..Facts::default() },
                expect: vec![REGISTERED, ROUTED, "note not-acknowledged on 41: a.kaya@metu.edu.tr had 3 acknowledgements today already"],
                ..case("the daily limit per sender holds")
            },
            Case {
                routing: Some(routing(true, true, false)),
                expect: vec![REGISTERED, ROUTED, "enqueue acknowledgement", "enqueue forward to international@uni.example"],
                ..case("acknowledged and forwarded")
            },
            Case {
                routing: Some(Routing { unit: "nowhere".into(), ..routing(false, true, false) }),
                expect: vec![
                    REGISTERED,
                    "note routed on 41 unit None -> Some(\"nowhere\")",
                    "note not-forwarded on 41: unit nowhere has no e-mail address",
                ],
                ..case("a unit without an address gets no forward")
            },
            Case {
                routing: Some(routing(true, true, true)),
                policy: IntakePolicy { replies: None, ..policy() },
                expect: vec![REGISTERED, ROUTED, "room international"],
                ..case("without a reply policy nothing is mailed, but the room is told")
            },
            Case {
                routing: Some(routing(false, false, true)),
                policy: IntakePolicy { notify_rooms: false, ..policy() },
                expect: vec![REGISTERED, ROUTED],
                ..case("no card when rooms are not told (imports, no assistant)")
            },
            Case {
                routing: Some(routing(false, false, true)),
                confidentiality: Confidentiality::Secret,
                expect: vec![REGISTERED, ROUTED, "room international"],
                ..case("a secret letter's room is told, without its subject")
            },
            Case { routing: None, expect: vec![REGISTERED], ..case("without rules only the registration is noted") },
            Case {
                routing: Some(routing(true, true, true)),
                facts: bounce(true, Some(FoundBy::MessageId(MailKind::Correspondence))),
                expect: vec![
                    REGISTERED,
                    ROUTED,
                    "bounced 7 Some(\"bounced\")",
                    "note bounced on 7 status Some(\"registered\") -> Some(\"bounced\"): IN-2026-000123 reports a failed delivery: 5.1.1 nobody@metu.edu.tr user unknown",
                ],
                ..case("an outgoing letter that bounced is marked, and nothing is sent or announced")
            },
            Case {
                facts: bounce(false, Some(FoundBy::MessageId(MailKind::Correspondence))),
                expect: vec![
                    REGISTERED,
                    ROUTED,
                    "bounced 7 None",
                    "note correspondence-bounced on 7: IN-2026-000123 reports a delay: 4.4.1",
                ],
                ..case("a delay is only noted")
            },
            Case {
                facts: bounce(true, Some(FoundBy::MessageId(MailKind::Acknowledgement))),
                expect: vec![
                    REGISTERED,
                    ROUTED,
                    "bounced 7 None",
                    "note acknowledgement-bounced on 7: IN-2026-000123 reports a failed delivery",
                ],
                ..case("a returned acknowledgement is noted on its letter")
            },
            Case {
                facts: bounce(true, Some(FoundBy::Number("OUT-2026-000045".into()))),
                expect: vec![REGISTERED, ROUTED, "bounced 7 Some(\"bounced\")", "note bounced on 7 status"],
                ..case("a bounce found by an OUT number is an outgoing letter's")
            },
            Case {
                facts: bounce(true, Some(FoundBy::Number("IN-2026-000002".into()))),
                expect: vec![REGISTERED, ROUTED, "bounced 7 None", "note acknowledgement-bounced on 7"],
                ..case("a bounce found by an IN number returns that letter's acknowledgement")
            },
            Case {
                facts: bounce(true, None),
                expect: vec![
                    REGISTERED,
                    ROUTED,
                    "note bounce-unmatched on 41: a delivery report that matches no mail Chancery sent: 5.1.1",
                ],
                ..case("a bounce of nothing we sent is noted on itself")
            },
        ]
    }

    fn run(case: &Case) -> Vec<Effect> {
        let letter = letter(case.from, case.subject, case.headers);
        let decided = entry(case.confidentiality, case.routing.clone());
        let entry = Entry { id: ID, number: NUMBER, letter: &letter, decided: &decided, due_on: NaiveDate::from_ymd_opt(2026, 12, 15) };
        plan(&entry, &case.facts, &case.policy, chrono_tz::Asia::Baku, now())
    }

    #[test]
    fn plans_follow_the_table() {
        for case in cases() {
            let got: Vec<String> = run(&case).iter().map(summary).collect();
            assert_eq!(got.len(), case.expect.len(), "{}: {got:#?}", case.name);
            for (line, wanted) in got.iter().zip(&case.expect) {
                assert!(line.starts_with(wanted), "{}: {line:?} does not start with {wanted:?}\n{got:#?}", case.name);
            }
        }
    }

    fn effects_of(name: &str) -> Vec<Effect> {
        let case = cases().into_iter().find(|c| c.name == name).expect("case");
        run(&case)
    }

    #[test]
    fn mail_carries_message_ids_with_the_number_fixed_by_the_plan() {
        let mails: Vec<OutgoingMail> = effects_of("acknowledged and forwarded")
            .into_iter()
            .filter_map(|e| if let Effect::Enqueue(m) = e { Some(m) } else { None })
            .collect();
        let unique = now().timestamp_micros();
        assert_eq!(mails[0].message_id, format!("chancery.ack.{NUMBER}.{unique}@uni.example"));
        assert_eq!(mails[1].message_id, format!("chancery.fwd.{NUMBER}.{unique}@uni.example"));
        assert!(mails[0].subject.contains(NUMBER));
        assert!(mails[1].attach_original);
    }

    #[test]
    fn a_confidential_forward_is_a_notice_without_the_letter() {
        let case = Case {
            confidentiality: Confidentiality::Confidential,
            routing: Some(routing(false, true, false)),
            ..case("confidential forward")
        };
        let effects = run(&case);
        let Some(Effect::Enqueue(forward)) = effects.last() else { panic!("a forward: {effects:#?}") };
        assert_eq!(forward.kind, MailKind::Forward);
        assert!(!forward.attach_original, "the unit reads a confidential letter in the register");
        assert!(!forward.subject.contains("summer school") && !forward.text.contains("summer school"), "{forward:#?}");
        assert!(forward.subject.contains(NUMBER));
    }

    #[test]
    fn the_room_card_names_the_letter_unless_it_is_restricted() {
        let card_of = |effects: Vec<Effect>| match effects.last() {
            Some(Effect::NotifyRoom { card, .. }) => card.clone(),
            other => panic!("a card: {other:?}"),
        };
        let open = card_of(effects_of("without a reply policy nothing is mailed, but the room is told"));
        assert!(open.contains(NUMBER) && open.contains("Joint summer school 2027") && open.contains("a.kaya@metu.edu.tr"), "{open}");
        assert!(open.contains("due 2026-12-15"), "{open}");
        let secret = card_of(effects_of("a secret letter's room is told, without its subject"));
        assert!(secret.contains(NUMBER) && secret.contains(announce::CONFIDENTIAL_PLACEHOLDER), "{secret}");
        assert!(!secret.contains("summer school") && !secret.contains("Kaya"), "{secret}");
    }

    #[test]
    fn review_flags_are_the_registration_notes_reason() {
        let letter = letter("a@x.org", "s", "");
        let decided = NewEntry {
            flags: vec![ReviewFlag::PossibleDuplicate { message_id: "m1@x.org".into(), of: "IN-2026-000001".into() }],
            ..entry(Confidentiality::Internal, None)
        };
        let entry = Entry { id: ID, number: NUMBER, letter: &letter, decided: &decided, due_on: None };
        let Effect::Note(note) = &plan(&entry, &Facts::default(), &policy(), chrono_tz::Asia::Baku, now())[0] else { panic!("a note") };
        assert_eq!((note.action.as_str(), note.new.as_deref()), ("registered", Some(NUMBER)));
        assert!(note.reason.as_deref().is_some_and(|r| r.contains("IN-2026-000001")), "{note:?}");
    }

    #[test]
    fn acknowledgements_are_counted_only_when_one_may_be_sent() {
        let letter = letter("Prof. Ayşe Kaya <A.Kaya@metu.edu.tr>", "s", "");
        let decided = entry(Confidentiality::Internal, Some(routing(true, false, false)));
        let entry = Entry { id: ID, number: NUMBER, letter: &letter, decided: &decided, due_on: None };
        let count = acknowledgements_to_count(&entry, &policy(), chrono_tz::Asia::Baku, now()).expect("counted");
        assert_eq!(count.recipient, "a.kaya@metu.edu.tr");
        assert_eq!(count.since, "2026-11-30T20:00:00Z".parse::<DateTime<Utc>>().unwrap(), "midnight in Baku");
        assert!(acknowledgements_to_count(&entry, &IntakePolicy { replies: None, ..policy() }, chrono_tz::Asia::Baku, now()).is_none());
        let quiet = NewEntry { routing: Some(routing(false, true, true)), ..decided.clone() };
        assert!(acknowledgements_to_count(&Entry { decided: &quiet, ..entry }, &policy(), chrono_tz::Asia::Baku, now()).is_none());
    }
}
