//! This `serve` as one instance among several sharing a register: it writes its heartbeat every
//! few seconds, and takes and renews the leases of what only one instance may do at a time (the
//! mailbox it listens to). What to do when is `core::lease`'s; the SQL is `store.instances()`'s.
//!
//! A lease is held until a local deadline: the start of its last successful renewal plus the
//! lease's working time (its length less a margin). Whoever works under it (the listener) stops
//! at that deadline unless a renewal moved it on, so a holder cut off from the database stops
//! before its lease runs out, even if the renewal itself hangs.

use std::sync::Arc;

use anyhow::{Result, bail};
use chrono::Utc;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::InstanceConfig;
use crate::core::lease::{self, Terms};
use crate::errors::one_line;
use crate::store::{InstanceRecord, Store};

/// Until when this instance may work on a leased resource; `None` while another holds it.
pub type Holding = Option<Instant>;

/// One lease as its worker sees it: held until when, and who to report the backlog as.
#[derive(Clone)]
pub struct LeaseWatch {
    pub resource: String,
    pub holder: String,
    pub holding: watch::Receiver<Holding>,
}

impl LeaseWatch {
    /// Waits until the lease is held; false if the keeper is gone.
    pub async fn held(&mut self) -> bool {
        loop {
            if let Some(until) = *self.holding.borrow_and_update()
                && until > Instant::now()
            {
                return true;
            }
            if self.holding.changed().await.is_err() {
                return false;
            }
        }
    }

    /// Resolves when the lease is no longer held: taken by another instance, or its deadline
    /// passed without a renewal (the database is out of reach, or the keeper is stuck).
    pub async fn lost(&mut self) {
        loop {
            let Some(until) = *self.holding.borrow_and_update() else { return };
            if until <= Instant::now() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {
                    if *self.holding.borrow() == Some(until) {
                        return;
                    }
                }
                changed = self.holding.changed() => {
                    if changed.is_err() {
                        // The keeper is gone: the deadline still stands.
                        tokio::time::sleep_until(until).await;
                        return;
                    }
                }
            }
        }
    }
}

/// This instance: its row in the register and the leases it wants.
pub struct Presence {
    store: Store,
    record: InstanceRecord,
    terms: Terms,
    leases: Vec<(String, watch::Sender<Holding>)>,
}

impl Presence {
    /// Enters this process as an instance. Refused when a running instance has the name: two
    /// instances under one name would take each other's claims.
    pub async fn join(store: &Store, config: &InstanceConfig) -> Result<Presence> {
        let terms = config.terms().map_err(anyhow::Error::msg)?;
        let host = host_name();
        let pid = std::process::id();
        let name = lease::instance_name(config.name.as_deref(), &host, pid);
        let now = Utc::now();
        if let Some(other) = store.instances().find(&name).await? {
            let length = (other.alive_until - other.heartbeat_at).to_std().unwrap_or(terms.length);
            let itself = other.host == host && other.pid == i64::from(pid);
            let dead_here = other.host == host && !process_runs(other.pid);
            if lease::alive(other.heartbeat_at, length, now) && !itself && !dead_here {
                bail!(
                    "instance name {name:?} is in use by pid {} on {} (heartbeat {} s ago): give each instance its own \
                     [instance] name, or wait {} s if that one was stopped",
                    other.pid,
                    other.host,
                    (now - other.heartbeat_at).num_seconds().max(0),
                    terms.length.as_secs()
                );
            }
        }
        // Instances of this machine that no longer run were killed: what they held and claimed
        // is given back now rather than when their heartbeats lapse, so a restart after a crash
        // carries on at once. (Machines that share one register need host names of their own.)
        for dead in store.instances().list().await? {
            if dead.host == host && dead.name != name && dead.pid != i64::from(pid) && !process_runs(dead.pid) {
                info!(instance = %dead.name, pid = dead.pid, "an instance of this machine is not running; releasing what it held");
                store.instances().leave(&dead.name, now).await?;
            }
        }
        let record = InstanceRecord {
            name: name.clone(),
            host,
            pid: i64::from(pid),
            started_at: now,
            heartbeat_at: now,
            alive_until: terms.expires_at(now),
        };
        store.act_as(&name);
        store.instances().join(&record).await?;
        info!(instance = %name, lease_secs = terms.length.as_secs(), "joined the register as an instance");
        Ok(Presence { store: store.clone(), record, terms, leases: Vec::new() })
    }

    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// The lease of `resource`, which this instance will try to take and keep.
    pub fn want(&mut self, resource: &str) -> LeaseWatch {
        let (tx, holding) = watch::channel(None);
        self.leases.push((resource.to_string(), tx));
        LeaseWatch { resource: resource.to_string(), holder: self.record.name.clone(), holding }
    }

    /// Writes the heartbeat and takes or renews the leases every `renew_every` until `stopped`.
    pub async fn keep(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(self.terms.renew_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.changed() => return,
            }
            if *stopped.borrow() {
                return;
            }
            // Whatever a round writes counts from when it started; a round that hangs is cut
            // off after one interval, and the leases' deadlines stand.
            let started = Instant::now();
            match tokio::time::timeout(self.terms.renew_every, self.renew(started)).await {
                Ok(Ok(())) => {
                    if failing {
                        info!("the register answers again; heartbeat renewed");
                    }
                    failing = false;
                }
                Ok(Err(error)) => {
                    if !failing {
                        warn!(error = %one_line(&error), "cannot renew the heartbeat and leases; retrying");
                    }
                    failing = true;
                }
                Err(_) => {
                    if !failing {
                        warn!("renewing the heartbeat and leases took longer than {:?}; retrying", self.terms.renew_every);
                    }
                    failing = true;
                }
            }
        }
    }

    async fn renew(&self, started: Instant) -> crate::store::Result<()> {
        let now = Utc::now();
        let record = InstanceRecord { heartbeat_at: now, alive_until: self.terms.expires_at(now), ..self.record.clone() };
        self.store.instances().heartbeat(&record).await?;
        for (resource, holding) in &self.leases {
            let held = self.store.instances().acquire(resource, &record.name, now, self.terms.expires_at(now)).await?;
            let was = holding.borrow().is_some_and(|until| until > Instant::now());
            if held {
                if !was {
                    info!(%resource, "took the lease");
                }
                holding.send_replace(Some(started + self.terms.working_time()));
            } else {
                if was {
                    warn!(%resource, "another instance holds the lease now; stopping work on it");
                }
                holding.send_replace(None);
            }
        }
        Ok(())
    }

    /// Leaves cleanly: the leases are given up for another instance to take at once, claims go
    /// back to the outboxes, and the instance's row is deleted.
    pub async fn leave(&self) {
        for (_, holding) in &self.leases {
            holding.send_replace(None);
        }
        let left = tokio::time::timeout(self.terms.renew_every, self.store.instances().leave(&self.record.name, Utc::now())).await;
        match left {
            Ok(Ok(())) => info!(instance = %self.record.name, "left the register; leases given up"),
            Ok(Err(error)) => warn!(error = %one_line(&error), "cannot give up the leases; they run out by themselves"),
            Err(_) => warn!("giving up the leases took too long; they run out by themselves"),
        }
    }
}

/// Whether a process of this machine runs (Linux's /proc); assumed so where that cannot be told.
fn process_runs(pid: i64) -> bool {
    if !std::path::Path::new("/proc/self").exists() {
        return true;
    }
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// This machine's name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}
