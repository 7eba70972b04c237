//! The command line: parses arguments, opens what a command needs, prints what it returns.
//!
//! One file per group of subcommands, each with its arguments and what it does:
//! - `chat`: the assistant in the terminal.
//! - `staff`, `rooms`: the staff directory, and the rooms units' letters are announced in.
//! - `ingest`: registering .eml and mbox files.
//! - `docs`: looking documents up, annulling, new due dates, rerouting.
//! - `register`: the daily register; `reports`: the weekly digest.
//! - `status`: `status` and `verify`: how the register is.
//! - `outbox`: `send`, and the outbox with its retries.
//! - `db`: migrations and the copy into PostgreSQL; `rules`: checking and trying the rules.
//! - `calendar`: the calendar export and people's feed addresses.
//! - `case`: case files: open, add, show, list, close.
//! - `holds`: holds on cases, documents and classes; `archive`: what is due, disposal
//!   decisions, their certificates, reviews; `package`: export and import of packages.

mod archive;
mod calendar;
mod case;
mod chat;
mod db;
mod docs;
mod holds;
mod ingest;
mod outbox;
mod package;
mod register;
mod reports;
mod rooms;
mod rules;
mod staff;
mod status;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::service::load_rules;
use crate::store::{OpenMode, Store};

use archive::ArchiveCommand;
use calendar::CalendarCommand;
use case::CaseCommand;
use db::DbCommand;
use docs::DocsCommand;
use holds::HoldCommand;
use outbox::OutboxCommand;
use register::RegisterCommand;
use reports::ReportCommand;
use rooms::RoomCommand;
use rules::RulesCommand;
use staff::StaffCommand;

#[derive(Debug, Parser)]
#[command(name = "chancery", version, about = "The university's registry of correspondence")]
pub struct Cli {
    /// Configuration file (TOML; default ./chancery.toml); every key can also come from
    /// CHANCERY_<SECTION>__<KEY>.
    #[arg(long, global = true, value_name = "PATH", env = "CHANCERY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run what the configuration enables: the IMAP listener, the SMTP dispatcher and the
    /// Matrix assistant.
    Serve,
    /// Talk to the assistant in the terminal as a member of the staff directory, with no
    /// homeserver: the same commands as in Matrix (`!help`). Reads one command per line, or runs
    /// the one given after the options and exits.
    Chat {
        /// Whom to be: a Matrix ID in the staff directory.
        #[arg(long = "as", value_name = "MXID")]
        person: String,
        /// One command to run, e.g. `!doc IN-2026-000001`.
        #[arg(value_name = "COMMAND", trailing_var_arg = true, allow_hyphen_values = true)]
        line: Vec<String>,
    },
    /// The staff directory: who may use the assistant, their unit, role and clearance.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The Matrix rooms units' new letters are announced in, as `!room bind UNIT` sets them.
    #[command(subcommand)]
    Room(RoomCommand),
    /// Register .eml files, folders of them, and mbox files.
    ///
    /// A file that is not a mail message (empty, binary, text without mail headers) is refused
    /// with one line on stderr and not registered; the others are, and the exit status is 1.
    /// A message over register.max_message_bytes is registered from its headers and flagged
    /// oversize; the file stays where it is.
    Ingest {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Register files that are not mail too, flagged `unparsed` (each spends a number).
        #[arg(long)]
        accept_unparsed: bool,
    },
    /// Look up registered documents.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Registers kept for the record.
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Reports for the units' heads.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Recompute every stored hash and report what differs or is missing.
    Verify,
    /// The instances serving this register (what each holds, alive or gone), the letters
    /// waiting to be registered, and the outbox by status. Exits 0 whenever the database answers.
    Status {
        /// One JSON object: instances, backlog, outbox.
        #[arg(long)]
        json: bool,
    },
    /// Register an outgoing letter (OUT-YYYY-NNNNNN) and send it at once through the outbox.
    ///
    /// Exit 0 when it is sent, or when the server is down or answers "try later" (the letter
    /// waits in the outbox and `chancery serve` retries it). Exit 1 when the server refuses the
    /// letter for good (it is marked failed; `chancery outbox retry ID` sends it again) or
    /// refuses the login (check smtp.user and smtp.password; the letter stays in the outbox).
    Send {
        /// Recipient address; repeat for several.
        #[arg(long, required = true)]
        to: Vec<String>,
        #[arg(long)]
        subject: String,
        /// The text of the letter (UTF-8 file).
        #[arg(long, value_name = "FILE")]
        body: PathBuf,
        /// A file to attach; repeat for several.
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        /// The registered letter this answers; it is linked and marked answered.
        #[arg(long, value_name = "NUMBER")]
        in_reply_to: Option<String>,
        /// The unit that writes (default: the registry).
        #[arg(long)]
        unit: Option<String>,
    },
    /// Mail waiting, sent and failed: acknowledgements, forwards, outgoing letters; then the
    /// messages for Matrix rooms (not in --json).
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxCommand>,
        #[arg(long)]
        json: bool,
        /// Only mail in this state (pending, sending, sent, failed).
        #[arg(long)]
        status: Option<String>,
    },
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// The routing rules in mail-rules/.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// The calendar of deadlines (visas, agreements, letters due, meetings) as iCalendar, and
    /// the secret addresses of people's calendar feeds.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Case files: every document is in one, its class's yearly case (03-02/2026) unless added
    /// to a named case (03-02/2026-4). Yearly cases close by themselves at the cutoff.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Holds: a case, a document or a class that nothing may dispose of until released.
    #[command(subcommand)]
    Hold(HoldCommand),
    /// The archive: cases due by the file plan, disposal decisions and their certificates,
    /// reviews, and packages for an archive that outlives Chancery (export, import).
    #[command(subcommand)]
    Archive(ArchiveCommand),
}

