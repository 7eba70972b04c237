//! `chancery status`: the instances serving this register, what each holds and whether it is
//! alive, the letters waiting in the mailbox as its holder last saw them, and the outbox by
//! status. `--json` prints one object that scripts read (`scripts/chaos` among them); its keys
//! stay as they are.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::lease;
use crate::core::time::stamp;
use crate::store::{InstanceRecord, LeaseRecord, Store};

/// What `status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub instances: Vec<InstanceStatus>,
    /// Letters the mailbox's holder saw unregistered at its last catch-up, less those it has
    /// registered since.
    pub backlog: i64,
    /// Outbox rows by status (`pending`, `sending`, `sent`, `failed`, all present), and `queued`:
    /// pending and sending together, the mail not sent yet.
    pub outbox: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceStatus {
    pub name: String,
    pub pid: i64,
    /// The leases it holds now, e.g. `mailbox:INBOX`.
    pub holds: Vec<String>,
    pub heartbeat_at: String,
    /// False once its heartbeat is older than its lease: it is gone (killed, or cut off).
    pub alive: bool,
    #[serde(skip)]
    pub host: String,
    #[serde(skip)]
    pub heartbeat_age_secs: i64,
}

/// Reads the status from the store.
pub async fn gather(store: &Store, now: DateTime<Utc>) -> crate::store::Result<Status> {
    let instances = store.instances().list().await?;
    let leases = store.instances().leases().await?;
    let counts = store.instances().outbox_counts().await?;
    Ok(status(&instances, &leases, counts, now))
}

/// The status from the rows as they stand at `now`.
pub fn status(instances: &[InstanceRecord], leases: &[LeaseRecord], counts: BTreeMap<String, i64>, now: DateTime<Utc>) -> Status {
    let instances = instances
        .iter()
        .map(|instance| {
            let length = (instance.alive_until - instance.heartbeat_at).to_std().unwrap_or_default();
            InstanceStatus {
                name: instance.name.clone(),
                pid: instance.pid,
                holds: leases
                    .iter()
                    .filter(|lease| lease.holder == instance.name && lease.expires_at > now)
                    .map(|lease| lease.resource.clone())
                    .collect(),
                heartbeat_at: stamp(instance.heartbeat_at),
                alive: lease::alive(instance.heartbeat_at, length, now),
                host: instance.host.clone(),
                heartbeat_age_secs: (now - instance.heartbeat_at).num_seconds(),
            }
        })
        .collect();
    let backlog = leases.iter().filter(|lease| lease.resource.starts_with("mailbox:")).map(|lease| lease.backlog).sum();
    let mut outbox: BTreeMap<String, i64> = ["pending", "sending", "sent", "failed"].iter().map(|s| (s.to_string(), 0)).collect();
    outbox.extend(counts);
    let queued = outbox["pending"] + outbox["sending"];
    outbox.insert("queued".into(), queued);
    Status { instances, backlog, outbox }
}

/// One line of JSON.
pub fn json(status: &Status) -> String {
    serde_json::to_string(status).unwrap_or_else(|_| "{}".to_string())
}

/// The table people read.
pub fn table(status: &Status) -> String {
    let mut out = String::new();
    if status.instances.is_empty() {
        out.push_str("no instance is serving this register (none has run `chancery serve` on it, or all stopped)\n");
    } else {
        let rows: Vec<[String; 5]> = status
            .instances
            .iter()
            .map(|i| {
                [
                    i.name.clone(),
                    i.pid.to_string(),
                    if i.holds.is_empty() { "-".to_string() } else { i.holds.join(", ") },
                    format!("{} s ago", i.heartbeat_age_secs.max(0)),
                    if i.alive { "alive".to_string() } else { "gone".to_string() },
                ]
            })
            .collect();
        let header = ["INSTANCE", "PID", "HOLDS", "HEARTBEAT", "STATE"].map(str::to_string);
        let widths: Vec<usize> = (0..5).map(|c| rows.iter().chain([&header]).map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        for row in [&header].into_iter().chain(&rows) {
            let line: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!("backlog: {} letters waiting to be registered\n", status.backlog));
    let outbox: Vec<String> =
        ["pending", "sending", "sent", "failed"].iter().map(|s| format!("{s} {}", status.outbox.get(*s).copied().unwrap_or(0))).collect();
    out.push_str(&format!("outbox: {}\n", outbox.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn instance(name: &str, heartbeat: &str) -> InstanceRecord {
        let heartbeat_at = at(heartbeat);
        InstanceRecord {
            name: name.into(),
            host: "db1".into(),
            pid: 7,
            started_at: heartbeat_at,
            heartbeat_at,
            alive_until: heartbeat_at + chrono::Duration::seconds(20),
        }
    }

    #[test]
    fn a_stale_heartbeat_is_gone_and_only_an_unexpired_lease_is_held() {
        let now = at("2026-12-01T12:00:30Z");
        let instances = [instance("a", "2026-12-01T12:00:28Z"), instance("b", "2026-12-01T12:00:05Z")];
        let lease = |holder: &str, expires: &str, backlog| LeaseRecord {
            resource: "mailbox:INBOX".into(),
            holder: holder.into(),
            acquired_at: at("2026-12-01T12:00:00Z"),
            expires_at: at(expires),
            backlog,
        };
        let counts = BTreeMap::from([("sent".to_string(), 5), ("pending".to_string(), 2)]);
        let shown = status(&instances, &[lease("a", "2026-12-01T12:00:48Z", 3)], counts.clone(), now);
        assert_eq!(shown.instances.iter().map(|i| (i.name.as_str(), i.alive)).collect::<Vec<_>>(), [("a", true), ("b", false)]);
        assert_eq!(shown.instances[0].holds, ["mailbox:INBOX"]);
        assert!(shown.instances[1].holds.is_empty());
        assert_eq!(shown.backlog, 3);
        assert_eq!(shown.outbox["queued"], 2);
        assert_eq!(shown.outbox["failed"], 0);
        let expired = status(&instances, &[lease("b", "2026-12-01T12:00:25Z", 9)], counts, now);
        assert!(expired.instances.iter().all(|i| i.holds.is_empty()), "an expired lease is held by no one");

        let value: serde_json::Value = serde_json::from_str(&json(&shown)).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["backlog", "instances", "outbox"]);
        let first: Vec<&str> = value["instances"][0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(first, ["alive", "heartbeat_at", "holds", "name", "pid"]);
        let text = table(&shown);
        assert!(text.contains("mailbox:INBOX") && text.contains("gone") && text.contains("backlog: 3"), "{text}");
    }

    #[test]
    fn no_instances_is_a_status_too() {
        let shown = status(&[], &[], BTreeMap::new(), at("2026-12-01T12:00:00Z"));
        assert!(shown.instances.is_empty() && shown.backlog == 0);
        assert!(table(&shown).starts_with("no instance"), "{}", table(&shown));
        assert_eq!(json(&shown), r#"{"instances":[],"backlog":0,"outbox":{"failed":0,"pending":0,"queued":0,"sending":0,"sent":0}}"#);
    }
}
