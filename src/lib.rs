//! Chancery: the university's registry of correspondence.
//!
//! # Layout
//! - `core/`: the functional core. Plain data in, decisions out; no I/O and no clock.
//!   - `letter`: reads raw mail into a `Letter` (never fails; problems become review flags).
//!   - `number`: registration numbers `IN-2026-000123`, and finding them in subjects.
//!   - `intake`: decides what becomes of an arriving letter (new entry, or one we have).
//!   - `flags`: review flags; `time`: stamps, days and years in the office's zone.
//! - `store/`: the EDMS store, the only module with SQL (SQLite or PostgreSQL via sqlx).
//! - `imap/`: the IMAP adapter: connect (TLS, STARTTLS), catch up, IDLE, mark on the server.
//! - `ingest`: the file adapter: `.eml`, folders and mbox into the store.
//! - `report`: what people read: tables, one document, the daily register.
//! - `config`: the TOML file and `CHANCERY_<SECTION>__<KEY>` overrides.
//! - `cli`: the command line; `main.rs` is a few lines of glue.

#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod core;
pub mod imap;
pub mod ingest;
pub mod report;
pub mod rule_files;
pub mod smtp;
pub mod store;