/// One run of the command line on an opened register: what each subcommand is given.
struct Invocation<'a> {
    config: &'a Config,
    store: &'a Store,
    zone: chrono_tz::Tz,
    /// Who the register's history names for what this run changes (`cli:USER`).
    actor: String,
    now: DateTime<Utc>,
    /// When what this run schedules is reminded (`[reminders]` with the rules' units).
    reminders: crate::core::remind::Policy,
}

/// Runs the command line; errors come back as one line for `main` to print.
pub async fn run(cli: Cli) -> Result<i32> {
    let given = cli.config.is_some();
    let path = cli.config.unwrap_or_else(|| PathBuf::from("chancery.toml"));
    let config = Config::load(&path, given).map_err(anyhow::Error::msg)?;
    init_logging(&config.log.level);
    let zone = config.register.zone().map_err(anyhow::Error::msg)?;
    if let Some(code) = answer_without_store(&cli.command, &config, zone).await? {
        return Ok(code);
    }
    let open = || Store::open(&config.database.url, zone, open_mode(&cli.command));
    let store = if matches!(cli.command, Command::Serve) {
        crate::service::when_the_database_answers(open, crate::store::StoreError::is_unreachable).await
    } else {
        open().await
    }
    .context("cannot open the store")?;
    // Commands that schedule reminders need the rules they fire by; a broken rules folder is
    // reported by the commands that use rules, not by every command.
    let reminders = crate::service::reminder_policy(&config, load_rules(&config).ok().flatten().as_ref())?;
    let code = match cli.command {
        Command::Serve => {
            crate::service::run(config, store.clone(), crate::service::signal()).await?;
            0
        }
        command => {
            let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
            let invocation = Invocation { config: &config, store: &store, zone, actor, now: Utc::now(), reminders };
            dispatch(command, &invocation).await?
        }
    };
    store.close().await;
    Ok(code)
}

/// The commands that need no store: the rules' checks read files, and the register `db copy`
/// copies is only read, never opened (and migrated) as the store opens it.
async fn answer_without_store(command: &Command, config: &Config, zone: chrono_tz::Tz) -> Result<Option<i32>> {
    Ok(match command {
        Command::Rules(RulesCommand::Check) => Some(rules::check(config)?),
        Command::Rules(RulesCommand::Test { files }) => Some(rules::test(config, files)?),
        Command::Db(DbCommand::Copy { to }) => Some(db::copy_register(&config.database.url, to, zone).await?),
        _ => None,
    })
}

/// Only the commands that register letters, and `db migrate`, may create a register.
fn open_mode(command: &Command) -> OpenMode {
    match command {
        Command::Serve
        | Command::Ingest { .. }
        | Command::Send { .. }
        | Command::Staff(StaffCommand::Add { .. })
        | Command::Room(RoomCommand::Bind { .. })
        | Command::Archive(ArchiveCommand::Import(_))
        | Command::Db(DbCommand::Migrate) => OpenMode::CreateIfMissing,
        _ => OpenMode::Existing,
    }
}

/// Hands a command to its group; the exit status comes back.
async fn dispatch(command: Command, at: &Invocation<'_>) -> Result<i32> {
    // The terminal chat prints as it goes: it must not find standard output locked.
    if let Command::Chat { person, line } = &command {
        let code = chat::run(at, person, &line.join(" ")).await?;
        at.store.index_before_exit().await;
        return Ok(code);
    }
    let out = &mut std::io::stdout().lock();
    match command {
        Command::Staff(command) => staff::run(at, command, out).await.map(|()| 0),
        Command::Room(command) => rooms::run(at, command, out).await.map(|()| 0),
        Command::Ingest { paths, accept_unparsed } => ingest::run(at, &paths, accept_unparsed, out).await,
        Command::Docs(command) => docs::run(at, command, out).await.map(|()| 0),
        Command::Register(command) => register::run(at, command, out).await.map(|()| 0),
        Command::Report(command) => reports::run(at, command, out).await,
        Command::Verify => status::verify(at, out).await,
        Command::Status { json } => status::show(at, json, out).await.map(|()| 0),
        Command::Send { to, subject, body, attach, in_reply_to, unit } => {
            let letter = outbox::Letter { to, subject, body, attach, in_reply_to, unit };
            outbox::send(at, letter, out).await
        }
        Command::Outbox { action: Some(OutboxCommand::Retry { id }), .. } => outbox::retry(at, id, out).await,
        Command::Outbox { action: None, json, status } => outbox::list(at, json, status.as_deref(), out).await.map(|()| 0),
        Command::Rules(RulesCommand::Replay { since }) => rules::replay(at, &since, out).await.map(|()| 0),
        Command::Calendar(command) => calendar::run(at, command, out).await.map(|()| 0),
        Command::Case(command) => case::run(at, command, out).await.map(|()| 0),
        Command::Hold(command) => holds::run(at, command, out).await,
        Command::Archive(command) => archive::run(at, command, out).await,
        Command::Db(DbCommand::Migrate) => db::migrate(at, out).await.map(|()| 0),
        Command::Serve | Command::Chat { .. } => unreachable!("answered before the dispatch"),
        Command::Rules(RulesCommand::Check | RulesCommand::Test { .. }) | Command::Db(DbCommand::Copy { .. }) => {
            unreachable!("answered before the store is opened")
        }
    }
}

