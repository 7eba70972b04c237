//! Who may see what. Every place that shows documents to a person (chat replies, search, the
//! command line's lists, the daily register) asks a `Viewer`, so no new command can forget it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::core::confidentiality::Confidentiality;

/// Stands for the sender and subject of a confidential or secret letter wherever people who
/// are not cleared may read: a room, a reminder, a digest.
pub const CONFIDENTIAL_PLACEHOLDER: &str = "[confidential]";

/// What a staff member may do: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Staff,
    Manager,
    /// Keeps the archive: approves disposals and transfers (with admins, and only they; a
    /// registrar reaches this role in the order but not that approval, `core::archive`).
    Archivist,
    Registrar,
    Admin,
}

/// A role name that is none of `Role::ALL`, as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no role '{0}' (roles: staff, manager, archivist, registrar, admin)")]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 5] = [Role::Staff, Role::Manager, Role::Archivist, Role::Registrar, Role::Admin];

    pub fn parse(text: &str) -> Result<Role, UnknownRole> {
        let wanted = text.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|role| role.name() == wanted).ok_or_else(|| UnknownRole(text.trim().to_string()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Archivist => "archivist",
            Role::Registrar => "registrar",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may run what `needed` may run. A manager is not a registrar's
    /// superior in the register, but the order stays simple: admin > registrar > archivist > manager
    /// > staff.
    pub fn reaches(self, needed: Role) -> bool {
        self >= needed
    }
}

/// How far a person's clearance reaches: the same levels as documents' confidentiality.
pub type Clearance = Confidentiality;

/// A member of the staff directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    /// The Matrix ID, `@name:server`.
    pub id: String,
    pub name: String,
    pub unit: String,
    pub role: Role,
    pub clearance: Clearance,
}

/// A person of the staff directory with their mail address, when one is known.
pub type MemberWithAddress = (StaffMember, Option<String>);

/// Where an answer will be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Only the person asking reads it: a direct message, the terminal of `chancery chat`.
    Private,
    /// Others may read it: a room with more members than the bot and the person.
    Shared,
}

/// A person asking, and where the answer goes.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub member: StaffMember,
    pub audience: Audience,
}

/// What a viewer may see of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sight {
    /// Everything; `disclosed` when the document is restricted, so that the showing is
    /// written to its history.
    Full { disclosed: bool },
    /// Number, status, unit and dates only; `ask_privately` when the person would see it in
    /// a direct message.
    Redacted { ask_privately: bool },
}

/// The facts about a document that decide who may see it.
#[derive(Debug, Clone, Copy)]
pub struct Restriction<'a> {
    pub confidentiality: Confidentiality,
    pub unit: &'a str,
}

impl<'a> Restriction<'a> {
    /// From the level as the register stores it (`documents.confidentiality`).
    pub fn stored(confidentiality: &str, unit: &'a str) -> Restriction<'a> {
        Restriction { confidentiality: stored_level(confidentiality), unit }
    }
}

/// A level as the register stores it. One the register does not know is taken as secret: a
/// damaged entry must not show more than it should, and nobody gets what nobody can judge.
pub fn stored_level(text: &str) -> Confidentiality {
    Confidentiality::parse(text).unwrap_or(Confidentiality::Secret)
}

impl Viewer {
    pub fn new(member: StaffMember, audience: Audience) -> Viewer {
        Viewer { member, audience }
    }

    /// The operator at the command line, reading a list or a register that may be printed or
    /// passed on: restricted subjects are hidden, as they are in a shared room.
    pub fn console_list() -> Viewer {
        Viewer::new(
            StaffMember {
                id: "console".into(),
                name: "console".into(),
                unit: String::new(),
                role: Role::Registrar,
                clearance: Confidentiality::Public,
            },
            Audience::Shared,
        )
    }

    /// The operator at the command line asking for one document by number (`docs show`): the
    /// registry's own console, cleared for everything; the disclosure is recorded.
    pub fn console_operator(actor: &str) -> Viewer {
        Viewer::new(
            StaffMember {
                id: actor.into(),
                name: actor.into(),
                unit: String::new(),
                role: Role::Admin,
                clearance: Confidentiality::Secret,
            },
            Audience::Private,
        )
    }

    /// Whoever may read a broadcast: a unit's room, a reminder, a digest, all of which are
    /// forwarded and printed. Nobody's clearance is assumed, so restricted subjects are hidden.
    pub fn broadcast() -> Viewer {
        Viewer::console_list()
    }

    /// Whether this viewer is kept from a document's sender and subject.
    pub fn hides_subject(&self, document: Restriction<'_>) -> bool {
        matches!(self.sight(document), Sight::Redacted { .. })
    }

    /// A document's subject as this viewer may read it: [`CONFIDENTIAL_PLACEHOLDER`] when it
    /// is hidden from them.
    pub fn subject<'s>(&self, document: Restriction<'_>, subject: &'s str) -> Cow<'s, str> {
        if self.hides_subject(document) { Cow::Borrowed(CONFIDENTIAL_PLACEHOLDER) } else { Cow::Borrowed(subject) }
    }

    /// Whether this person's role reaches `needed`.
    pub fn may(&self, needed: Role) -> bool {
        self.member.role.reaches(needed)
    }

    /// Whether this person may work on a document of `unit` (acknowledge, assign, set its
    /// status, add a note): its unit's staff, the person it is assigned to, and the registry
    /// (registrars and admins), which keeps the register as a whole.
    pub fn may_work_on(&self, unit: &str, assignee: Option<&str>) -> bool {
        self.member.unit == unit || assignee == Some(self.member.id.as_str()) || self.member.role.reaches(Role::Registrar)
    }

