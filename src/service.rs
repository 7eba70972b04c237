//! `chancery serve`: wires the IMAP listener, the SMTP dispatcher, the rule watcher and the
//! Matrix assistant, and runs them until `shutdown` resolves. The tests start it the same way.

use std::future::Future;
use std::sync::Arc;

use anyhow::{Result, bail};
use tokio::sync::watch;
use tracing::info;

use crate::commands::{Catalog, Settings};
use crate::config::Config;
use crate::core::intake::IntakePolicy;
use crate::core::remind::Policy;
use crate::core::rules::RuleBook;
use crate::imap::Listener;
use crate::instance::{LeaseWatch, Presence};
use crate::matrix::{Assistant, AssistantParts};
use crate::rule_files::{self, LiveRules, PolicySource};
use crate::scheduler::{FiringStore, Scheduler, SystemClock};
use crate::smtp::Dispatcher;
use crate::store::Store;

/// The parts `serve` runs side by side; each ends with its error, if it fails.
type Tasks = tokio::task::JoinSet<Result<()>>;

/// Runs every part the configuration enables until `shutdown` resolves or a part fails at
/// start (a refused login). Losing a server later is not a failure: each part reconnects.
pub async fn run(config: Config, store: Store, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
    if !config.imap.enabled && !config.smtp.enabled && !config.matrix.enabled && !config.http.enabled {
        bail!("nothing to serve: imap.enabled, smtp.enabled, matrix.enabled and http.enabled are all false");
    }
    let (stop, stopped) = stop_on(shutdown);
    let replies = if config.smtp.enabled { Some(Arc::new(crate::smtp::reply_policy(&config.smtp)?)) } else { None };
    let rules = load_rules(&config)?;
    if let (Some(book), Some(replies)) = (&rules, &replies) {
        check_templates(book, &replies.templates)?;
    }
    // Joining first: whatever this instance claims from here on carries its name.
    let mut presence = join_the_instances(&config, &store).await?;
    let mailbox_lease = config.imap.enabled.then(|| presence.want(&crate::core::lease::mailbox_resource(&config.imap.mailbox)));
    let presence = Arc::new(presence);
    let mut tasks = Tasks::new();
    tokio::spawn(store.clone().index_in_background(stopped.clone()));
    let reminders = Arc::new(reminder_policy(&config, rules.as_ref())?);
    start_senders_and_answerers(&config, &store, rules.as_ref(), &reminders, presence.name(), &mut tasks, &stopped).await?;
    // The rule files are watched whenever rules are loaded, IMAP or not: a broken edit reaches
    // the admin room (and the log) as soon as it is saved, not when intake next runs.
    let live_rules = rules.map(|book| watch_rules(&config, &store, book, &stopped));
    if config.imap.enabled {
        let base = IntakePolicy { replies: replies.clone(), notify_rooms: config.matrix.enabled, ..config.register.policy() };
        let policy = match live_rules {
            Some(live) => PolicySource::Live { base, rules: live },
            None => PolicySource::Fixed(base),
        };
        start_listener(&config, &store, policy, &reminders, mailbox_lease, &mut tasks, &stopped)?;
    }
    // The heartbeat and the leases, once everything has started: a `serve` that fails to start
    // (a port in use) never takes the mailbox from the others.
    let keeper = tokio::spawn(Arc::clone(&presence).keep(stopped.clone()));
    let failure = first_failure(tasks, &stop).await;
    stop.send_replace(true);
    keeper.await.ok();
    presence.leave().await;
    store.close().await;
    failure.map_or(Ok(()), Err)
}

/// A stop signal that turns true when `shutdown` resolves, or when `serve` sends it itself.
fn stop_on(shutdown: impl Future<Output = ()> + Send + 'static) -> (Arc<watch::Sender<bool>>, watch::Receiver<bool>) {
    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    let on_shutdown = Arc::clone(&stop);
    tokio::spawn(async move {
        shutdown.await;
        info!("shutting down");
        on_shutdown.send_replace(true);
    });
    (stop, stopped)
}

/// This process among the register's instances, waiting for a database that is restarting.
async fn join_the_instances(config: &Config, store: &Store) -> Result<Presence> {
    when_the_database_answers(
        || Presence::join(store, &config.instance),
        |error: &anyhow::Error| error.downcast_ref::<crate::store::StoreError>().is_some_and(crate::store::StoreError::is_unreachable),
    )
    .await
}

