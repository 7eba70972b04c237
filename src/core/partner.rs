//! Partner institutions and the contact log, as plain data: what a partner, a person at it and
//! a logged contact must look like, and which addresses belong to a partner's domains.

use chrono::NaiveDate;
use serde::Serialize;

use super::letter::Correspondent;
use super::number::Direction;

/// Why what was typed is not a partner, a person at one or a contact; the variants hold the
/// text as typed (trimmed) or the field at fault, and Display says it as a reply does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartnerError {
    #[error("there is no kind '{0}' (kinds: {kinds})", kinds = PartnerKind::names())]
    UnknownKind(String),
    #[error("there is no way of contact '{0}' (via: {via})", via = Channel::ALL.map(Channel::as_str).join(", "))]
    UnknownChannel(String),
    #[error(
        "'{0}' is not a handle: use up to {MAX_HANDLE_CHARS} letters a-z, digits and hyphens, starting with a letter (like metu or ut-tartu)"
    )]
    NotAHandle(String),
    #[error("'{0}' is a word the commands use; choose another handle")]
    ReservedHandle(String),
    #[error("the {field} is empty")]
    Empty { field: &'static str },
    #[error("the {field} must be one line of at most {MAX_NAME_CHARS} characters")]
    NotOneLine { field: &'static str },
    #[error("'{0}' is not a country code: use the two letters of ISO 3166-1, such as AZ, TR, DE or EE")]
    NotACountry(String),
    #[error("'{0}' is not a mail domain (like metu.edu.tr; names in other scripts in their xn-- form)")]
    NotADomain(String),
    #[error("give at least one domain (domain=metu.edu.tr or domain=a.example,b.example)")]
    NoDomain,
    #[error("'{0}' is not a mail address (like name@partner.example)")]
    NotAnAddress(String),
    #[error("say what the contact was about (the text after the options)")]
    NoSummary,
    #[error("the summary is longer than {MAX_SUMMARY_CHARS} characters")]
    LongSummary,
    #[error("the follow-up date {follow_up} has passed (today is {today})")]
    FollowUpPassed { follow_up: NaiveDate, today: NaiveDate },
}

/// What sort of institution a partner is; `media` partners receive press releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerKind {
    University,
    Embassy,
    Organization,
    Media,
    Company,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 5] =
        [PartnerKind::University, PartnerKind::Embassy, PartnerKind::Organization, PartnerKind::Media, PartnerKind::Company];

    pub fn parse(text: &str) -> Result<PartnerKind, PartnerError> {
        let wanted = text.trim().to_ascii_lowercase();
        PartnerKind::ALL.into_iter().find(|kind| kind.as_str() == wanted).ok_or_else(|| PartnerError::UnknownKind(text.trim().to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::University => "university",
            PartnerKind::Embassy => "embassy",
            PartnerKind::Organization => "organization",
            PartnerKind::Media => "media",
            PartnerKind::Company => "company",
        }
    }

    /// "university, embassy, …", for messages.
    pub fn names() -> String {
        PartnerKind::ALL.map(PartnerKind::as_str).join(", ")
    }
}

/// How a contact took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Call,
    Meeting,
    Visit,
    Event,
}

impl Channel {
    pub const ALL: [Channel; 5] = [Channel::Email, Channel::Call, Channel::Meeting, Channel::Visit, Channel::Event];

    pub fn parse(text: &str) -> Result<Channel, PartnerError> {
        let wanted = text.trim().to_ascii_lowercase();
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == wanted)
            .ok_or_else(|| PartnerError::UnknownChannel(text.trim().to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Call => "call",
            Channel::Meeting => "meeting",
            Channel::Visit => "visit",
            Channel::Event => "event",
        }
    }
}

/// A partner institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    /// The short name people type (`metu`), lower case, unique.
    pub handle: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub kind: PartnerKind,
    /// Lower case; the addresses on them and on their subdomains are the partner's.
    pub domains: Vec<String>,
}

impl Partner {
    /// A partner from what was typed (`domains` comma-separated), or what is wrong with it.
    pub fn check(handle: &str, name: &str, country: &str, kind: &str, domains: &str) -> Result<Partner, PartnerError> {
        Ok(Partner {
            handle: self::handle(handle)?,
            name: self::name(name, "name")?,
            country: self::country(country)?,
            kind: PartnerKind::parse(kind)?,
            domains: self::domains(domains)?,
        })
    }

