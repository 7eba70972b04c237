//! Chancery: the university's registry of correspondence.
//!
//! # Layout
//! - `core/`: the functional core. Plain data in, decisions out; no I/O and no clock.
//!   - `letter`: reads raw mail into a `Letter` (never fails; problems become review flags).
//!   - `number`: registration numbers `IN-2026-000123`, and finding them in subjects.
//!   - `intake`: decides what becomes of an arriving letter (new entry, or one we have).
//!   - `confidentiality`: the levels of clearance a document has and a person holds.
//!   - `lease`: when an instance renews a lease, when it must stop, and when a heartbeat is gone.
//!   - `rules/`: routing rules from `mail-rules/`, compiled together; `route` says where and why.
//!   - `reply/`: acknowledgements and forwards, and when not to send them (loops, limits);
//!     `language`, `recipient` and `templates` one file each.
//!   - `template`: what both kinds of templates share: the strict engine, the variables check,
//!     `TemplateError`, and `one_line`.
//!   - `outbound`: a mail to send, as plain data; `bounce`: reading delivery reports.
//!   - `flags`: review flags; `status`: a document's states; `time`: stamps, days and years
//!     in the office's zone.
//!   - `fold`: folding text for comparison, shared by the rules and the search index.
//!   - `viewer`: who may see what; every reply, list and register asks it.
//!   - `dates`: dates as people type them (`15.12.2026`, `next friday`, `in 3 weeks`).
//!   - `partner`, `press/`, `visa`: the International Relations Office's records, as rules
//!     (`press/`: releases and approval; `template`, `export` and `media` one file each).
//!   - `effects`: what follows a registration (mail, history, room cards), as a plan;
//!     `outgoing` the same for a letter the university sends, `amend` for an annulment or a
//!     change, `history` the history line they all write.
//!   - `remind`: when reminders fire (lead times, working days, repeats) and what they say.
//!   - `firing`: what one firing does (a reminder, a digest, an agenda pack), as a plan.
//!   - `calendar`: deadlines and meetings as calendar events, and their iCalendar text.
//!   - `agreement`, `meeting`, `digest`, `reminder_time`: agreements with partners, meetings and
//!     their agenda packs, a unit's weekly digest, and WHEN as people type it.
//!   - `announce`: what Chancery posts in rooms on its own (a letter's card, rule-file errors).
//!   - `due`: a letter's due date changed, or the letter rerouted: its history and reminders.
//!   - `undo`: a meeting cancelled, an agenda item removed, an agreement ended, a visa case
//!     cancelled, each as a plan.
//!   - `reference`: what a request names in the register (a document, an agreement, …), for
//!     the store to say which one it did not find; each adapter words it for its readers.
//!   - `archive/`: the file plan (`plan`: classes, retention, trigger, action) and case files
//!     (`case`: names, the yearly cutoff, when a case's retention ends; `rules`: who may change
//!     a case and what a case refuses), disposal (`disposal`: what stops it, who approves it,
//!     the certificate it leaves) and packages (`package`: what a bag says of each document).
//!   - `markdown`: text from outside (subjects, names, what staff typed) as Markdown that shows
//!     exactly that text; every reply and card puts such text through it.
//! - `store/`: the EDMS store, the only module with SQL (SQLite or PostgreSQL via sqlx):
//!   registration, the search index, `copy` (a SQLite register into PostgreSQL), `queue` (what
//!   the two outboxes share: claims, leases, retries), `waker` (a commit wakes who sends it),
//!   `archive/` (`store.archive()`: filing every document into a case, closing yearly cases;
//!   named cases opened, filled, shown, listed and closed; holds, what is due, disposal
//!   decisions carried out, their certificates, reviews; packages read out and imported),
//!   `bulk/` (the benchmarks' fills, only with the `bench` feature), and one view per area (`store.staff()`, `store.documents()`,
//!   `store.partners()`, `store.press()`, `store.visas()`, `store.outbox()`,
//!   `store.room_messages()`, `store.reminders()`, `store.agreements()`, `store.meetings()`,
//!   `store.digests()`, `store.calendar()`, `store.answered_events()`, `store.instances()`).
//!   The store reads facts and writes what `core` planned, in one transaction: `register/`
//!   (effects, outgoing), `amend`, `firing` (reminders, digests, agenda packs). `error`: what
//!   can go wrong, typed (`NotFound(Reference)`, `Refused(Refusal)`, `Corrupt`, …); chat and
//!   the terminal make the words.
//! - `commands/`: the assistant's chat commands, one file each, reached through one `answer`
//!   from Matrix, `chancery chat` and the command line; `commands/*.toml` describes them.
//! - `matrix/`: the Matrix adapter: session and device, invites, messages, room cards, and the
//!   content they are sent as (`content`).
//! - `service`: `run(config, store, shutdown)` wires listener, dispatcher, rules, assistant and
//!   scheduler.
//! - `instance`: this `serve` among several on one register: its heartbeat, and the leases it
//!   takes and renews (the mailbox's), with the deadline its workers stop at.
//! - `status`: `chancery status`: the instances, what each holds, the backlog and the outbox.
//! - `scheduler`: sleeps until the next reminder is due, fires it (once), sleeps again; beside
//!   it the archive's clock files documents and closes yearly cases at the cutoff.
//! - `imap/`: the IMAP adapter: connect (TLS, STARTTLS), catch up, IDLE, mark on the server;
//!   batches planned, registered beside the session (`registrar`).
//! - `http`: the HTTP adapter: each person's calendar feed of deadlines, by its secret address.
//! - `smtp/`: the SMTP adapter: sends the outbox with retries and backoff; composes MIME.
//! - `rule_files`: reads `mail-rules/` and reloads it when staff edit it.
//! - `ingest`: the file adapter: `.eml`, folders and mbox into the store.
//! - `bagit/`: archive packages as BagIt 1.0 (RFC 8493): `BagWriter` streams files into a bag,
//!   `validate` checks one and opens its files; `safe_component` makes outside file names safe.
//! - `package`: the archive's export of a case, a year or the register as a bag, and its import.
//! - `report`: what people read: tables, one document, the daily register.
//! - `errors`: errors as people read them: one line, each cause once.
//! - `config/`: the TOML file and `CHANCERY_<SECTION>__<KEY>` overrides, a file per section.
//! - `cli/`: the command line, one file per group of subcommands (`chancery chat` included);
//!   `main.rs` is a few lines of glue.

#![forbid(unsafe_code)]
// A number that does not fit is an error to handle, never a silent wrap: `try_from`, not `as`.
#![deny(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]

pub mod bagit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod errors;
pub mod http;
pub mod imap;
pub mod ingest;
pub mod instance;
pub mod matrix;
pub mod package;
pub mod report;
pub mod rule_files;
pub mod scheduler;
pub mod service;
pub mod smtp;
pub mod status;
pub mod store;
