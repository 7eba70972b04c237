//! What a reminder's firing does, decided from plain facts: who is told and in what words, the
//! mail it queues (its Message-IDs fixed by the reminder and its step, so a resend is
//! recognisably the same mail), the letters of an agenda pack to register, the disclosures to
//! write down, and when it fires next. Pure: the store reads the facts in its firing transaction,
//! asks here, and writes the `Plan` down in that same transaction (as `core::effects::plan` and
//! `store/register.rs::write_plan` do for a registration).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::agreement::{self, AgreementKind};
use super::announce::RoomTarget;
use super::digest::Digest;
use super::meeting::{self, Meeting, Pack, PackDocument};
use super::outbound::{self, MailKind, OutgoingMail};
use super::remind::{self, Delivery, Kind, Policy, Recipient, Reminder, Subject};
use super::status::SETTLED_STATUSES;
use super::viewer::{Audience, CONFIDENTIAL_PLACEHOLDER, MemberWithAddress, Restriction, Sight, StaffMember, Viewer};
use super::visa;

/// Who registers an agenda pack's letters.
pub const PACK_ACTOR: &str = "chancery";

/// A message for the room outbox: a direct message or a room's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub target: RoomTarget,
    pub markdown: String,
}

/// A restricted document shown to someone in full: its history says to whom and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub document: i64,
    /// The Matrix ID of the person it was shown to.
    pub to: String,
    pub reason: String,
}

/// What one firing writes, in the transaction that claims it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// When the reminder fires next; `None`: it is done.
    pub next: Option<DateTime<Utc>>,
    /// Direct and room messages, in order.
    pub posts: Vec<Post>,
    /// E-mails for the mail outbox.
    pub mail: Vec<OutgoingMail>,
    /// An agenda pack: what each participant gets, in the participants' order.
    pub pack: Vec<PackSend>,
    /// Participants who have left the staff directory: nobody can judge what they are cleared
    /// for, so they get nothing.
    pub skipped: Vec<String>,
}

/// Each person once, in the order first named; one without a Matrix ID (an address only) by
/// address.
pub fn distinct(recipients: Vec<Recipient>) -> Vec<Recipient> {
    let mut seen = std::collections::HashSet::new();
    recipients.into_iter().filter(|r| seen.insert(r.mxid.clone().or_else(|| r.email.clone()))).collect()
}

/// A firing's messages as posts and mail: e-mails only when mail is on (`policy.mail_from`),
/// each with a Message-ID made of the reminder, its step and the message's place among the
/// firing's messages.
pub fn outgoing(
    reminder_id: i64,
    step: u32,
    deliveries: Vec<Delivery>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (Vec<Post>, Vec<OutgoingMail>) {
    let (mut posts, mut mail) = (Vec::new(), Vec::new());
    for (n, delivery) in deliveries.into_iter().enumerate() {
        match delivery {
            Delivery::Direct { mxid, markdown } => posts.push(Post { target: RoomTarget::Person(mxid), markdown }),
            Delivery::Room { room, markdown } => posts.push(Post { target: RoomTarget::Room(room), markdown }),
            Delivery::Email { to, subject, text } => {
                let Some(from) = &policy.mail_from else { continue };
                let domain = outbound::domain_of(from).unwrap_or_else(|| "localhost".into());
                // The reminder's id and step tell the mails of one register apart; the moment
                // tells registers apart (another register's reminder 12).
                let unique = format!("r{reminder_id}-{step}-{n}.{}", now.timestamp_micros());
                mail.push(OutgoingMail {
                    kind: MailKind::Reminder,
                    from: from.clone(),
                    to: vec![to],
                    subject,
                    text,
                    in_reply_to: None,
                    references: Vec::new(),
                    auto_submitted: true,
                    attach_original: false,
                    attachments: Vec::new(),
                    message_id: outbound::message_id(MailKind::Reminder, "", &unique, &domain),
                });
            }
        }
    }
    (posts, mail)
}

/// What a reminder counted from a date is about, as the store read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    Visa(VisaFacts),
    Letter(LetterFacts),
    Contact(ContactFacts),
    Agreement(AgreementFacts),
}

