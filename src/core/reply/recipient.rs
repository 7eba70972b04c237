//! Who may get automatic mail: never a program (auto-responders, lists, bounces, our own
//! mail) and never the university's own addresses, for that is where loops and backscatter
//! come from.

use super::ReplyPolicy;
use crate::core::letter::Letter;
use crate::core::outbound::{LOOP_HEADER, domain_of};

/// Why a letter was written by a program rather than a person, or `None` for a person's letter.
pub fn is_machine_generated(letter: &Letter) -> Option<String> {
    let has = |name: &str| letter.header_values(name).next().is_some();
    let values = |name: &'static str| letter.header_values(name).map(|v| v.trim().to_ascii_lowercase()).collect::<Vec<_>>();

    if has(LOOP_HEADER) {
        return Some(format!("{LOOP_HEADER} header: mail written by Chancery"));
    }
    for value in values("Auto-Submitted") {
        let token = value.split(';').next().unwrap_or("").trim();
        if token != "no" {
            return Some(format!("Auto-Submitted: {token}"));
        }
    }
    for value in values("Precedence") {
        if matches!(value.as_str(), "bulk" | "list" | "junk") {
            return Some(format!("Precedence: {value}"));
        }
    }
    for header in ["X-Auto-Response-Suppress", "List-Id", "X-Autoreply", "X-Autorespond"] {
        if has(header) {
            return Some(format!("{header} header"));
        }
    }
    for value in values("Return-Path") {
        if value.is_empty() || value == "<>" {
            return Some("empty Return-Path <> (a bounce)".into());
        }
    }
    for value in values("Content-Type") {
        if value.starts_with("multipart/report") {
            return Some("multipart/report (a delivery or read report)".into());
        }
    }
    let return_path = values("Return-Path");
    let senders = letter.from.iter().map(|c| c.address.to_ascii_lowercase()).chain(return_path);
    for address in senders {
        let local = address.trim_matches(['<', '>']).split('@').next().unwrap_or("").to_string();
        let local = local.split('+').next().unwrap_or("");
        if matches!(
            local,
            "mailer-daemon" | "postmaster" | "noreply" | "no-reply" | "no_reply" | "donotreply" | "do-not-reply" | "do_not_reply"
        ) {
            return Some(format!("sender {address}"));
        }
    }
    None
}

/// Where an acknowledgement of this letter goes: its first sender address, lower case. The
/// caller counts today's acknowledgements to this address (the outbox's `ack_recipient`).
pub fn acknowledgement_recipient(letter: &Letter) -> Option<String> {
    letter.from.iter().map(|c| c.address.trim().to_lowercase()).find(|a| a.contains('@'))
}

pub(super) fn is_own_address(address: &str, policy: &ReplyPolicy) -> bool {
    if same_address(address, &policy.from) {
        return true;
    }
    let Some(domain) = domain_of(address) else { return false };
    policy
        .own_domains
        .iter()
        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .any(|own| domain == own || domain.strip_suffix(own.as_str()).is_some_and(|rest| rest.ends_with('.')))
}

pub(super) fn same_address(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.rsplit_once('<').map_or(s, |(_, rest)| rest).trim().trim_end_matches('>').trim().to_lowercase();
    bare(a) == bare(b)
}
