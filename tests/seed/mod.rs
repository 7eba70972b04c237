//! A store seeded the same way for every command's examples (`commands/*.toml`) and the chat
//! tests: a staff directory, letters routed by the shipped rules, and what each area adds.
//! The clock is fixed at `now()`, so examples may name dates.
#![allow(dead_code)]

use std::path::Path;

use chancery::commands::Settings;
use chancery::core::confidentiality::Confidentiality;
use chancery::core::intake::{IntakePolicy, Source};
use chancery::core::letter::read_letter;
use chancery::core::viewer::{Role, StaffMember};
use chancery::store::{Arrival, Store};
use chrono::{DateTime, TimeZone, Utc};

pub mod documents;
pub mod partners;
pub mod press;

/// The seeded world's "now": Tuesday 1 December 2026, 13:00 in Baku.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The settings the commands read, with the shipped units.
pub fn settings() -> Settings {
    let book = chancery::rule_files::load(&manifest_dir().join("mail-rules")).expect("shipped rules load");
    Settings {
        zone: chrono_tz::Asia::Baku,
        units: book.units().iter().map(|u| u.id.clone()).collect(),
        university: chancery::config::UniversityConfig::default(),
        from_address: "University Registry <registry@uni.example>".into(),
        press: chancery::core::press::PressSettings {
            templates_dir: manifest_dir().join("mail-rules/templates/press"),
            mail_enabled: true,
        },
        visa_kinds: chancery::core::visa::VisaKinds::default(),
        http: chancery::config::HttpConfig {
            enabled: true,
            public_url: "https://chancery.uni.example".into(),
            ..chancery::config::HttpConfig::default()
        },
        reminders: crate::support::reminder_policy(),
        file_plan: book.file_plan().cloned(),
        cutoff: chancery::core::archive::Cutoff::default(),
    }
}

/// The people of the seeded directory (Matrix IDs on uni.example).
pub const REGISTRAR: &str = "@registrar:uni.example";
pub const ADMIN: &str = "@admin:uni.example";
/// Finance, cleared for internal documents only.
pub const CLERK: &str = "@clerk:uni.example";
/// The International Relations Office's manager.
pub const IRO_MANAGER: &str = "@manager:uni.example";
/// Staff of the International Relations Office.
pub const IRO_OFFICER: &str = "@officer:uni.example";
/// Human resources, cleared for confidential documents of their unit.
pub const HR_OFFICER: &str = "@hr:uni.example";

pub fn staff() -> Vec<StaffMember> {
    let person = |id: &str, name: &str, unit: &str, role: Role, clearance: Confidentiality| StaffMember {
        id: id.into(),
        name: name.into(),
        unit: unit.into(),
        role,
        clearance,
    };
    vec![
        person(REGISTRAR, "Rəna Registrar", "registry", Role::Registrar, Confidentiality::Confidential),
        person(ADMIN, "Anar Admin", "registry", Role::Admin, Confidentiality::Secret),
        person(CLERK, "Kamran Clerk", "finance", Role::Staff, Confidentiality::Internal),
        person(IRO_MANAGER, "Leyla Əliyeva", "international", Role::Manager, Confidentiality::Confidential),
        person(IRO_OFFICER, "Orxan Officer", "international", Role::Staff, Confidentiality::Internal),
        person(HR_OFFICER, "Həcər HR", "hr", Role::Staff, Confidentiality::Confidential),
    ]
}

/// Registers one raw letter as if it arrived at `at`; returns its number.
pub async fn register(store: &Store, policy: &IntakePolicy, raw: &[u8], at: DateTime<Utc>) -> String {
    let arrival = Arrival {
        raw: raw.to_vec(),
        letter: read_letter(raw),
        source: Source::File { path: format!("seed-{}", chancery::core::letter::fingerprint(raw)) },
        received_at: at,
    };
    let outcomes =
        store.register_incoming(vec![arrival], policy, &crate::support::reminder_policy(), at).await.expect("seed letter registers");
    outcomes[0].number().to_string()
}

/// Fills a fresh store: the staff directory, then each area's records.
pub async fn seed(store: &Store) {
    for member in staff() {
        store.staff().put(&member, "seed", now()).await.expect("seed staff");
    }
    documents::seed(store, &crate::support::shipped_policy()).await;
    partners::seed(store).await;
    press::seed(store).await;
    // `serve`'s indexer would have indexed these letters by the time anyone searches.
    store.index_queued().await.expect("seed letters indexed");
}

/// A fresh store on the backend under test (`support::fresh_store`), seeded.
pub async fn seeded_store() -> (Store, String, Option<tempfile::TempDir>) {
    let (store, url, guard) = crate::support::fresh_store().await;
    seed(&store).await;
    (store, url, guard)
}