/// A visa case and who may hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisaFacts {
    pub id: i64,
    pub traveller: String,
    pub country: String,
    pub visa_kind: String,
    pub status: String,
    /// Who opened the case.
    pub in_charge: Recipient,
    /// The traveller, when on staff.
    pub traveller_on_staff: Option<Recipient>,
    /// The International Relations Office's managers.
    pub office_managers: Vec<Recipient>,
}

/// A letter and who may hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterFacts {
    pub number: String,
    pub unit: String,
    pub subject: String,
    /// As stored (`documents.confidentiality`).
    pub confidentiality: String,
    pub status: String,
    pub assignee: Option<Recipient>,
    /// The managers of its unit.
    pub managers: Vec<Recipient>,
}

/// A contact log entry with a follow-up date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFacts {
    pub id: i64,
    pub summary: String,
    pub done: bool,
    pub logged_by: Recipient,
    pub partner_handle: String,
    pub partner_name: String,
}

/// An agreement and who may hear of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementFacts {
    pub id: i64,
    pub kind: AgreementKind,
    pub partner_handle: String,
    pub partner_name: String,
    pub status: String,
    /// The International Relations Office's managers.
    pub office_managers: Vec<Recipient>,
    /// Who added the agreement.
    pub added_by: Recipient,
}

/// What a reminder of `kind` says its subject is, and who is told.
pub fn subject(kind: Kind, about: About, policy: &Policy) -> Subject {
    match about {
        About::Visa(visa) => visa_subject(visa),
        About::Letter(letter) => letter_subject(kind, letter, policy),
        About::Contact(contact) => Subject {
            title: format!("contact {} with {}: {}", contact.id, contact.partner_name, contact.summary),
            open: !contact.done,
            visa_kind: None,
            recipients: vec![contact.logged_by],
            show: Some(format!("!contacts {}", contact.partner_handle)),
        },
        // The office's managers and the person who added it hear of an agreement. "Still ends
        // on that date" is kept by renewals, which close the old end's reminders.
        About::Agreement(agreement) => {
            let mut recipients = agreement.office_managers;
            recipients.push(agreement.added_by);
            Subject {
                title: agreement::title(agreement.id, agreement.kind, &agreement.partner_handle, &agreement.partner_name),
                open: agreement.status == "active",
                visa_kind: None,
                recipients: distinct(recipients),
                show: Some(format!("!agreement show {}", agreement.id)),
            }
        }
    }
}

/// A visa case: the person in charge, the traveller when on staff, and the office's managers.
fn visa_subject(visa: VisaFacts) -> Subject {
    let mut recipients = vec![visa.in_charge];
    recipients.extend(visa.traveller_on_staff);
    recipients.extend(visa.office_managers);
    Subject {
        title: visa::case_title(visa.id, &visa.traveller, &visa.country, &visa.visa_kind),
        open: visa.status == "open",
        show: Some(format!("!visa show {}", visa.id)),
        visa_kind: Some(visa.visa_kind),
        recipients: distinct(recipients),
    }
}

/// Who a letter's reminder is for, decided before anything is read about them: the assignee
/// before the due date, else the unit's managers. The store reads only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterAudience {
    Assignee,
    Managers,
}

pub fn letter_audience(kind: Kind, assigned: bool) -> LetterAudience {
    if kind == Kind::LetterDue && assigned { LetterAudience::Assignee } else { LetterAudience::Managers }
}

/// A letter: before its due date its assignee (or, with nobody assigned, its unit's managers);
/// once overdue its unit's managers and head. A reminder is a broadcast: a restricted subject
/// is not told.
fn letter_subject(kind: Kind, letter: LetterFacts, policy: &Policy) -> Subject {
    let mut recipients = match (letter_audience(kind, letter.assignee.is_some()), letter.assignee) {
        (LetterAudience::Assignee, Some(assignee)) => vec![assignee],
        _ => letter.managers,
    };
    if kind == Kind::LetterOverdue
        && let Some(email) = policy.unit_head_emails.get(&letter.unit)
    {
        // The head may be in the directory with this address: then they are told once, there.
        if !recipients.iter().any(|r| r.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))) {
            recipients.push(Recipient { mxid: None, email: Some(email.clone()), zone: None });
        }
    }
    let hidden = Viewer::broadcast().hides_subject(Restriction::stored(&letter.confidentiality, &letter.unit));
    let about = if hidden { CONFIDENTIAL_PLACEHOLDER.to_string() } else { format!("“{}”", letter.subject) };
    Subject {
        title: format!("{} {about}, {}", letter.number, letter.unit),
        open: !SETTLED_STATUSES.contains(&letter.status.as_str()),
        visa_kind: None,
        recipients: distinct(recipients),
        show: Some(format!("!doc {}", letter.number)),
    }
}