    /// Whether a mail address is on one of this partner's domains.
    pub fn owns_address(&self, address: &str) -> bool {
        address_domain(address).is_some_and(|domain| self.domains.iter().any(|own| domain_covers(own, &domain)))
    }
}

/// A person at a partner institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerPerson {
    pub name: String,
    pub email: String,
    /// What they do there ("Erasmus coordinator"); may be empty.
    pub role: String,
}

impl PartnerPerson {
    pub fn check(name: &str, email: &str, role: &str) -> Result<PartnerPerson, PartnerError> {
        let role = role.trim();
        if role.chars().count() > MAX_NAME_CHARS || role.chars().any(char::is_control) {
            return Err(PartnerError::NotOneLine { field: "role" });
        }
        Ok(PartnerPerson { name: self::name(name, "name")?, email: self::email(email)?, role: role.to_string() })
    }
}

/// A contact to be logged: how, what was said, and when to follow it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub via: Channel,
    pub summary: String,
    pub follow_up: Option<NaiveDate>,
}

impl NewContact {
    /// Refuses an empty summary and a follow-up before `today` (the office's day).
    pub fn check(via: &str, summary: &str, follow_up: Option<NaiveDate>, today: NaiveDate) -> Result<NewContact, PartnerError> {
        let summary = summary.trim();
        if summary.is_empty() {
            return Err(PartnerError::NoSummary);
        }
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(PartnerError::LongSummary);
        }
        if let Some(day) = follow_up
            && day < today
        {
            return Err(PartnerError::FollowUpPassed { follow_up: day, today });
        }
        Ok(NewContact { via: Channel::parse(via)?, summary: summary.to_string(), follow_up })
    }
}

/// Whether a follow-up still open is due on `today`.
pub fn follow_up_due(follow_up: Option<NaiveDate>, done: bool, today: NaiveDate) -> bool {
    !done && follow_up.is_some_and(|day| day <= today)
}

const MAX_HANDLE_CHARS: usize = 32;
const MAX_NAME_CHARS: usize = 200;
const MAX_SUMMARY_CHARS: usize = 2000;

/// Words the partner and contact commands take in a handle's place.
const RESERVED_HANDLES: [&str; 2] = ["due", "done"];

/// A handle as stored: lower case letters, digits and hyphens, starting with a letter.
pub fn handle(text: &str) -> Result<String, PartnerError> {
    let handle = text.trim().to_lowercase();
    let well_formed = handle.starts_with(|c: char| c.is_ascii_lowercase())
        && handle.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && handle.len() <= MAX_HANDLE_CHARS;
    if !well_formed {
        return Err(PartnerError::NotAHandle(text.trim().to_string()));
    }
    if RESERVED_HANDLES.contains(&handle.as_str()) {
        return Err(PartnerError::ReservedHandle(handle));
    }
    Ok(handle)
}

fn name(text: &str, field: &'static str) -> Result<String, PartnerError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(PartnerError::Empty { field });
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PartnerError::NotOneLine { field });
    }
    Ok(name.to_string())
}

/// ISO 3166-1 alpha-2 codes, and XK (Kosovo), which the EU and most registries use.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH \
GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB \
LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG \
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/// A country code, upper case, or why it is not one.
pub fn country(text: &str) -> Result<String, PartnerError> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 2 && COUNTRIES.split(' ').any(|known| known == code) {
        Ok(code)
    } else {
        Err(PartnerError::NotACountry(text.trim().to_string()))
    }
}

/// A mail domain, lower case: two or more labels of letters, digits and hyphens.
pub fn domain(text: &str) -> Result<String, PartnerError> {
    let typed = text.trim();
    let domain = typed.trim_start_matches('@').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let top_ok = labels.last().is_some_and(|top| top.chars().all(|c| c.is_ascii_lowercase()) || top.starts_with("xn--"));
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) || !top_ok {
        return Err(PartnerError::NotADomain(typed.to_string()));
    }
    Ok(domain)
}

/// Comma-separated domains, each checked, without repeats.
pub fn domains(text: &str) -> Result<Vec<String>, PartnerError> {
    let mut found: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let domain = domain(part)?;
        if !found.contains(&domain) {
            found.push(domain);
        }
    }
    if found.is_empty() {
        return Err(PartnerError::NoDomain);
    }
    Ok(found)
}

