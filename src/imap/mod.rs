//! The IMAP adapter: connects, catches up, idles, and marks what the store has committed.

mod connect;
mod listener;
mod uid_set;

pub use connect::{ImapContext, LoginRefused, Session, in_words, open_session, tls_client_config};
pub use listener::{Listener, ListenerStats};
pub use uid_set::compress as uid_set;