/// A reminder counted from a date, or a personal one: `subject` is `None` for a personal
/// reminder and for a subject that no longer exists.
pub fn fire_reminder(reminder: &Reminder, subject: Option<&Subject>, policy: &Policy, now: DateTime<Utc>) -> Plan {
    let firing = remind::fire(reminder, subject, now, policy);
    let (posts, mail) = outgoing(reminder.id, reminder.step, firing.deliveries, policy, now);
    Plan { next: firing.next, posts, mail, ..Plan::default() }
}

/// Whether a unit's digest has anyone to tell: its managers in the chat, its head by e-mail.
/// Nobody: the digest need not even be read.
pub fn digest_wanted(unit: &str, managers: &[Recipient], policy: &Policy) -> bool {
    !managers.is_empty() || policy.unit_head_emails.contains_key(unit)
}

/// A unit's weekly digest (the 7 days ending `now`, read by the store when `digest_wanted`): a
/// direct message to each of its managers, and an e-mail to the head's address in `units.toml`.
/// It comes again next week.
pub fn fire_digest(reminder: &Reminder, managers: Vec<Recipient>, digest: Option<&Digest>, policy: &Policy, now: DateTime<Utc>) -> Plan {
    let mut deliveries = Vec::new();
    if let Some(digest) = digest {
        let markdown = digest.message();
        for mxid in managers.into_iter().filter_map(|manager| manager.mxid) {
            deliveries.push(Delivery::Direct { mxid, markdown: markdown.clone() });
        }
        if let Some(head) = policy.unit_head_emails.get(&digest.unit) {
            let (subject, text) = digest.email();
            deliveries.push(Delivery::Email { to: head.clone(), subject, text });
        }
    }
    let (posts, mail) = outgoing(reminder.id, reminder.step, deliveries, policy, now);
    Plan { next: Some(policy.next_digest(now)), posts, mail, ..Plan::default() }
}

/// What the store read for a meeting's agenda pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFacts {
    pub meeting: Meeting,
    pub documents: Vec<PackDocument>,
    /// The organiser, when in the staff directory: their unit's correspondence the letters are.
    pub organiser: Option<StaffMember>,
    /// Each participant as the staff directory has them, with their address; `None`: gone.
    pub participants: Vec<(String, Option<MemberWithAddress>)>,
}

/// What one participant gets of an agenda pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSend {
    /// The agenda in a direct message (mail is off, or no address known), with what it
    /// discloses.
    Chat { post: Post, disclosures: Vec<Disclosure> },
    /// A letter to register under its own OUT number and mail.
    Letter(Box<PackLetter>),
}

/// One participant's pack as an outgoing letter; its words need the number it is registered
/// under, which the store takes in the firing transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackLetter {
    pub member: String,
    /// The unit whose correspondence it is.
    pub unit: String,
    pub from: String,
    pub to: String,
    pub pack: Pack,
    meeting: Meeting,
    zone: Tz,
    at: DateTime<Utc>,
}

impl PackLetter {
    /// The register's copy and the mail, with the number in the subject.
    pub fn compose(&self, number: &str) -> (Vec<u8>, OutgoingMail) {
        let subject = format!("[{number}] {}", self.pack.subject);
        let domain = outbound::domain_of(&self.from).unwrap_or_else(|| "localhost".into());
        // The number tells this register's packs apart; the moment, registers apart.
        let unique = format!("agenda{}.{}", self.meeting.id, self.at.timestamp_micros());
        let message_id = outbound::message_id(MailKind::Correspondence, number, &unique, &domain);
        let raw = meeting::registered_copy(&self.from, &self.to, &subject, &self.pack.text, &message_id, self.at);
        let mail = OutgoingMail {
            kind: MailKind::Correspondence,
            from: self.from.clone(),
            to: vec![self.to.clone()],
            subject,
            text: self.pack.text.clone(),
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: true,
            attach_original: false,
            attachments: self.pack.attachments.clone(),
            message_id,
        };
        (raw, mail)
    }

