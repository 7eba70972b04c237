//! Commands that exist only in builds with the `test-hooks` feature (the test suite's): a slow
//! command and a command that panics, so that the tests can show that neither delays nor
//! silences the assistant. They are not in `commands/` and not in `!help`.

use std::time::Duration;

use super::Reply;

/// `!test-slow MILLISECONDS` answers after that pause; `!test-panic` panics.
pub(super) async fn run(name: &str, rest: &str) -> Option<Reply> {
    match name {
        "test-slow" => {
            let millis: u64 = rest.trim().parse().unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Some(Reply::new(format!("slept {millis} ms")))
        }
        "test-panic" => panic!("!test-panic was asked for"),
        _ => None,
    }
}