/// The reminder scheduler, the SMTP dispatcher, the Matrix assistant and the calendar feeds,
/// as the configuration enables each.
async fn start_senders_and_answerers(
    config: &Config,
    store: &Store,
    rules: Option<&RuleBook>,
    reminders: &Arc<Policy>,
    instance: &str,
    tasks: &mut Tasks,
    stopped: &watch::Receiver<bool>,
) -> Result<()> {
    if config.reminders.enabled {
        let units = rules.map(|book| book.units().iter().map(|unit| unit.id.clone()).collect()).unwrap_or_default();
        let firing = FiringStore { store: store.clone(), policy: Arc::clone(reminders) };
        let scheduler = Scheduler::new(firing, Arc::new(SystemClock), units);
        info!("firing reminders");
        let stopped = stopped.clone();
        tasks.spawn(async move { scheduler.run(stopped).await });
    }
    if config.smtp.enabled {
        let password = config.smtp.password().map_err(anyhow::Error::msg)?;
        let dispatcher = Dispatcher::new(&config.smtp, password, store.clone())?;
        store.wake_on_mail(dispatcher.waker());
        info!(host = %config.smtp.host, port = config.smtp.port(), from = %config.smtp.from, "sending the outbox");
        let stopped = stopped.clone();
        tasks.spawn(async move { dispatcher.run(stopped).await });
    }
    if config.matrix.enabled {
        let assistant = Assistant::new(config, store.clone(), assistant_parts(config, rules, Policy::clone(reminders))?, instance)?;
        info!(homeserver = %config.matrix.homeserver, user = %config.matrix.user, "answering in Matrix");
        let stopped = stopped.clone();
        tasks.spawn(async move { assistant.run(stopped).await });
    }
    if config.http.enabled {
        // A port in use stops `serve` at once rather than leaving it up without its feeds.
        let listener = crate::http::bind(&config.http).await?;
        let feeds = crate::http::FeedSettings::from_config(config);
        tasks.spawn(crate::http::serve(listener, store.clone(), feeds, stopped.clone()));
    }
    Ok(())
}

/// The rules in force, reloaded when their files change; errors go to the admin room too.
fn watch_rules(config: &Config, store: &Store, book: RuleBook, stopped: &watch::Receiver<bool>) -> Arc<LiveRules> {
    info!(dir = %config.rules.dir.display(), rules = book.rule_count(), units = book.units().len(), "rules in force");
    let live = Arc::new(LiveRules::new(config.rules.dir.clone(), book));
    if config.matrix.enabled && config.matrix.admin_room.is_some() {
        live.report_errors_to_admin_room(store.clone());
    }
    tokio::spawn(Arc::clone(&live).watch(stopped.clone()));
    live
}

/// The IMAP listener, registering what arrives by `policy` and reminding its due dates by
/// `reminders`.
fn start_listener(
    config: &Config,
    store: &Store,
    policy: PolicySource,
    reminders: &Policy,
    mailbox_lease: Option<LeaseWatch>,
    tasks: &mut Tasks,
    stopped: &watch::Receiver<bool>,
) -> Result<()> {
    let password = config.imap.password().map_err(anyhow::Error::msg)?;
    let mut listener = Listener::new(config.imap.clone(), password, store.clone(), policy, reminders.clone());
    if let Some(lease) = mailbox_lease {
        // Only the instance that holds the mailbox's lease connects to it.
        listener = listener.with_lease(lease);
    }
    info!(host = %config.imap.host, port = config.imap.port(), user = %config.imap.user, mailbox = %config.imap.mailbox, "listening");
    let stopped = stopped.clone();
    tasks.spawn(async move { listener.run(stopped).await });
    Ok(())
}

/// Waits for every task. A task that fails (the listener whose login is refused at start)
/// stops the others, which finish what they are doing; the first error is what `serve` ends
/// with.
async fn first_failure(mut tasks: Tasks, stop: &watch::Sender<bool>) -> Option<anyhow::Error> {
    let mut failure = None;
    while let Some(finished) = tasks.join_next().await {
        let outcome = finished.map_err(|e| anyhow::anyhow!("a service task failed: {e}")).and_then(|result| result);
        if let Err(error) = outcome
            && failure.is_none()
        {
            stop.send_replace(true);
            failure = Some(error);
        }
    }
    failure
}