    /// The restricted documents it carries, once registered as `number`.
    pub fn disclosures(&self, number: &str) -> Vec<Disclosure> {
        let reason = format!("{} ({number})", pack_reason(&self.meeting));
        self.pack.disclosed.iter().map(|&document| Disclosure { document, to: self.member.clone(), reason: reason.clone() }).collect()
    }

    /// The direct message that says it was sent as `number`.
    pub fn post(&self, number: &str) -> Post {
        Post {
            target: RoomTarget::Person(self.member.clone()),
            markdown: meeting::pack_sent_chat(&self.meeting, &self.pack, number, &self.to, self.zone),
        }
    }
}

/// A meeting's agenda pack (`None`: the meeting is gone). A cancelled meeting's pack is not
/// sent (its reminder ends when it is cancelled; one claimed in that instant still stays); one
/// that has begun gets a word to its organiser instead. An agenda pack fires once.
pub fn fire_agenda_pack(facts: Option<PackFacts>, policy: &Policy, now: DateTime<Utc>) -> Plan {
    let Some(facts) = facts.filter(|facts| facts.meeting.cancelled.is_none()) else { return Plan::default() };
    let meeting = &facts.meeting;
    if now >= meeting.starts_at {
        let markdown = meeting::pack_too_late_chat(meeting, policy.zone);
        return Plan { posts: vec![Post { target: RoomTarget::Person(meeting.created_by.clone()), markdown }], ..Plan::default() };
    }
    let unit = match &facts.organiser {
        Some(member) if !member.unit.is_empty() => member.unit.clone(),
        _ => policy.office_unit.clone(),
    };
    let mut plan = Plan::default();
    for (mxid, found) in &facts.participants {
        let Some((member, email)) = found else {
            plan.skipped.push(mxid.clone());
            continue;
        };
        plan.pack.push(match (email, &policy.mail_from) {
            (Some(address), Some(from)) => PackSend::Letter(Box::new(PackLetter {
                member: member.id.clone(),
                unit: unit.clone(),
                from: from.clone(),
                to: address.clone(),
                pack: meeting::pack_for(meeting, &facts.documents, member, policy.zone),
                meeting: meeting.clone(),
                zone: policy.zone,
                at: now,
            })),
            _ => pack_by_chat(meeting, &facts.documents, member, policy),
        });
    }
    plan
}

/// The agenda in a direct message, for a participant whose pack cannot be e-mailed.
fn pack_by_chat(meeting: &Meeting, documents: &[PackDocument], member: &StaffMember, policy: &Policy) -> PackSend {
    let reason = if policy.mail_from.is_none() { "mail is off" } else { "the staff directory has no e-mail address for you" };
    let markdown = meeting::pack_chat(meeting, documents, member, reason, policy.zone);
    let viewer = Viewer::new(member.clone(), Audience::Private);
    let disclosures = documents
        .iter()
        .filter(|document| {
            let restriction = Restriction { confidentiality: document.confidentiality, unit: &document.unit };
            viewer.sight(restriction) == (Sight::Full { disclosed: true })
        })
        .map(|document| Disclosure { document: document.item.document_id, to: member.id.clone(), reason: pack_reason(meeting) })
        .collect();
    PackSend::Chat { post: Post { target: RoomTarget::Person(member.id.clone()), markdown }, disclosures }
}

