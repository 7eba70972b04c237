//! Letters of the seeded store, routed by the shipped rules. Numbers follow the order here.

use chancery::core::intake::IntakePolicy;
use chancery::store::Store;
use chrono::Duration;

use super::{now, register};

/// IN-2026-000001: Erasmus mobility from a partner in Turkey (international, due in 10 working days).
pub const ERASMUS: &str = "IN-2026-000001";
/// IN-2026-000002: a personal file (hr, confidential).
pub const PERSONAL_FILE: &str = "IN-2026-000002";
/// IN-2026-000003: an invoice-like letter to the registry (no rule: registry, internal).
pub const PLAIN: &str = "IN-2026-000003";

fn letter(from: &str, subject: &str, body: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@seed.example>\r\n\
         Date: Mon, 16 Nov 2026 10:00:00 +0400\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

pub async fn seed(store: &Store, policy: &IntakePolicy) {
    let letters = [
        letter(
            "Ayşe Demir <international@metu.edu.tr>",
            "Erasmus+ mobility nominations for spring 2027",
            "Dear colleagues, please find our nominations for the spring semester.",
            "erasmus",
        ),
        letter(
            "Ministry HR <hr@ministry.example>",
            "Personal file of Dr. Rashad Mammadov",
            "The personal file is attached for your review.",
            "personal-file",
        ),
        letter("Baku Office Supplies <sales@supplies.example>", "Catalogue of office furniture", "Our new catalogue.", "plain"),
    ];
    // Registered two weeks ago, so that due dates have passed by `now()`.
    let at = now() - Duration::days(15);
    for raw in letters {
        register(store, policy, &raw, at).await;
    }
}
