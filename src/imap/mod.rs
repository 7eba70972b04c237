//! The IMAP adapter: connects, catches up, idles, and marks what the store has committed.

mod batches;
mod connect;
mod listener;
mod registrar;
mod stats;
mod uid_set;

pub use connect::{ImapContext, LoginRefused, Session, in_words, open_session, tls_client_config};
pub use listener::Listener;
pub use stats::ListenerStats;
pub use uid_set::compress as uid_set;
