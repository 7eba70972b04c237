//! The command line: parses arguments, opens what a command needs, prints what it returns.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::core::intake::IntakePolicy;
use crate::core::status::parse_status;
use crate::core::time::{day_bounds, parse_day};
use crate::core::viewer::Audience;
use crate::core::viewer::Viewer;
use crate::ingest::IngestOptions;
use crate::report::{self, FlagWords};
use crate::rule_files;
use crate::service::{check_templates, load_rules};
use crate::smtp::{Delivery, Dispatcher};
use crate::store::{DocumentRecord, ListFilter, OpenMode, Store};

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
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Write the calendar to a file (.ics): every deadline, or one unit's, or what one person's
    /// clearance lets them see. Restricted letters show their number, not their subject, except
    /// to a person cleared for them (--as).
    Export {
        #[arg(long, value_name = "FILE.ics")]
        out: PathBuf,
        /// One unit's letters; the International Relations Office (reminders.office_unit) has
        /// the visas and agreements too.
        #[arg(long, conflicts_with = "person")]
        unit: Option<String>,
        /// What this staff member's calendar feed holds.
        #[arg(long = "as", value_name = "MXID")]
        person: Option<String>,
    },
    /// Print a person's calendar feed address (http.public_url/calendar/SECRET.ics); it is
    /// made the first time. Anyone who has it reads their calendar: pass it on privately.
    Url { mxid: String },
    /// Replace a person's feed address: the old one gets 404 from then on.
    Revoke { mxid: String },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add a person, or change what the directory says of them.
    Add {
        /// Their Matrix ID, e.g. @aysel:uni.example.
        mxid: String,
        #[arg(long)]
        name: String,
        /// A unit of mail-rules/units.toml.
        #[arg(long)]
        unit: String,
        /// staff, manager, registrar or admin.
        #[arg(long)]
        role: String,
        /// public, internal, confidential or secret: the highest level they may read.
        #[arg(long)]
        clearance: String,
        /// Their own time zone (tz database name, e.g. Europe/Berlin) for reminders; "" clears it.
        #[arg(long = "tz", value_name = "ZONE")]
        timezone: Option<String>,
        /// Their e-mail address, for reminders by mail; "" clears it.
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
    },
    /// Everyone in the directory.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Take a person out of the directory: the assistant no longer answers them.
    Remove { mxid: String },
}

