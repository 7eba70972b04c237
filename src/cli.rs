//! The command line: parses arguments, opens what a command needs, prints what it returns.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use tokio::sync::watch;
use tracing::info;

use crate::config::Config;
use crate::core::time::{day_bounds, parse_day};
use crate::imap::Listener;
use crate::report;
use crate::store::{DocumentRecord, ListFilter, Store};

#[derive(Debug, Parser)]
#[command(name = "chancery", version, about = "The university's registry of correspondence")]
pub struct Cli {
    /// Configuration file (TOML); every key can also come from CHANCERY_<SECTION>__<KEY>.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run what the configuration enables: the IMAP listener.
    Serve,
    /// Register .eml files, folders of them, and mbox files.
    Ingest {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Look up registered documents.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Registers kept for the record.
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Recompute every stored hash and report what differs or is missing.
    Verify,
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, Subcommand)]
enum DocsCommand {
    /// List documents, oldest first.
    List {
        #[arg(long)]
        json: bool,
        /// Only documents in this status (registered, annulled, ...).
        #[arg(long)]
        status: Option<String>,
        /// Only documents registered on or after this day (YYYY-MM-DD, today, yesterday).
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
    /// Full-text search over subject, body and attachment names.
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
}

#[derive(Debug, Subcommand)]
enum RegisterCommand {
    /// The daily register: everything registered on one day.
    Daily {
        /// The day (YYYY-MM-DD, today, yesterday); today by default.
        #[arg(long, value_name = "D")]
        date: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
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
}

/// Runs the command line; errors come back as one line for `main` to print.
pub async fn run(cli: Cli) -> Result<i32> {
    let given = cli.config.is_some();
    let path = cli.config.unwrap_or_else(|| PathBuf::from("chancery.toml"));
    let config = Config::load(&path, given).map_err(anyhow::Error::msg)?;
    init_logging(&config.log.level);
    let zone = config.register.zone().map_err(anyhow::Error::msg)?;
    let store = Store::open(&config.database.url, zone).await.context("cannot open the store")?;
    let now = Utc::now();
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Serve => {
            drop(out);
            serve(config, store.clone()).await?;
        }
        Command::Ingest { paths } => {
            let report = crate::ingest::ingest(&store, &config.register.policy(), &paths).await?;
            writeln!(
                out,
                "registered {}, already registered {}, flagged for review {}",
                report.registered.len(),
                report.already_registered,
                report.flagged
            )?;
            if let (Some(first), Some(last)) = (report.registered.first(), report.registered.last()) {
                writeln!(out, "numbers {first} .. {last}")?;
            }
        }
        Command::Docs(DocsCommand::List { json, status, since }) => {
            let since = match since {
                Some(day) => Some(day_bounds(parse_day(&day, now, zone).map_err(anyhow::Error::msg)?, zone).0),
                None => None,
            };
            let documents = store.list(&ListFilter { status, since, until: None }).await?;
            print_documents(&mut out, documents, json, zone)?;
        }
        Command::Docs(DocsCommand::Show { number, json }) => {
            let number = canonical_number(&number)?;
            let document = store.document(&number).await?;
            if document.is_restricted() {
                store.record_disclosure(&number, &actor, now).await?;
            }
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
        Command::Docs(DocsCommand::Search { text, json }) => {
            let documents = store.search(&text.join(" ")).await?;
            print_documents(&mut out, documents, json, zone)?;
        }
        Command::Docs(DocsCommand::Annul { number, reason }) => {
            let number = canonical_number(&number)?;
            store.annul(&number, &reason, &actor, now).await?;
            writeln!(out, "{number} annulled: {reason}")?;
        }
        Command::Register(RegisterCommand::Daily { date, format }) => {
            let day = parse_day(date.as_deref().unwrap_or("today"), now, zone).map_err(anyhow::Error::msg)?;
            let (start, end) = day_bounds(day, zone);
            let documents = store.list(&ListFilter { status: None, since: Some(start), until: Some(end) }).await?;
            let rows = report::daily_rows(documents, zone);
            match format {
                Format::Csv => report::write_daily_csv(&mut out, &rows)?,
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, &rows)?;
                    writeln!(out)?;
                }
            }
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
        Command::Db(DbCommand::Migrate) => {
            store.migrate().await?;
            writeln!(out, "database schema is up to date")?;
        }
    }
    store.close().await;
    Ok(0)
}

fn canonical_number(text: &str) -> Result<String> {
    match text.parse::<crate::core::number::RegistrationNumber>() {
        Ok(number) => Ok(number.to_string()),
        Err(message) => bail!(message),
    }
}

fn print_documents(out: &mut impl Write, documents: Vec<DocumentRecord>, json: bool, zone: chrono_tz::Tz) -> Result<()> {
    let documents: Vec<DocumentRecord> = documents.into_iter().map(DocumentRecord::redacted).collect();
    if json {
        serde_json::to_writer_pretty(&mut *out, &documents)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", report::document_table(&documents, zone))?;
    }
    Ok(())
}

async fn serve(config: Config, store: Store) -> Result<()> {
    if !config.imap.enabled {
        bail!("nothing to serve: imap.enabled is false");
    }
    let password = config.imap.password().map_err(anyhow::Error::msg)?;
    let listener = Listener::new(config.imap.clone(), password, store.clone(), config.register.policy());
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("shutting down");
        stop.send(true).ok();
    });
    info!(host = %config.imap.host, port = config.imap.port(), user = %config.imap.user, mailbox = %config.imap.mailbox, "listening");
    listener.run(stopped).await?;
    store.close().await;
    Ok(())
}

async fn wait_for_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init().ok();
}

/// Formats an instant in the office's zone for people.
pub fn local(stamp: &str, zone: chrono_tz::Tz) -> String {
    DateTime::parse_from_rfc3339(stamp)
        .map(|d| d.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| stamp.to_string())
}
