//! Planning the downloads of a catch-up: which messages go in one FETCH, and how many bytes
//! may wait, downloaded and not yet registered.

use crate::config::ImapConfig;

/// A message on the server as the listing shows it, before any body is downloaded.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listed {
    pub(super) uid: u32,
    pub(super) size: u64,
    pub(super) marked: bool,
}

/// Downloading overlaps registering, but the bytes downloaded and not yet registered stay
/// under about one largest letter (`max_message_bytes`) or four batches, whichever is more:
/// letters of tens of megabytes are then held one or two at a time, never a queue of them.
pub(super) fn in_flight_budget_kib(config: &ImapConfig) -> u32 {
    let bytes = config.max_message_bytes().max(4 * config.fetch_batch_bytes);
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1)
}

/// Messages downloaded in one FETCH: whole, or (oversize ones) their headers only.
pub(super) struct Batch {
    pub(super) uids: Vec<u32>,
    pub(super) sizes: Vec<u64>,
    pub(super) headers_only: bool,
}

impl Batch {
    /// The bytes this batch downloads, as the listing gave them.
    pub(super) fn listed_bytes(&self) -> u64 {
        if self.headers_only { 64 * 1024 * self.uids.len() as u64 } else { self.sizes.iter().sum() }
    }

    pub(super) fn size_of(&self, uid: u32) -> u64 {
        self.uids.iter().position(|u| *u == uid).map(|i| self.sizes[i]).unwrap_or(0)
    }
}

/// Groups fresh messages into downloads of about `batch_bytes`; oversize ones fetch headers only.
pub(super) fn plan_batches(fresh: &[Listed], batch_bytes: u64, max_message_bytes: u64) -> Vec<Batch> {
    let mut batches: Vec<Batch> = Vec::new();
    let mut current = Batch { uids: Vec::new(), sizes: Vec::new(), headers_only: false };
    let mut current_bytes = 0;
    let mut oversize = Batch { uids: Vec::new(), sizes: Vec::new(), headers_only: true };
    for message in fresh {
        if message.size > max_message_bytes {
            oversize.uids.push(message.uid);
            oversize.sizes.push(message.size);
            continue;
        }
        if !current.uids.is_empty() && (current_bytes + message.size > batch_bytes || current.uids.len() >= 2000) {
            batches.push(std::mem::replace(&mut current, Batch { uids: Vec::new(), sizes: Vec::new(), headers_only: false }));
            current_bytes = 0;
        }
        current.uids.push(message.uid);
        current.sizes.push(message.size);
        current_bytes += message.size;
    }
    if !current.uids.is_empty() {
        batches.push(current);
    }
    if !oversize.uids.is_empty() {
        batches.push(oversize);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_size_and_put_oversize_apart() {
        let fresh: Vec<Listed> = [(1, 400), (2, 400), (3, 400), (4, 5000), (5, 100)]
            .into_iter()
            .map(|(uid, size)| Listed { uid, size, marked: false })
            .collect();
        let batches = plan_batches(&fresh, 1000, 1000);
        let shape: Vec<(Vec<u32>, bool)> = batches.iter().map(|b| (b.uids.clone(), b.headers_only)).collect();
        assert_eq!(shape, vec![(vec![1, 2], false), (vec![3, 5], false), (vec![4], true)]);
    }
}
