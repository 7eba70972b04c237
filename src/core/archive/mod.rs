//! The archive's rules: how long each class of records is kept and what happens then (`plan`),
//! case files and when they close (`case`), and disposal: what stops it, who approves it, the
//! certificate it leaves (`disposal`).
//!
//! The file plan is `mail-rules/file-plan.toml`, read with the routing rules
//! (`core::rules::RuleBook::file_plan`); the store files every document into a case and keeps
//! what happened to it.

pub mod case;
pub mod disposal;
pub mod plan;

pub use case::{CaseName, Clock, Cutoff, disposal_due};
pub use plan::{Action, Class, FilePlan, Retention, Trigger};
