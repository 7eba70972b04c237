//! The archive's rules: how long each class of records is kept and what happens then (`plan`),
//! case files and when they close (`case`), who may change a case and what a case refuses
//! (`rules`), disposal: what stops it, who approves it, the certificate it leaves
//! (`disposal`), and what a package for the archive says of each document (`package`).
//!
//! The file plan is `mail-rules/file-plan.toml`, read with the routing rules
//! (`core::rules::RuleBook::file_plan`); the store files every document into a case and keeps
//! what happened to it.

pub mod case;
pub mod disposal;
pub mod package;
pub mod plan;
pub mod rules;

pub use case::{CaseName, Clock, Cutoff, disposal_due};
pub use plan::{Action, Class, FilePlan, Retention, Trigger};
pub use rules::{CaseError, CaseState, Filing};