#[derive(Debug, Subcommand)]
enum RoomCommand {
    /// Announce a unit's new letters in a room, as `!room bind UNIT` said in that room does:
    /// for setting up before the assistant is in the room, or from a script.
    Bind {
        /// A unit of mail-rules/units.toml.
        unit: String,
        /// The room's ID, e.g. !aBcD:uni.example (in Element: Room settings, Advanced).
        room: String,
    },
    /// The rooms bound to units; the other units use the rooms of units.toml.
    List,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Send a failed (or waiting) mail again now: it goes back in the outbox, due at once with
    /// its attempts counted afresh (recorded in the document's history), and is sent as `send`
    /// sends. Exit 0 when sent or safely queued for `serve`, 1 when refused.
    Retry {
        /// The mail's number in `chancery outbox` (the first column).
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Validate every rule file; errors as file:line: message.
    Check,
    /// Dry run: how the rules would route these .eml files. Stores nothing.
    Test {
        #[arg(required = true, value_name = "FILE.eml")]
        files: Vec<PathBuf>,
    },
    /// Dry run over registered documents: what each rule would route, and where that differs
    /// from what happened.
    Replay {
        /// From this day on (2026-12-15, 15.12.2026, today, yesterday, …).
        #[arg(long, value_name = "DATE")]
        since: String,
    },
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// List documents, oldest first: number, date, status, unit, correspondent (the sender of
    /// incoming letters, the recipients of outgoing ones), subject and review flags.
    List {
        #[arg(long)]
        json: bool,
        /// Only documents in this status: registered, answered, in-progress, closed, bounced,
        /// delivery-failed, annulled.
        #[arg(long)]
        status: Option<String>,
        /// The review queue: documents flagged for review (not annulled), with the flags in words.
        #[arg(long)]
        review: bool,
        /// Only documents registered on or after this day (2026-12-15, 15.12.2026, today, yesterday, …).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Show one document with its attachments and history.
    Show {
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the original message, byte for byte, to standard output.
    Raw { number: String },
    /// Write an attachment (1 for the first, as `docs show` numbers them), byte for byte, to
    /// standard output; it is decoded from the original message and checked against its sha256.
    Attachment { number: String, position: i64 },
    /// Search subject, body and attachment names; a registration number finds its thread.
    ///
    /// Every word must begin a word of the document (`nominat` finds `nominations`); case, the
    /// Turkic i (i ı İ I) and ё/е do not matter, as in the routing rules. A number such as IN-2026-000123 lists
    /// that document and every document of its thread first.
    Search {
        #[arg(required = true)]
        text: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Mark an entry annulled; it stays in the register, with the reason.
    Annul {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a letter a new due date (2026-12-15, 15.12.2026, next friday, in 2 weeks, …, in the
    /// office's zone; not in the past); recorded in its history, its reminders rescheduled.
    Due {
        number: String,
        /// The new due date; several words are read together (`next friday`).
        #[arg(required = true, num_args = 1..)]
        date: Vec<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Route a document to another unit by hand; recorded in its history. Its pending reminders
    /// go to the new unit's people (an assignee of another unit is released).
    Reroute {
        number: String,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum RegisterCommand {
    /// The daily register: everything registered on one day.
    Daily {
        /// The day (2026-12-15, 15.12.2026, today, yesterday, …); today by default.
        #[arg(long, value_name = "D")]
        date: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// The weekly digest per unit: letters received, routed, answered and overdue, and the
    /// visa and agreement deadlines ahead (the International Relations Office's); the same the
    /// units' heads get in Matrix and by e-mail.
    Weekly {
        /// Only this unit (an id of units.toml); every unit by default.
        #[arg(long)]
        unit: Option<String>,
        /// An ISO week in the office's zone, Monday to Monday (2026-W49); by default the 7 days
        /// ending now.
        #[arg(long, value_name = "YYYY-Www")]
        week: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Md,
    Csv,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Create or update the database schema.
    Migrate,
    /// Copy the SQLite register that database.url names into an empty PostgreSQL database,
    /// keeping every number, date and hash, then verify the copy; the register is only read.
    ///
    /// Refused (exit 1, one line, the target left empty) when the target holds tables or rows
    /// of its own, or when the copy fails or does not verify. The target is migrated first: an
    /// empty database and one with only the schema of `db migrate` are both fine. Afterwards
    /// point database.url at the PostgreSQL database.
    Copy {
        /// The PostgreSQL database to copy into (postgres://USER@HOST/DATABASE); it must exist.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// Runs the command line; errors come back as one line for `main` to print.
pub async fn run(cli: Cli) -> Result<i32> {
    let given = cli.config.is_some();
    let path = cli.config.unwrap_or_else(|| PathBuf::from("chancery.toml"));
    let config = Config::load(&path, given).map_err(anyhow::Error::msg)?;
    init_logging(&config.log.level);
    let zone = config.register.zone().map_err(anyhow::Error::msg)?;
    if let Command::Rules(RulesCommand::Check) = &cli.command {
        return check_rules(&config);
    }
    if let Command::Rules(RulesCommand::Test { files }) = &cli.command {
        return test_rules(&config, files);
    }
    // The register to copy is only read, never opened (and migrated) as the store opens it.
    if let Command::Db(DbCommand::Copy { to }) = &cli.command {
        return copy_register(&config.database.url, to, zone).await;
    }
    // Only the commands that register letters, and `db migrate`, may create a register.
    let mode = match &cli.command {
        Command::Serve
        | Command::Ingest { .. }
        | Command::Send { .. }
        | Command::Staff(StaffCommand::Add { .. })
        | Command::Room(RoomCommand::Bind { .. })
        | Command::Db(DbCommand::Migrate) => OpenMode::CreateIfMissing,
        _ => OpenMode::Existing,
    };
    let open = || Store::open(&config.database.url, zone, mode);
    let store = if matches!(cli.command, Command::Serve) {
        crate::service::when_the_database_answers(open, crate::store::StoreError::is_unreachable).await
    } else {
        open().await
    }
    .context("cannot open the store")?;
    // Commands that schedule reminders need the rules they fire by; a broken rules folder is
    // reported by the commands that use rules, not by every command.
    let reminders = crate::service::reminder_policy(&config, load_rules(&config).ok().flatten().as_ref())?;
    let now = Utc::now();
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let mut out = std::io::stdout().lock();
    let mut code = 0;
    match cli.command {
        Command::Serve => {
            drop(out);
            crate::service::run(config, store.clone(), crate::service::signal()).await?;
        }
        Command::Chat { person, line } => {
            drop(out);
            code = chat(&config, &store, &person, &line.join(" ")).await?;
            store.index_before_exit().await;
        }
        Command::Staff(StaffCommand::Add { mxid, name, unit, role, clearance, timezone, email }) => {
            let member = crate::commands::staff::member(&mxid, &name, &unit, &role, &clearance).map_err(anyhow::Error::msg)?;
            let change = crate::commands::staff::reach_change(timezone.as_deref(), email.as_deref()).map_err(anyhow::Error::msg)?;
            let units = assistant_units(&config)?;
            if !units.is_empty() && !units.contains(&member.unit) {
                bail!("there is no unit '{}' in {}; units: {}", member.unit, config.rules.dir.display(), units.join(", "));
            }
            let reach = crate::commands::staff::add(&store, &member, &change, &actor, now).await?;
            writeln!(
                out,
                "{} ({}): {}, {}, cleared for {}{}",
                member.name,
                member.id,
                member.unit,
                member.role.name(),
                member.clearance.as_str(),
                crate::commands::staff::describe_reach(&reach)
            )?;
        }
        Command::Staff(StaffCommand::List { json }) => {
            let members = store.staff().list_with_reach().await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &members)?;
                writeln!(out)?;
            } else {
                let width = console::Term::stdout().size_checked().map(|(_, columns)| usize::from(columns));
                write!(out, "{}", report::staff_table(&members, width))?;
            }
        }
        Command::Staff(StaffCommand::Remove { mxid }) => {
            store.staff().remove(&mxid).await?;
            writeln!(out, "{mxid} is no longer in the staff directory")?;
        }
        Command::Ingest { paths, accept_unparsed } => {
            let policy = IntakePolicy { rules: load_rules(&config)?.map(Arc::new), ..config.register.policy() };
            let options = IngestOptions { accept_unparsed, max_message_bytes: config.register.max_message_bytes() };
            let report = crate::ingest::ingest(&store, &policy, &reminders, &paths, options).await?;
            store.index_before_exit().await;
            for (path, number, size) in &report.oversize {
                writeln!(
                    out,
                    "{path}: {size} bytes, over the {}-byte limit: registered from its headers as {number}, flagged oversize; \
                     the file stays where it is",
                    options.max_message_bytes
                )?;
            }
            writeln!(
                out,
                "registered {}, already registered {}, flagged for review {}, refused {}",
                report.registered.len(),
                report.already_registered,
                report.flagged,
                report.refused.len()
            )?;
            if let (Some(first), Some(last)) = (report.registered.first(), report.registered.last()) {
                writeln!(out, "numbers {first} .. {last}")?;
            }
            if !report.refused.is_empty() {
                out.flush()?;
                for (path, why) in &report.refused {
                    eprintln!(
                        "chancery: {path}: not a mail message ({}); not registered; --accept-unparsed registers it anyway",
                        why.as_str()
                    );
                }
                store.close().await;
                return Ok(1);
            }
        }
        Command::Docs(DocsCommand::List { json, status, review, since }) => {
            let status = status.as_deref().map(parse_status).transpose().map_err(anyhow::Error::msg)?.map(str::to_string);
            let since = match since {
                Some(day) => Some(day_bounds(parse_day(&day, now, zone).map_err(anyhow::Error::msg)?, zone).0),
                None => None,
            };
            let documents = store.list(&ListFilter { status, since, until: None, review }).await?;
            let words = if review { FlagWords::Sentences } else { FlagWords::Names };
            print_documents(&mut out, documents, json, zone, words)?;
        }
        Command::Docs(DocsCommand::Show { number, json }) => {
            let number = canonical_number(&number)?;
            // The registry's console sees everything; a restricted entry's showing is recorded.
            let (document, _) = store.documents().show(store.document(&number).await?, &Viewer::console_operator(&actor), now).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &document)?;
                writeln!(out)?;
            } else {
                write!(out, "{}", report::document_text(&document, zone))?;
            }
        }
        Command::Docs(DocsCommand::Raw { number }) => {
            let raw = store.raw(&canonical_number(&number)?).await?;
            out.write_all(&raw)?;
        }
        Command::Docs(DocsCommand::Attachment { number, position }) => {
            let attachment = store.attachment(&canonical_number(&number)?, position).await?;
            out.write_all(&attachment.content)?;
        }
        Command::Docs(DocsCommand::Search { text, json }) => {
            let documents = store.search(&text.join(" ")).await?;
            print_documents(&mut out, documents, json, zone, FlagWords::Names)?;
        }
        Command::Docs(DocsCommand::Annul { number, reason }) => {
            let number = canonical_number(&number)?;
            store.annul(&number, &reason, &actor, now).await?;
            writeln!(out, "{number} annulled: {reason}")?;
        }
        Command::Report(ReportCommand::Weekly { unit, week, format }) => {
            code = weekly_report(&config, &store, &reminders, unit.as_deref(), week.as_deref(), format, now, &mut out).await?;
        }
        Command::Register(RegisterCommand::Daily { date, format }) => {
            let day = parse_day(date.as_deref().unwrap_or("today"), now, zone).map_err(anyhow::Error::msg)?;
            let (start, end) = day_bounds(day, zone);
            let documents = store.list(&ListFilter { since: Some(start), until: Some(end), ..ListFilter::default() }).await?;
            let rows = report::daily_rows(documents, zone);
            match format {
                Format::Csv => report::write_daily_csv(&mut out, &rows)?,
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &rows)?;
                    writeln!(out)?;
                }
            }
        }
        Command::Status { json } => {
            let status = crate::status::gather(&store, now).await?;
            let text = if json { format!("{}\n", crate::status::json(&status)) } else { crate::status::table(&status) };
            write!(out, "{text}")?;
        }
        Command::Verify => {
            let (checked, problems) = store.verify().await?;
            for problem in &problems {
                writeln!(out, "{}: {}: {}", problem.number, problem.item, problem.detail)?;
            }
            if problems.is_empty() {
                writeln!(out, "verified {checked} documents: every stored message and attachment matches the register")?;
            } else {
                writeln!(out, "{} problem(s) in {checked} documents", problems.len())?;
                return Ok(1);
            }
        }
        Command::Send { to, subject, body, attach, in_reply_to, unit } => {
            let dispatcher = dispatcher_for_now(&config, &store)?;
            let text = std::fs::read_to_string(&body).with_context(|| format!("cannot read {}", body.display()))?;
            let mut files = Vec::new();
            for path in &attach {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "attachment".into());
                files.push((name, bytes));
            }
            let answers = in_reply_to.as_deref().map(canonical_number).transpose()?;
            let from = config.smtp.from.clone();
            let letter = crate::smtp::Correspondence { from: &from, to: &to, subject: &subject, text: &text, attachments: &files };
            let unit = unit.unwrap_or_else(|| config.register.default_unit.clone());
            let number = store
                .register_outgoing(answers.as_deref(), &actor, &unit, now, |number, answered| {
                    let message_id =
                        crate::smtp::fresh_message_id(crate::core::outbound::MailKind::Correspondence, &number.to_string(), &from);
                    crate::smtp::compose_correspondence(&letter, number, answered, message_id)
                })
                .await?;
            store.index_before_exit().await;
            writeln!(out, "{number} registered and queued for {}", to.join(", "))?;
            if let Some(answered) = answers {
                writeln!(out, "{answered} marked answered")?;
            }
            // Deliver now rather than wait for `serve`; claims are atomic, so a running
            // dispatcher and this one never send the same mail twice.
            let id = store.mail_of_document(&number).await?.context("the letter was registered without its mail")?;
            code = send_now(&dispatcher, &config, &store, id, &number, &mut out).await?;
        }
        Command::Outbox { action: Some(OutboxCommand::Retry { id }), .. } => {
            let dispatcher = dispatcher_for_now(&config, &store)?;
            store.retry_mail(id, &actor, now).await?;
            let mail = store.mail(id).await?;
            let label = format!("mail {id} ({} to {})", mail.kind, mail.recipients.join(", "));
            writeln!(out, "{label} is back in the outbox; sending it now")?;
            code = send_now(&dispatcher, &config, &store, id, &label, &mut out).await?;
        }
        Command::Outbox { action: None, json, status } => {
            let rows: Vec<_> = store.outbox().await?.into_iter().filter(|row| status.as_ref().is_none_or(|s| &row.status == s)).collect();
            if json {
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                for row in &rows {
                    let error = row.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
                    writeln!(
                        out,
                        "{:>6}  {:<16} {:<8} {:<40} {}{error}",
                        row.id,
                        row.kind,
                        row.status,
                        row.recipients.join(", "),
                        row.mail.subject
                    )?;
                }
                if rows.is_empty() {
                    writeln!(out, "no mail")?;
                }
                let posts: Vec<_> = store
                    .room_messages()
                    .list()
                    .await?
                    .into_iter()
                    .filter(|post| status.as_ref().is_none_or(|s| &post.status == s))
                    .collect();
                if !posts.is_empty() {
                    writeln!(out, "\nroom messages (Matrix):")?;
                }
                for post in &posts {
                    let error = post.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
                    let shown = crate::core::markdown::plain_text(&post.markdown);
                    let first_line = shown.lines().next().unwrap_or("").trim_end();
                    writeln!(out, "{:>6}  {:<16} {:<8} {first_line}{error}", post.id, post.target.as_str(), post.status)?;
                }
            }
        }
        Command::Docs(DocsCommand::Due { number, date, reason }) => {
            let number = canonical_number(&number)?;
            let today = now.with_timezone(&zone).date_naive();
            let due_on = crate::core::dates::parse_date(&date.join(" "), today).map_err(anyhow::Error::msg)?;
            let before = store.documents().change_due(&reminders, &number, due_on, reason.as_deref(), &actor, now).await?;
            let was = before.map(|day| format!(" (it was {day})")).unwrap_or_default();
            writeln!(out, "{number} is now due on {due_on}{was}; its reminders are rescheduled")?;
        }
        Command::Docs(DocsCommand::Reroute { number, unit, reason }) => {
            let number = canonical_number(&number)?;
            if let Some(book) = load_rules(&config)?
                && book.unit(&unit).is_none()
            {
                let known: Vec<&str> = book.units().iter().map(|u| u.id.as_str()).collect();
                bail!("there is no unit '{unit}' (units: {})", known.join(", "));
            }
            store.change(&number, "unit", &unit, &actor, Some(&reason), now).await?;
            writeln!(out, "{number} rerouted to {unit}: {reason}")?;
        }
        Command::Rules(RulesCommand::Replay { since }) => {
            let Some(book) = load_rules(&config)? else { bail!("rules are disabled (rules.enabled = false)") };
            let since = day_bounds(parse_day(&since, now, zone).map_err(anyhow::Error::msg)?, zone).0;
            let documents = store.list(&ListFilter { since: Some(since), ..ListFilter::default() }).await?;
            let mut replay = report::Replay::default();
            for document in &documents {
                let letter = crate::core::letter::read_letter(&store.raw(&document.number).await?);
                replay.add(document, &book.route(&letter));
            }
            write!(out, "{}", replay.render())?;
        }
        Command::Rules(RulesCommand::Check | RulesCommand::Test { .. }) | Command::Db(DbCommand::Copy { .. }) => {
            unreachable!("answered before the store is opened")
        }
        Command::Calendar(command) => calendar(&config, &store, command, now, &mut out).await?,
        Command::Room(command) => room(&config, &store, command, &actor, now, &mut out).await?,
        Command::Db(DbCommand::Migrate) => {
            store.migrate().await?;
            writeln!(out, "database schema is up to date")?;
        }
    }
    store.close().await;
    Ok(code)
}

/// `db copy`: the SQLite register into PostgreSQL, and what was copied.
async fn copy_register(source: &str, target: &str, zone: chrono_tz::Tz) -> Result<i32> {
    let report = crate::store::copy_register(source, target, zone).await.context("the register was not copied")?;
    let rows: u64 = report.tables.iter().map(|(_, rows)| rows).sum();
    let filled: Vec<String> = report.tables.iter().filter(|(_, rows)| *rows > 0).map(|(table, rows)| format!("{table} {rows}")).collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "copied {rows} rows of {} tables into PostgreSQL ({})", report.tables.len(), filled.join(", "))?;
    writeln!(out, "verified {} documents on the copy: every stored message and attachment matches the register", report.verified)?;
    writeln!(out, "to work on the copy, set database.url (or CHANCERY_DATABASE__URL) to the PostgreSQL URL")?;
    Ok(0)
}

/// A dispatcher for sending one mail at once, from the command line.
fn dispatcher_for_now(config: &Config, store: &Store) -> Result<Dispatcher> {
    if !config.smtp.enabled {
        bail!("sending needs smtp.enabled = true and an [smtp] section");
    }
    let password = config.smtp.password().map_err(anyhow::Error::msg)?;
    Dispatcher::new(&config.smtp, password, store.clone())
}

/// Sends one mail of the outbox now, as `serve` would, and says what became of it: on standard
/// output when it went or waits safely for `serve` (exit code 0), on standard error when a
/// person must act (1). `label` names the mail for people.
async fn send_now(dispatcher: &Dispatcher, config: &Config, store: &Store, id: i64, label: &str, out: &mut impl Write) -> Result<i32> {
    let retry = format!("chancery outbox retry {id}");
    match dispatcher.dispatch_now(id).await? {
        Some(Delivery::Sent) => {
            writeln!(out, "{label}: sent")?;
            Ok(0)
        }
        Some(Delivery::Failed(reason)) => {
            eprintln!(
                "chancery: {label} was not sent and is marked failed: {reason}; once that is put right, send it again with `{retry}`"
            );
            Ok(1)
        }
        Some(Delivery::LoginRefused { reason, .. }) => {
            let password = if config.smtp.password_file.is_some() { "smtp.password_file" } else { "smtp.password" };
            eprintln!(
                "chancery: {reason}; check smtp.user and {password}. {label} is registered and stays in the outbox: it goes when \
                 `chancery serve` runs with the right password, or with `{retry}`"
            );
            Ok(1)
        }
        Some(Delivery::WillRetry { reason, .. }) => {
            writeln!(out, "{label} is in the outbox but not sent yet: {reason}; `chancery serve` will retry it (outbox mail {id})")?;
            Ok(0)
        }
        None => {
            // Another process claimed it between our write and our claim: a running `serve`.
            let status = store.mail(id).await?.status;
            writeln!(out, "{label}: {status}; a running `chancery serve` is sending it (see `chancery outbox`)")?;
            Ok(0)
        }
    }
}

/// The units of the rules in force (empty when rules are off: then any unit is taken).
fn assistant_units(config: &Config) -> Result<Vec<String>> {
    Ok(load_rules(config)?.map(|book| book.units().iter().map(|u| u.id.clone()).collect()).unwrap_or_default())
}

/// `chancery room`: what `!room bind` and `!room list` do, from the command line.
async fn room(config: &Config, store: &Store, command: RoomCommand, actor: &str, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    match command {
        RoomCommand::Bind { unit, room } => {
            let units = assistant_units(config)?;
            if !units.is_empty() && !units.contains(&unit) {
                bail!("there is no unit '{unit}' in {}; units: {}", config.rules.dir.display(), units.join(", "));
            }
            // The assistant reads the binding back as a room ID; an alias would be refused there.
            if let Err(problem) = matrix_sdk::ruma::RoomId::parse(room.as_str()) {
                bail!("'{room}' is not a room ID like !aBcD:uni.example ({problem})");
            }
            store.staff().bind_room(&unit, &room, actor, now).await?;
            writeln!(out, "{room} is now {unit}'s room: new letters routed to {unit} are announced there")?;
        }
        RoomCommand::List => {
            let rooms = store.staff().bound_rooms().await?;
            if rooms.is_empty() {
                writeln!(out, "no room is bound; units use the rooms of units.toml")?;
            }
            for (unit, room) in rooms {
                writeln!(out, "{unit}\t{room}")?;
            }
        }
    }
    Ok(())
}

/// `chancery calendar`: the export, and people's feed addresses.
async fn calendar(config: &Config, store: &Store, command: CalendarCommand, now: DateTime<Utc>, out: &mut impl Write) -> Result<()> {
    use crate::core::calendar::{CalendarHead, render};
    use crate::store::Scope;
    let feed_url = |secret: &str| {
        config.http.calendar_url(secret).with_context(
            || "http.public_url is not set: it is the address calendar apps reach `chancery serve` at, e.g. https://chancery.uni.example",
        )
    };
    match command {
        CalendarCommand::Export { out: path, unit, person } => {
            let office_unit = config.reminders.office_unit.clone();
            let viewer = match &person {
                Some(mxid) => {
                    let Some(member) = store.staff().find(mxid).await? else { bail!("{mxid} is not in the staff directory") };
                    Some(Viewer::new(member, Audience::Private))
                }
                None => None,
            };
            if let Some(unit) = &unit {
                let units = assistant_units(config)?;
                if !units.is_empty() && !units.contains(unit) {
                    bail!("there is no unit '{unit}' in {}; units: {}", config.rules.dir.display(), units.join(", "));
                }
            }
            let scope = match (&viewer, &unit) {
                (Some(viewer), _) => Scope::Person(viewer),
                (None, Some(unit)) => Scope::Unit { unit, office_unit: &office_unit },
                (None, None) => Scope::All,
            };
            let events = store.calendar().events(&scope, now).await?;
            let feeds = crate::http::FeedSettings::from_config(config);
            let text = render(&CalendarHead { name: &feeds.name, domain: &feeds.domain, made_at: now }, &events);
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "{} events written to {}", events.len(), path.display())?;
        }
        CalendarCommand::Url { mxid } => {
            let url = feed_url(&store.calendar().secret(&mxid).await?)?;
            writeln!(out, "{url}")?;
            if !config.http.enabled {
                eprintln!("chancery: note: http.enabled is false, so `chancery serve` does not publish it yet");
            }
        }
        CalendarCommand::Revoke { mxid } => {
            let secret = store.calendar().replace_secret(&mxid).await?;
            writeln!(out, "{mxid}'s calendar address is replaced: the old one gets 404 from now on")?;
            if let Ok(url) = feed_url(&secret) {
                writeln!(out, "the new one: {url}")?;
            }
        }
    }
    Ok(())
}

/// `report weekly`: the digest of one unit or of each (`core::digest`), as Markdown, CSV or
/// JSON. A bad week or an unknown unit is one line on stderr and exit status 2, as clap reports
/// a bad argument.
#[allow(clippy::too_many_arguments)]
async fn weekly_report(
    config: &Config,
    store: &Store,
    reminders: &crate::core::remind::Policy,
    unit: Option<&str>,
    week: Option<&str>,
    format: ReportFormat,
    now: DateTime<Utc>,
    out: &mut impl Write,
) -> Result<i32> {
    use crate::core::digest::{self, Window};
    let window = match week {
        Some(text) => match Window::iso_week(text, reminders.zone) {
            Ok(window) => window,
            Err(problem) => {
                eprintln!("chancery: --week: {problem}");
                return Ok(2);
            }
        },
        None => Window::ending(now),
    };
    let mut units = assistant_units(config)?;
    if units.is_empty() {
        // Without rules: the default unit and whichever units letters were rerouted to.
        units = store.digests().units_in_use().await?;
        if !units.contains(&config.register.default_unit) {
            units.insert(0, config.register.default_unit.clone());
        }
    }
    let units = match unit {
        Some(unit) if units.iter().any(|known| known == unit) => vec![unit.to_string()],
        Some(unit) => {
            eprintln!("chancery: --unit: there is no unit '{unit}' (units: {})", units.join(", "));
            return Ok(2);
        }
        None => units,
    };
    let mut digests = Vec::new();
    for unit in &units {
        digests.push(store.digests().of_unit(reminders, unit, window).await?);
    }
    match format {
        ReportFormat::Md => write!(out, "{}", digest::markdown(&digests))?,
        ReportFormat::Csv => write!(out, "{}", digest::csv(&digests).map_err(anyhow::Error::msg)?)?,
        ReportFormat::Json => writeln!(out, "{}", digest::json(&digests).map_err(anyhow::Error::msg)?)?,
    }
    Ok(0)
}

/// `chancery chat`: the assistant's commands in the terminal, answered as in a direct message.
async fn chat(config: &Config, store: &Store, person: &str, line: &str) -> Result<i32> {
    use std::io::BufRead;
    if store.staff().find(person).await?.is_none() {
        bail!(
            "{person} is not in the staff directory; add them with `chancery staff add {person} --name … --unit … --role … --clearance …`"
        );
    }
    let rules = load_rules(config)?;
    let parts = crate::service::assistant_parts(config, rules.as_ref())?;
    let context = crate::commands::Context { store, catalog: &parts.catalog, settings: &parts.settings };
    let ask = |text: String| {
        let context = &context;
        async move {
            let request =
                crate::commands::Request { sender: person, text: &text, audience: Audience::Private, room: None, now: Utc::now() };
            crate::commands::answer(context, &request).await
        }
    };
    if !line.trim().is_empty() {
        match ask(line.to_string()).await {
            Some(reply) => println!("{}", reply.plain_text()),
            None => println!("(no answer: commands start with !, as in `!help`)"),
        }
        return Ok(0);
    }
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if interactive {
        eprintln!("Chancery as {person}. Type !help; an empty line or Ctrl-D ends.");
    }
    for text in std::io::stdin().lock().lines() {
        let text = text?;
        if text.trim().is_empty() {
            if interactive {
                break;
            }
            continue;
        }
        match ask(text).await {
            Some(reply) => println!("{}\n", reply.plain_text()),
            None => println!("(no answer: commands start with !, as in `!help`)\n"),
        }
    }
    Ok(0)
}

fn check_rules(config: &Config) -> Result<i32> {
    match rule_files::load(&config.rules.dir) {
        Ok(book) => {
            if config.smtp.templates_dir.is_dir() {
                let templates = crate::smtp::load_templates(&config.smtp.templates_dir)?;
                if let Err(problem) = check_templates(&book, &templates) {
                    eprintln!("{problem}");
                    return Ok(1);
                }
            }
            println!("{}: {} rules, {} units: OK", config.rules.dir.display(), book.rule_count(), book.units().len());
            Ok(0)
        }
        Err(problem) => {
            // One line per problem, as `file:line: message`, for people and editors alike.
            eprintln!("{problem}");
            Ok(1)
        }
    }
}

fn test_rules(config: &Config, files: &[PathBuf]) -> Result<i32> {
    let book = rule_files::load(&config.rules.dir).map_err(|p| anyhow::anyhow!("{}", p.to_string().replace('\n', "; ")))?;
    let mut out = std::io::stdout().lock();
    for file in files {
        let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let letter = crate::core::letter::read_letter(&raw);
        write!(out, "{}", report::routing_text(&file.display().to_string(), &letter.subject, &book.route(&letter)))?;
    }
    Ok(0)
}

fn canonical_number(text: &str) -> Result<String> {
    match text.parse::<crate::core::number::RegistrationNumber>() {
        Ok(number) => Ok(number.to_string()),
        Err(message) => bail!(message),
    }
}

fn print_documents(out: &mut impl Write, documents: Vec<DocumentRecord>, json: bool, zone: chrono_tz::Tz, words: FlagWords) -> Result<()> {
    // A list may be printed or passed on: the console's list viewer hides restricted subjects.
    let viewer = Viewer::console_list();
    let documents: Vec<DocumentRecord> = documents.into_iter().map(|d| d.seen_by(&viewer).0).collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &documents)?;
        writeln!(out)?;
    } else {
        // Fitted to a terminal; piped into a file or another program, nothing is cut.
        let width = console::Term::stdout().size_checked().map(|(_, columns)| usize::from(columns));
        write!(out, "{}", report::document_table(&documents, zone, width, words))?;
    }
    Ok(())
}

/// The Matrix SDK's own chatter, quieted unless `log.level` or `RUST_LOG` names it: it logs
/// each HTTP error itself (an absent key backup is a 404 at every start), while the assistant
/// logs what a failure means for the register. Without a key backup, which a bot has no use
/// for, the crypto crate warns at every sync.
const QUIET_MATRIX_SDK: &str = "matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_crypto::backups=error,matrix_sdk_sqlite=warn,matrix_sdk::http_client=off";

fn init_logging(level: &str) {
    let level = if level.contains("matrix_sdk") { level.to_string() } else { format!("{level},{QUIET_MATRIX_SDK}") };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours).with_target(false).try_init().ok();
}

/// Formats an instant in the office's zone for people.
pub fn local(stamp: &str, zone: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(stamp)
        .map(|d| d.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| stamp.to_string())
}