    /// Whether this person may change a document's due date or its unit: the registry, and
    /// the managers of its unit, who answer for its deadlines.
    pub fn may_reschedule(&self, unit: &str) -> bool {
        self.member.role.reaches(Role::Registrar) || (self.member.role == Role::Manager && self.member.unit == unit)
    }

    /// What this viewer may see of a document.
    pub fn sight(&self, document: Restriction<'_>) -> Sight {
        if !document.confidentiality.is_restricted() {
            return Sight::Full { disclosed: false };
        }
        let cleared = self.member.clearance >= document.confidentiality
            && (self.member.role.reaches(Role::Registrar) || self.member.unit == document.unit);
        match (cleared, self.audience) {
            (true, Audience::Private) => Sight::Full { disclosed: true },
            (true, Audience::Shared) => Sight::Redacted { ask_privately: true },
            (false, _) => Sight::Redacted { ask_privately: false },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role, clearance: Confidentiality, unit: &str, audience: Audience) -> Viewer {
        Viewer::new(StaffMember { id: "@p:x".into(), name: "P".into(), unit: unit.into(), role, clearance }, audience)
    }

    fn doc(confidentiality: Confidentiality, unit: &str) -> Restriction<'_> {
        Restriction { confidentiality, unit }
    }

    #[test]
    fn public_and_internal_documents_are_shown_to_every_staff_member() {
        let clerk = person(Role::Staff, Confidentiality::Public, "finance", Audience::Shared);
        assert_eq!(clerk.sight(doc(Confidentiality::Public, "hr")), Sight::Full { disclosed: false });
        assert_eq!(clerk.sight(doc(Confidentiality::Internal, "hr")), Sight::Full { disclosed: false });
    }

    #[test]
    fn a_confidential_document_needs_clearance_and_the_unit_or_the_registry() {
        let in_unit = person(Role::Staff, Confidentiality::Confidential, "hr", Audience::Private);
        assert_eq!(in_unit.sight(doc(Confidentiality::Confidential, "hr")), Sight::Full { disclosed: true });
        let other_unit = person(Role::Manager, Confidentiality::Secret, "finance", Audience::Private);
        assert_eq!(other_unit.sight(doc(Confidentiality::Confidential, "hr")), Sight::Redacted { ask_privately: false });
        let registrar = person(Role::Registrar, Confidentiality::Confidential, "registry", Audience::Private);
        assert_eq!(registrar.sight(doc(Confidentiality::Confidential, "hr")), Sight::Full { disclosed: true });
        assert_eq!(registrar.sight(doc(Confidentiality::Secret, "hr")), Sight::Redacted { ask_privately: false });
        let uncleared = person(Role::Staff, Confidentiality::Internal, "hr", Audience::Private);
        assert_eq!(uncleared.sight(doc(Confidentiality::Confidential, "hr")), Sight::Redacted { ask_privately: false });
    }

    #[test]
    fn a_shared_room_never_shows_a_restricted_document_even_to_the_cleared() {
        let in_room = person(Role::Admin, Confidentiality::Secret, "hr", Audience::Shared);
        assert_eq!(in_room.sight(doc(Confidentiality::Secret, "hr")), Sight::Redacted { ask_privately: true });
    }

    #[test]
    fn the_unit_the_assignee_and_the_registry_work_on_a_document() {
        let officer = person(Role::Staff, Confidentiality::Internal, "international", Audience::Shared);
        assert!(officer.may_work_on("international", None));
        assert!(!officer.may_work_on("finance", None));
        assert!(officer.may_work_on("finance", Some("@p:x")), "the assignee may, whatever the unit");
        let manager = person(Role::Manager, Confidentiality::Secret, "rectorate", Audience::Private);
        assert!(!manager.may_work_on("finance", Some("@other:x")));
        assert!(person(Role::Registrar, Confidentiality::Internal, "registry", Audience::Shared).may_work_on("hr", None));
    }

    #[test]
    fn the_registry_and_the_units_managers_move_a_due_date() {
        let may = |role, unit| person(role, Confidentiality::Internal, unit, Audience::Private).may_reschedule("international");
        assert!(may(Role::Manager, "international"));
        assert!(may(Role::Registrar, "registry") && may(Role::Admin, "it"));
        assert!(!may(Role::Staff, "international"), "the unit's staff may not");
        assert!(!may(Role::Manager, "finance"), "another unit's manager may not");
    }

    #[test]
    fn a_broadcast_hides_every_restricted_subject_and_an_unknown_level_counts_as_secret() {
        // (stored level, what a broadcast shows of the subject "Personal file")
        let table = [
            ("public", "Personal file"),
            ("internal", "Personal file"),
            ("Internal ", "Personal file"),
            ("confidential", CONFIDENTIAL_PLACEHOLDER),
            ("secret", CONFIDENTIAL_PLACEHOLDER),
            ("garbled", CONFIDENTIAL_PLACEHOLDER),
            ("", CONFIDENTIAL_PLACEHOLDER),
        ];
        for (stored, shown) in table {
            assert_eq!(Viewer::broadcast().subject(Restriction::stored(stored, "hr"), "Personal file"), shown, "{stored:?}");
        }
        assert_eq!(stored_level("garbled"), Confidentiality::Secret);
        assert_eq!(stored_level("confidential"), Confidentiality::Confidential);
    }

    #[test]
    fn the_console_lists_hide_and_the_console_operator_sees() {
        assert_eq!(Viewer::console_list().sight(doc(Confidentiality::Confidential, "hr")), Sight::Redacted { ask_privately: false });
        assert_eq!(Viewer::console_operator("op").sight(doc(Confidentiality::Secret, "hr")), Sight::Full { disclosed: true });
    }
}