/// The units of the rules in force (empty when rules are off: then any unit is taken).
fn assistant_units(config: &Config) -> Result<Vec<String>> {
    Ok(load_rules(config)?.map(|book| book.units().iter().map(|u| u.id.clone()).collect()).unwrap_or_default())
}

/// The units in force when `unit` is not among them; `None` when it is, or when rules are off
/// and any unit is taken.
fn unknown_unit(config: &Config, unit: &str) -> Result<Option<Vec<String>>> {
    let units = assistant_units(config)?;
    Ok((!units.is_empty() && !units.iter().any(|known| known == unit)).then_some(units))
}

/// Refuses a unit the rules in force do not have, naming those they do.
fn require_unit(config: &Config, unit: &str) -> Result<()> {
    if let Some(units) = unknown_unit(config, unit)? {
        bail!("there is no unit '{unit}' in {}; units: {}", config.rules.dir.display(), units.join(", "));
    }
    Ok(())
}

/// The member of the staff directory a command acts as (`--as MXID`): whose role is checked,
/// and whom the history names.
async fn acting_as(at: &Invocation<'_>, mxid: &str) -> Result<crate::core::viewer::StaffMember> {
    match at.store.staff().find(mxid.trim()).await? {
        Some(member) => Ok(member),
        None => bail!("{} is not in the staff directory (chancery staff list shows who is)", mxid.trim()),
    }
}

/// The file plan in force (`mail-rules/file-plan.toml`), after the register has been brought up
/// to date with it: every document filed, the yearly cases closed whose cutoff has passed.
async fn archive_in_force(at: &Invocation<'_>) -> Result<crate::core::archive::FilePlan> {
    let Some(plan) = load_rules(at.config)?.and_then(|book| book.file_plan().cloned()) else {
        bail!("there is no file plan: add file-plan.toml to {} (see mail-rules/README.md)", at.config.rules.dir.display());
    };
    let cutoff = at.config.archive.cutoff()?;
    at.store.archive().catch_up(Some(&plan.default_class), cutoff, at.now).await?;
    Ok(plan)
}

fn canonical_number(text: &str) -> Result<String> {
    match text.parse::<crate::core::number::RegistrationNumber>() {
        Ok(number) => Ok(number.to_string()),
        Err(message) => bail!(message),
    }
}

/// The terminal's width in columns; none when the output is piped, so that nothing is cut.
fn terminal_width() -> Option<usize> {
    console::Term::stdout().size_checked().map(|(_, columns)| usize::from(columns))
}

/// Rows as indented JSON and a line end.
fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// The Matrix SDK's own chatter, quieted unless `log.level` or `RUST_LOG` names it: it logs
/// each HTTP error itself (an absent key backup is a 404 at every start), while the assistant
/// logs what a failure means for the register. Without a key backup, which a bot has no use
/// for, the crypto crate warns at every sync.
const QUIET_MATRIX_SDK: &str = "matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_crypto::backups=error,matrix_sdk_sqlite=warn,matrix_sdk::http_client=off";

/// sqlx's statement log, quieted unless `log.level` names sqlx (`RUST_LOG`, when set, is taken
/// as it is): it warns of any statement over a second ("slow statement"), which a loaded machine
/// produces at random, and a refused command's stderr is its one line (`tests/copy.rs` reads
/// it). A filter here rather than in the connect options: it covers every connection, the
/// pool's and `db copy`'s own, and sqlx's option wants the `log` crate's level type. To see the
/// statements, name them: `log.level = "debug,sqlx::query=debug"`.
const QUIET_SQLX: &str = "sqlx::query=error";

fn init_logging(level: &str) {
    let mut directives = level.to_string();
    for (named, quiet) in [("matrix_sdk", QUIET_MATRIX_SDK), ("sqlx", QUIET_SQLX)] {
        if !level.contains(named) {
            directives = format!("{directives},{quiet}");
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&directives))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours).with_target(false).try_init().ok();
}