/// What the chat commands read, from the configuration and the rules: the same for Matrix and
/// `chancery chat`. `reminders` is the policy the caller built from the same two
/// (`reminder_policy`), so that `serve` builds it once for the scheduler, the listener and the
/// assistant alike.
pub fn assistant_parts(config: &Config, rules: Option<&RuleBook>, reminders: Policy) -> Result<AssistantParts> {
    let catalog = Catalog::load(&config.assistant.commands_dir)?;
    let settings = Settings {
        zone: config.register.zone().map_err(anyhow::Error::msg)?,
        units: rules.map(|book| book.units().iter().map(|unit| unit.id.clone()).collect()).unwrap_or_default(),
        university: config.university.clone(),
        from_address: config.smtp.from.clone(),
        press: crate::core::press::PressSettings {
            templates_dir: config.smtp.templates_dir.join("press"),
            mail_enabled: config.smtp.enabled,
        },
        visa_kinds: crate::core::visa::VisaKinds::new(config.reminders.visa_kinds.clone()),
        http: config.http.clone(),
        reminders,
        file_plan: rules.and_then(|book| book.file_plan().cloned()),
        cutoff: config.archive.cutoff()?,
    };
    let unit_rooms = rules
        .map(|book| book.units().iter().filter(|u| !u.room.is_empty()).map(|u| (u.id.clone(), u.room.clone())).collect())
        .unwrap_or_default();
    Ok(AssistantParts { catalog: Arc::new(catalog), settings: Arc::new(settings), unit_rooms })
}

/// When reminders fire: `[reminders]` with the office's calendar, the units' heads of
/// `units.toml`, and the address they are e-mailed from when mail is on.
pub fn reminder_policy(config: &Config, rules: Option<&RuleBook>) -> Result<Policy> {
    let heads = rules
        .map(|book| book.units().iter().filter(|u| !u.head.email.is_empty()).map(|u| (u.id.clone(), u.head.email.clone())).collect())
        .unwrap_or_default();
    let from = config.smtp.enabled.then(|| config.smtp.from.clone());
    config.reminders.policy(&config.register, heads, from).map_err(anyhow::Error::msg)
}

/// The rule book from `rules.dir`, or `None` when rules are disabled. Broken rules stop the
/// command with every error listed: nothing is registered under rules nobody meant.
pub fn load_rules(config: &Config) -> Result<Option<RuleBook>> {
    if !config.rules.enabled {
        return Ok(None);
    }
    rule_files::load(&config.rules.dir)
        .map(Some)
        .map_err(|problem| anyhow::anyhow!("rules in {}: {}", config.rules.dir.display(), problem.to_string().replace('\n', "; ")))
}

/// Every acknowledgement template a rule names must exist, or its letters would silently go
/// unanswered.
pub fn check_templates(book: &RuleBook, templates: &crate::core::reply::Templates) -> Result<()> {
    let missing: Vec<String> = book
        .acknowledgement_templates()
        .into_iter()
        .filter(|(_, template)| !templates.knows(template))
        .map(|(rule, template)| format!("rule {rule:?} names acknowledgement template {template:?}, which the templates folder lacks"))
        .collect();
    if missing.is_empty() { Ok(()) } else { bail!("{}", missing.join("; ")) }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn signal() {
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

/// How long `serve` waits for a database that is unreachable or restarting, at start.
const WAIT_FOR_DATABASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `attempt` until it succeeds, fails otherwise than by an unreachable database (as
/// `unreachable` tells), or `WAIT_FOR_DATABASE` has passed: `serve` started beside a PostgreSQL
/// restart carries on instead of exiting, as it waits for a mail server that is down.
pub async fn when_the_database_answers<T, E, Fut>(
    mut attempt: impl FnMut() -> Fut,
    unreachable: impl Fn(&E) -> bool,
) -> std::result::Result<T, E>
where
    E: std::fmt::Display,
    Fut: Future<Output = std::result::Result<T, E>>,
{
    let deadline = std::time::Instant::now() + WAIT_FOR_DATABASE;
    let mut delay = std::time::Duration::from_millis(500);
    loop {
        match attempt().await {
            Err(error) if unreachable(&error) && std::time::Instant::now() + delay < deadline => {
                tracing::warn!(%error, retry_in = ?delay, "the database does not answer; trying again");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
            result => return result,
        }
    }
}
