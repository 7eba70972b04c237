//! The rule-file adapter: reads `mail-rules/` from disk and keeps the rules in force current.
//!
//! Rules are edited by registry staff while Chancery runs. A changed file is read again; if it
//! is broken, the error is logged with its file and line and the rules in force stay; errors
//! not seen at the reload before also go to the admin room, when one is set.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::core::announce::{self, RoomTarget};
use crate::core::intake::IntakePolicy;
use crate::core::rules::{RuleBook, RuleError};
use crate::store::Store;

/// How often the folder is looked at for edits.
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub enum LoadError {
    Unreadable(String),
    Invalid(Vec<RuleError>),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Unreadable(message) => f.write_str(message),
            LoadError::Invalid(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("\n"))
            }
        }
    }
}

/// Every `*.toml` file of the folder (rules and units), by name.
pub fn read_rule_files(dir: &Path) -> Result<Vec<(String, String)>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LoadError::Unreadable(format!("cannot read rules folder {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Unreadable(format!("{name}: cannot read: {e}")))?;
            files.push((name, text));
        }
    }
    files.sort();
    Ok(files)
}

pub fn load(dir: &Path) -> Result<RuleBook, LoadError> {
    RuleBook::parse(&read_rule_files(dir)?).map_err(LoadError::Invalid)
}

/// The rule book in force, swapped whole when the files change.
pub struct LiveRules {
    dir: PathBuf,
    current: RwLock<Arc<RuleBook>>,
    /// Where new errors are posted for the admin room, when the assistant has one.
    admin_room: OnceLock<Store>,
}

impl LiveRules {
    pub fn new(dir: PathBuf, book: RuleBook) -> LiveRules {
        LiveRules { dir, current: RwLock::new(Arc::new(book)), admin_room: OnceLock::new() }
    }

    /// Errors a reload finds are also written to the room outbox for the admin room (`admin`).
    pub fn report_errors_to_admin_room(&self, store: Store) {
        self.admin_room.set(store).ok();
    }

    pub fn current(&self) -> Arc<RuleBook> {
        Arc::clone(&self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Reads the files again; if they are broken the error comes back and the old rules stay.
    pub fn reload(&self) -> Result<(), LoadError> {
        let book = load(&self.dir)?;
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(book);
        Ok(())
    }

    /// Polls the folder until shutdown, reloading on every change.
    pub async fn watch(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut seen = fingerprint(&self.dir);
        // The errors of the last reload: an edit that leaves them as they were is not news.
        let mut reported: Vec<String> = Vec::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            let now = fingerprint(&self.dir);
            if now == seen {
                continue;
            }
            seen = now;
            match self.reload() {
                Ok(()) => {
                    reported.clear();
                    info!(dir = %self.dir.display(), rules = self.current().rule_count(), "rules reloaded");
                }
                Err(problem) => {
                    let errors: Vec<String> = problem.to_string().lines().map(str::to_string).collect();
                    for line in &errors {
                        error!("rule files: {line}");
                    }
                    error!("rule files are broken; the rules in force stay until they are fixed");
                    let news: Vec<String> = errors.iter().filter(|line| !reported.contains(line)).cloned().collect();
                    reported = errors;
                    if let Some(store) = self.admin_room.get()
                        && !news.is_empty()
                        && let Err(failure) =
                            store.room_messages().enqueue(&RoomTarget::Admin, &announce::rule_file_errors(&news), chrono::Utc::now()).await
                    {
                        warn!(error = %failure, "the admin room cannot be told of the broken rule files");
                    }
                }
            }
        }
    }
}

/// Names, sizes and modification times of the folder's files: what changes when staff edit.
fn fingerprint(dir: &Path) -> Vec<(String, u64, Option<SystemTime>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            Some((entry.file_name().to_string_lossy().into_owned(), meta.len(), meta.modified().ok()))
        })
        .collect();
    files.sort();
    files
}

/// Where the listener takes its intake policy from for each batch: fixed, or with the rules
/// that are in force at that moment.
#[derive(Clone)]
pub enum PolicySource {
    Fixed(IntakePolicy),
    Live { base: IntakePolicy, rules: Arc<LiveRules> },
}

impl PolicySource {
    pub fn current(&self) -> IntakePolicy {
        match self {
            PolicySource::Fixed(policy) => policy.clone(),
            PolicySource::Live { base, rules } => IntakePolicy { rules: Some(rules.current()), ..base.clone() },
        }
    }
}

impl From<IntakePolicy> for PolicySource {
    fn from(policy: IntakePolicy) -> Self {
        PolicySource::Fixed(policy)
    }
}
