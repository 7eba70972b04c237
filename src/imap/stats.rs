//! What the listener counts: read by tests, benchmarks and logs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters that tests, benchmarks and logs read.
#[derive(Debug, Default)]
pub struct ListenerStats {
    pub bodies_fetched: AtomicU64,
    pub body_bytes_fetched: AtomicU64,
    pub registered: AtomicU64,
    pub same_letter: AtomicU64,
    pub catch_ups: AtomicU64,
    pub sessions: AtomicU64,
    /// Times the mailbox's lease was lost while listening.
    pub leases_lost: AtomicU64,
}

impl ListenerStats {
    pub(super) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}