fn pack_reason(meeting: &Meeting) -> String {
    format!("agenda pack of meeting {}", meeting.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_letters_reminder_is_for_its_assignee_only_before_the_due_date() {
        let cases = [
            (Kind::LetterDue, true, LetterAudience::Assignee),
            (Kind::LetterDue, false, LetterAudience::Managers),
            (Kind::LetterOverdue, true, LetterAudience::Managers),
            (Kind::LetterOverdue, false, LetterAudience::Managers),
        ];
        for (kind, assigned, wanted) in cases {
            assert_eq!(letter_audience(kind, assigned), wanted, "{kind:?}, assigned: {assigned}");
        }
    }
    use crate::core::confidentiality::Confidentiality;
    use crate::core::meeting::AgendaItem;
    use crate::core::viewer::Role;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn policy(mail: bool) -> Policy {
        let mut policy = Policy::new(chrono_tz::Asia::Baku);
        policy.unit_head_emails.insert("international".into(), "head@uni.example".into());
        policy.mail_from = mail.then(|| "University Registry <registry@uni.example>".to_string());
        policy
    }

    fn person(mxid: &str, email: Option<&str>) -> Recipient {
        Recipient { mxid: Some(mxid.into()), email: email.map(Into::into), zone: None }
    }

    /// Who a subject tells: Matrix IDs, or the address of one known by address only.
    fn told(subject: &Subject) -> Vec<String> {
        subject.recipients.iter().map(|r| r.mxid.clone().or_else(|| r.email.clone()).unwrap_or_default()).collect()
    }

    fn letter(assignee: Option<Recipient>, managers: Vec<Recipient>, confidentiality: &str) -> LetterFacts {
        LetterFacts {
            number: "IN-2026-000010".into(),
            unit: "international".into(),
            subject: "Erasmus+ nominations".into(),
            confidentiality: confidentiality.into(),
            status: "registered".into(),
            assignee,
            managers,
        }
    }

    #[test]
    fn a_letter_reminder_tells_the_assignee_then_the_managers_and_the_head() {
        let manager = || person("@leyla:uni.example", Some("leyla@uni.example"));
        let head_on_staff = || person("@head:uni.example", Some("HEAD@uni.example"));
        let assignee = || Some(person("@orxan:uni.example", None));
        // (case, kind, the letter, who is told, its title)
        let table = [
            (
                "due, assigned: the assignee alone",
                Kind::LetterDue,
                letter(assignee(), vec![manager()], "internal"),
                vec!["@orxan:uni.example"],
                "IN-2026-000010 “Erasmus+ nominations”, international",
            ),
            (
                "due, nobody assigned: the managers",
                Kind::LetterDue,
                letter(None, vec![manager()], "internal"),
                vec!["@leyla:uni.example"],
                "IN-2026-000010 “Erasmus+ nominations”, international",
            ),
            (
                "overdue: the managers and the head by address",
                Kind::LetterOverdue,
                letter(assignee(), vec![manager()], "internal"),
                vec!["@leyla:uni.example", "head@uni.example"],
                "IN-2026-000010 “Erasmus+ nominations”, international",
            ),
            (
                "overdue, the head in the directory: told once, there",
                Kind::LetterOverdue,
                letter(None, vec![head_on_staff(), manager(), manager()], "internal"),
                vec!["@head:uni.example", "@leyla:uni.example"],
                "IN-2026-000010 “Erasmus+ nominations”, international",
            ),
            (
                "confidential: the subject is not told",
                Kind::LetterDue,
                letter(assignee(), Vec::new(), "confidential"),
                vec!["@orxan:uni.example"],
                "IN-2026-000010 [confidential], international",
            ),
            (
                "an unreadable level counts as secret",
                Kind::LetterDue,
                letter(assignee(), Vec::new(), "garbled"),
                vec!["@orxan:uni.example"],
                "IN-2026-000010 [confidential], international",
            ),
        ];
        for (case, kind, facts, recipients, title) in table {
            let subject = subject(kind, About::Letter(facts), &policy(true));
            assert_eq!(told(&subject), recipients, "{case}");
            assert_eq!(subject.title, title, "{case}");
            assert!(subject.open, "{case}");
        }
    }

    #[test]
    fn visas_agreements_and_contacts_tell_who_is_in_charge_and_the_office() {
        let officer = || person("@orxan:uni.example", None);
        let manager = || person("@leyla:uni.example", None);
        let visa = About::Visa(VisaFacts {
            id: 3,
            traveller: "Orxan Officer".into(),
            country: "DE".into(),
            visa_kind: "schengen".into(),
            status: "open".into(),
            in_charge: officer(),
            traveller_on_staff: Some(officer()),
            office_managers: vec![manager()],
        });
        let agreement = About::Agreement(AgreementFacts {
            id: 4,
            kind: AgreementKind::ErasmusIia,
            partner_handle: "metu".into(),
            partner_name: "Middle East Technical University".into(),
            status: "ended".into(),
            office_managers: vec![manager()],
            added_by: manager(),
        });
        let contact = About::Contact(ContactFacts {
            id: 9,
            summary: "call back".into(),
            done: true,
            logged_by: officer(),
            partner_handle: "metu".into(),
            partner_name: "METU".into(),
        });
        // (kind, facts, who is told, title, open, the command that shows it)
        let table = [
            (
                Kind::VisaApplyBy,
                visa,
                vec!["@orxan:uni.example", "@leyla:uni.example"],
                "visa case 3, Orxan Officer to DE (schengen)",
                true,
                "!visa show 3",
            ),
            (
                Kind::AgreementEnd,
                agreement,
                vec!["@leyla:uni.example"],
                "agreement 4, Erasmus+ IIA with METU (Middle East Technical University)",
                false,
                "!agreement show 4",
            ),
            (Kind::FollowUp, contact, vec!["@orxan:uni.example"], "contact 9 with METU: call back", false, "!contacts metu"),
        ];
        for (kind, about, recipients, title, open, show) in table {
            let subject = subject(kind, about, &policy(true));
            assert_eq!(
                (told(&subject), subject.title.as_str(), subject.open, subject.show.as_deref()),
                (recipients.iter().map(|s| s.to_string()).collect(), title, open, Some(show)),
                "{kind:?}"
            );
        }
    }

    fn reminder(kind: Kind) -> Reminder {
        Reminder {
            id: 12,
            kind,
            subject_id: Some(1),
            subject_key: Some("international".into()),
            deadline: None,
            step: 2,
            due_at: at("2026-12-07T04:00:00Z"),
            owner: "chancery".into(),
            target: None,
            body: Some("call the embassy".into()),
        }
    }

    #[test]
    fn mail_goes_out_only_when_mail_is_on_with_ids_fixed_by_the_reminder_and_its_step() {
        let now = at("2026-12-07T04:00:00Z");
        let deliveries = || {
            vec![
                Delivery::Direct { mxid: "@a:uni.example".into(), markdown: "hello".into() },
                Delivery::Email { to: "a@uni.example".into(), subject: "Reminder".into(), text: "hello".into() },
                Delivery::Room { room: "!room:uni.example".into(), markdown: "hello".into() },
            ]
        };
        // (mail on, posts, mail's Message-IDs)
        let table = [(true, 2, vec![format!("chancery.rem.r12-2-1.{}@uni.example", now.timestamp_micros())]), (false, 2, Vec::new())];
        for (mail_on, posts, ids) in table {
            let (got_posts, mail) = outgoing(12, 2, deliveries(), &policy(mail_on), now);
            assert_eq!(got_posts.len(), posts, "mail on: {mail_on}");
            assert_eq!(mail.iter().map(|m| m.message_id.clone()).collect::<Vec<_>>(), ids, "mail on: {mail_on}");
        }
        let mut personal = reminder(Kind::Personal);
        personal.target = Some("#office:uni.example".into());
        let plan = fire_reminder(&personal, None, &policy(true), now);
        assert_eq!(plan.posts.iter().map(|post| post.target.clone()).collect::<Vec<_>>(), [RoomTarget::Room("#office:uni.example".into())]);
        assert_eq!(plan.next, None);
    }

    #[test]
    fn a_digest_is_read_only_for_someone_and_comes_again_next_week() {
        let p = policy(true);
        // (unit, managers, wanted)
        let table = [("international", Vec::new(), true), ("hr", Vec::new(), false), ("hr", vec![person("@h:uni.example", None)], true)];
        for (unit, managers, wanted) in table {
            assert_eq!(digest_wanted(unit, &managers, &p), wanted, "{unit} {managers:?}");
        }
        let now = at("2026-12-07T04:00:00Z");
        let quiet = fire_digest(&reminder(Kind::Digest), Vec::new(), None, &p, now);
        assert_eq!(quiet, Plan { next: Some(p.next_digest(now)), ..Plan::default() });
    }

    fn member(mxid: &str, clearance: Confidentiality) -> StaffMember {
        StaffMember { id: mxid.into(), name: mxid.into(), unit: "international".into(), role: Role::Staff, clearance }
    }

    fn pack_facts(starts_at: &str, cancelled: bool) -> PackFacts {
        let meeting = Meeting {
            id: 5,
            title: "Board".into(),
            starts_at: at(starts_at),
            created_by: "@chair:uni.example".into(),
            created_at: at("2026-12-01T09:00:00Z"),
            participants: vec!["@a:uni.example".into(), "@b:uni.example".into(), "@gone:uni.example".into()],
            cancelled: cancelled.then(|| meeting::Cancellation {
                at: at("2026-12-02T09:00:00Z"),
                by: "@chair:uni.example".into(),
                reason: None,
            }),
        };
        let item = AgendaItem {
            position: 1,
            document_id: 77,
            number: "IN-2026-000012".into(),
            text: String::new(),
            added_by: "@chair:uni.example".into(),
            added_at: at("2026-12-01T09:00:00Z"),
        };
        let document = PackDocument {
            item,
            subject: "Personal file".into(),
            confidentiality: Confidentiality::Confidential,
            unit: "international".into(),
            files: Vec::new(),
        };
        PackFacts {
            meeting,
            documents: vec![document],
            organiser: Some(StaffMember { unit: String::new(), ..member("@chair:uni.example", Confidentiality::Internal) }),
            participants: vec![
                ("@a:uni.example".into(), Some((member("@a:uni.example", Confidentiality::Confidential), Some("a@uni.example".into())))),
                ("@b:uni.example".into(), Some((member("@b:uni.example", Confidentiality::Confidential), None))),
                ("@gone:uni.example".into(), None),
            ],
        }
    }

    /// One line per thing a pack plan does.
    fn pack_summary(plan: &Plan) -> Vec<String> {
        let mut lines: Vec<String> = plan
            .pack
            .iter()
            .map(|send| match send {
                PackSend::Letter(letter) => {
                    format!("letter to {} for {}, {} disclosed", letter.to, letter.unit, letter.disclosures("OUT-1").len())
                }
                PackSend::Chat { post, disclosures } => format!("chat to {}, {} disclosed", post.target, disclosures.len()),
            })
            .collect();
        lines.extend(plan.posts.iter().map(|post| format!("post to {}", post.target)));
        lines.extend(plan.skipped.iter().map(|mxid| format!("skipped {mxid}")));
        lines
    }

    #[test]
    fn an_agenda_pack_follows_the_table() {
        let now = at("2026-12-03T09:00:00Z");
        // (case, facts, mail on, what the plan does)
        let table: [(&str, Option<PackFacts>, bool, &[&str]); 5] = [
            ("the meeting is gone", None, true, &[]),
            ("cancelled", Some(pack_facts("2026-12-04T09:00:00Z", true)), true, &[]),
            ("begun: the organiser hears", Some(pack_facts("2026-12-03T08:00:00Z", false)), true, &["post to @chair:uni.example"]),
            (
                "mail on: a letter to who has an address, the chat for who has none",
                Some(pack_facts("2026-12-04T09:00:00Z", false)),
                true,
                &[
                    "letter to a@uni.example for international, 1 disclosed",
                    "chat to @b:uni.example, 1 disclosed",
                    "skipped @gone:uni.example",
                ],
            ),
            (
                "mail off: the chat for everyone",
                Some(pack_facts("2026-12-04T09:00:00Z", false)),
                false,
                &["chat to @a:uni.example, 1 disclosed", "chat to @b:uni.example, 1 disclosed", "skipped @gone:uni.example"],
            ),
        ];
        for (case, facts, mail_on, expected) in table {
            let plan = fire_agenda_pack(facts, &policy(mail_on), now);
            assert_eq!(pack_summary(&plan), expected, "{case}");
            assert_eq!(plan.next, None, "{case}: a pack fires once");
        }
    }

    #[test]
    fn a_pack_letter_is_numbered_when_registered() {
        let now = at("2026-12-03T09:00:00Z");
        let plan = fire_agenda_pack(Some(pack_facts("2026-12-04T09:00:00Z", false)), &policy(true), now);
        let PackSend::Letter(letter) = &plan.pack[0] else { panic!("{plan:?}") };
        let (raw, mail) = letter.compose("OUT-2026-000003");
        assert!(mail.subject.starts_with("[OUT-2026-000003] "), "{}", mail.subject);
        assert_eq!(mail.message_id, format!("chancery.out.OUT-2026-000003.agenda5.{}@uni.example", now.timestamp_micros()));
        assert!(String::from_utf8_lossy(&raw).contains(&mail.message_id));
        assert_eq!(
            letter.disclosures("OUT-2026-000003"),
            [Disclosure { document: 77, to: "@a:uni.example".into(), reason: "agenda pack of meeting 5 (OUT-2026-000003)".into() }]
        );
        assert!(letter.post("OUT-2026-000003").markdown.contains("**OUT-2026-000003**"));
    }
}
