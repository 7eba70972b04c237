//! Answering off the sync loop: every question is answered in a task of its own, so a slow
//! command never holds up the next sync or anybody else's answer; at most `CONCURRENT_ANSWERS`
//! run at once, and in each room the answers keep the order of the questions.
//!
//! Each room with questions waiting has one worker that takes them in order; the worker ends
//! as soon as its queue is empty, and the next question starts a new one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use matrix_sdk::ruma::{OwnedRoomId, RoomId};
use tokio::sync::{Semaphore, mpsc};
use tracing::error;

/// How many questions are answered at once across all rooms: enough that twenty people asking
/// together do not queue behind each other, few enough that a burst cannot exhaust the
/// database's connections.
pub(super) const CONCURRENT_ANSWERS: usize = 16;

/// Answering one question: claim it, run the command, post the answer.
pub(super) type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(super) struct Answering {
    /// The queue of each room that has a worker.
    queues: Mutex<HashMap<OwnedRoomId, mpsc::UnboundedSender<Job>>>,
    permits: Arc<Semaphore>,
}

impl Answering {
    pub(super) fn new(concurrent: usize) -> Arc<Answering> {
        Arc::new(Answering { queues: Mutex::new(HashMap::new()), permits: Arc::new(Semaphore::new(concurrent.max(1))) })
    }

    /// Queues `job` behind the room's earlier questions and returns at once.
    pub(super) fn submit(self: &Arc<Self>, room: &RoomId, job: Job) {
        let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let job = match queues.get(room) {
            Some(queue) => match queue.send(job) {
                Ok(()) => return,
                // Its worker is gone (it can only have panicked): start another.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (queue, jobs) = mpsc::unbounded_channel();
        queue.send(job).ok();
        queues.insert(room.to_owned(), queue);
        tokio::spawn(Arc::clone(self).work(room.to_owned(), jobs));
    }

    async fn work(self: Arc<Self>, room: OwnedRoomId, mut jobs: mpsc::UnboundedReceiver<Job>) {
        loop {
            let job = match jobs.try_recv() {
                Ok(job) => job,
                Err(_) => {
                    // Retire under the lock `submit` sends under: nothing can slip in between
                    // seeing the queue empty and leaving.
                    let mut queues = self.queues.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    match jobs.try_recv() {
                        Ok(job) => job,
                        Err(_) => {
                            queues.remove(&room);
                            return;
                        }
                    }
                }
            };
            let Ok(_permit) = Arc::clone(&self.permits).acquire_owned().await else { return };
            // Commands catch their own panics; this keeps a panic in posting from ending the
            // room's worker with questions still queued.
            if let Err(panic) = std::panic::AssertUnwindSafe(job).catch_unwind().await {
                error!(room = %room, panic = %crate::errors::panic_message(&panic), "answering a message panicked");
            }
        }
    }

    /// Rooms with a worker right now (for tests).
    #[cfg(test)]
    fn busy_rooms(&self) -> usize {
        self.queues.lock().map(|queues| queues.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use matrix_sdk::ruma::owned_room_id;

    use super::*;

    fn recording(log: &Arc<Mutex<Vec<String>>>, entry: &str, pause: Duration) -> Job {
        let (log, entry) = (Arc::clone(log), entry.to_string());
        Box::pin(async move {
            tokio::time::sleep(pause).await;
            log.lock().unwrap().push(entry);
        })
    }

    #[tokio::test(start_paused = true)]
    async fn answers_in_one_room_keep_their_order_while_other_rooms_go_ahead() {
        let answering = Answering::new(4);
        let log = Arc::new(Mutex::new(Vec::new()));
        let (busy, quiet) = (owned_room_id!("!busy:x"), owned_room_id!("!quiet:x"));
        answering.submit(&busy, recording(&log, "busy 1 (slow)", Duration::from_secs(5)));
        answering.submit(&busy, recording(&log, "busy 2", Duration::from_millis(1)));
        answering.submit(&quiet, recording(&log, "quiet 1", Duration::from_millis(10)));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(*log.lock().unwrap(), vec!["quiet 1"], "the quiet room does not wait for the busy one");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(*log.lock().unwrap(), vec!["quiet 1", "busy 1 (slow)", "busy 2"]);
        assert_eq!(answering.busy_rooms(), 0, "idle rooms keep no worker");
        answering.submit(&quiet, recording(&log, "quiet 2", Duration::ZERO));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(log.lock().unwrap().last().map(String::as_str), Some("quiet 2"), "a new question starts a new worker");
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_limit_run_at_once() {
        let answering = Answering::new(2);
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for n in 0..6 {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            let room = matrix_sdk::ruma::OwnedRoomId::try_from(format!("!r{n}:x")).unwrap();
            answering.submit(
                &room,
                Box::pin(async move {
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }),
            );
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_answer_does_not_stop_the_rooms_next_answer() {
        let answering = Answering::new(2);
        let log = Arc::new(Mutex::new(Vec::new()));
        let room = owned_room_id!("!r:x");
        answering.submit(&room, Box::pin(async { panic!("boom") }));
        answering.submit(&room, recording(&log, "after", Duration::ZERO));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(*log.lock().unwrap(), vec!["after"]);
    }
}