/// A mail address with its domain in lower case, or why it is not one.
pub fn email(text: &str) -> Result<String, PartnerError> {
    let typed = text.trim().trim_start_matches("mailto:");
    let refused = || PartnerError::NotAnAddress(text.trim().to_string());
    let (local, at_domain) = typed.rsplit_once('@').ok_or_else(refused)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(['@', '<', '>', '"', ',', ';'])
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    let domain = domain(at_domain).map_err(|_| refused())?;
    if !local_ok {
        return Err(refused());
    }
    Ok(format!("{local}@{domain}"))
}

/// The domain of a mail address, lower case.
pub fn address_domain(address: &str) -> Option<String> {
    let (_, domain) = address.trim().trim_end_matches('>').rsplit_once('@')?;
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// Whether `domain` is `partner_domain` or one of its subdomains (`mail.ut.ee` is `ut.ee`'s,
/// `notut.ee` is not). Both lower case.
pub fn domain_covers(partner_domain: &str, domain: &str) -> bool {
    domain == partner_domain || domain.strip_suffix(partner_domain).is_some_and(|head| head.ends_with('.'))
}

/// The domains a letter is filed under, so that a partner's letters are found by an exact,
/// indexed match (`document_domains`): the domain of each correspondent that makes a letter a
/// partner's (the first sender of an incoming letter, each recipient of an outgoing one) and
/// every parent of it down to two labels. Storing the parents (`mail.ut.ee` files under `ut.ee`
/// too) is what lets `ut.ee` find its subdomains' letters by equality; a suffix match through a
/// reversed domain would need a `LIKE` prefix index, which the two databases build differently.
/// Migration 0017 fills the same for letters registered before it, in SQL.
pub fn filing_domains(direction: Direction, from: &[Correspondent], to: &[Correspondent]) -> Vec<String> {
    let addresses = match direction {
        Direction::Incoming => &from[..from.len().min(1)],
        Direction::Outgoing => to,
    };
    let mut found: Vec<String> = Vec::new();
    for mut domain in addresses.iter().filter_map(|c| address_domain(&c.address)) {
        while let Some((_, parent)) = domain.split_once('.') {
            let parent = parent.to_string();
            if !found.contains(&domain) {
                found.push(domain);
            }
            domain = parent;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_partner_is_checked_and_normalised_as_typed() {
        let partner =
            Partner::check("METU", " Middle East Technical University ", "tr", "University", "metu.edu.tr, @CC.METU.EDU.TR,metu.edu.tr")
                .unwrap();
        assert_eq!(partner.handle, "metu");
        assert_eq!(partner.name, "Middle East Technical University");
        assert_eq!(partner.country, "TR");
        assert_eq!(partner.kind, PartnerKind::University);
        assert_eq!(partner.domains, ["metu.edu.tr", "cc.metu.edu.tr"]);
    }

    #[test]
    fn a_wrong_kind_is_refused_with_the_kinds_there_are() {
        let error = Partner::check("x", "X", "TR", "school", "x.example").unwrap_err().to_string();
        assert_eq!(error, "there is no kind 'school' (kinds: university, embassy, organization, media, company)");
    }

    #[test]
    fn countries_are_iso_codes() {
        assert_eq!(country("ee").unwrap(), "EE");
        assert_eq!(country("XK").unwrap(), "XK");
        for wrong in ["ZZ", "TUR", "", "T", "Türkiye"] {
            assert!(country(wrong).unwrap_err().to_string().contains("is not a country code"), "{wrong}");
        }
        assert_eq!(COUNTRIES.split(' ').count(), 250);
    }

    #[test]
    fn handles_are_short_lower_case_words() {
        assert_eq!(handle("UT-Tartu").unwrap(), "ut-tartu");
        for wrong in ["1ut", "ut tartu", "ut_tartu", "ütartu", "-ut", "", &"a".repeat(33)] {
            assert!(handle(wrong).unwrap_err().to_string().contains("is not a handle"), "{wrong}");
        }
        assert!(handle("due").unwrap_err().to_string().contains("commands use"));
    }

    #[test]
    fn domains_are_checked_label_by_label() {
        assert_eq!(domains("ut.ee,,xn--80ak6aa92e.com").unwrap(), ["ut.ee", "xn--80ak6aa92e.com"]);
        for wrong in ["ut", "ut..ee", "-ut.ee", "ut-.ee", "u t.ee", "ut.ee/", "ütartu.ee", "ut.123", "x@ut.ee"] {
            assert!(domain(wrong).unwrap_err().to_string().contains("is not a mail domain"), "{wrong}");
        }
        assert!(domains(" , ").unwrap_err().to_string().contains("at least one domain"));
    }

    #[test]
    fn mail_addresses_keep_their_local_part_and_lower_their_domain() {
        assert_eq!(email("Ayse.Demir@METU.edu.tr").unwrap(), "Ayse.Demir@metu.edu.tr");
        assert_eq!(email("mailto:news@trend.az").unwrap(), "news@trend.az");
        for wrong in ["news", "@trend.az", "news@", "news@@trend.az", "a b@trend.az", "news@trend", "<news@trend.az>"] {
            assert!(email(wrong).unwrap_err().to_string().contains("is not a mail address"), "{wrong}");
        }
    }

    #[test]
    fn a_letter_is_filed_under_its_correspondents_domains_and_their_parents() {
        let at = |address: &str| Correspondent { name: None, address: address.into() };
        let from = [at("Rector@Mail.UT.ee>"), at("second@other.example")];
        let to = [at("a@b.mail.ut.ee"), at("c@ut.ee"), at("nobody"), at("x@localhost")];
        assert_eq!(filing_domains(Direction::Incoming, &from, &to), ["mail.ut.ee", "ut.ee"], "the first sender only");
        assert_eq!(filing_domains(Direction::Outgoing, &from, &to), ["b.mail.ut.ee", "mail.ut.ee", "ut.ee"], "every recipient, once");
        assert!(filing_domains(Direction::Incoming, &[], &to).is_empty());
    }

    #[test]
    fn a_subdomain_belongs_to_the_partner_and_a_lookalike_does_not() {
        let partner = Partner::check("tu", "Tartu Ülikool", "EE", "university", "ut.ee").unwrap();
        assert!(partner.owns_address("rector@ut.ee"));
        assert!(partner.owns_address("Erasmus@MAIL.UT.EE"));
        assert!(partner.owns_address("a@b.mail.ut.ee>"));
        assert!(!partner.owns_address("someone@notut.ee"));
        assert!(!partner.owns_address("ut.ee@gmail.com"));
        assert!(!partner.owns_address("ut.ee"));
        assert!(domain_covers("ut.ee", "ut.ee") && !domain_covers("mail.ut.ee", "ut.ee"));
    }

    #[test]
    fn people_need_a_name_and_an_address() {
        let person = PartnerPerson::check("Ayşe Demir", "international@metu.edu.tr", " Erasmus coordinator ").unwrap();
        assert_eq!(person.role, "Erasmus coordinator");
        assert!(PartnerPerson::check(" ", "a@b.example", "").unwrap_err().to_string().contains("name is empty"));
        assert!(PartnerPerson::check("A", "nobody", "").unwrap_err().to_string().contains("not a mail address"));
    }

    #[test]
    fn a_contact_needs_a_way_a_summary_and_a_follow_up_not_yet_past() {
        let today = day("2026-12-01");
        let contact = NewContact::check("Call", " Agreed on spring nominations ", Some(today), today).unwrap();
        assert_eq!((contact.via, contact.summary.as_str()), (Channel::Call, "Agreed on spring nominations"));
        assert!(NewContact::check("fax", "x", None, today).unwrap_err().to_string().contains("(via: email, call, meeting, visit, event)"));
        assert!(NewContact::check("call", "  ", None, today).unwrap_err().to_string().contains("what the contact was about"));
        assert!(NewContact::check("call", "x", Some(day("2026-11-30")), today).unwrap_err().to_string().contains("has passed"));
    }

    #[test]
    fn a_follow_up_is_due_on_its_day_until_done() {
        let today = day("2026-12-01");
        assert!(follow_up_due(Some(today), false, today));
        assert!(follow_up_due(Some(day("2026-11-20")), false, today));
        assert!(!follow_up_due(Some(day("2026-12-02")), false, today));
        assert!(!follow_up_due(Some(today), true, today));
        assert!(!follow_up_due(None, false, today));
    }
}
