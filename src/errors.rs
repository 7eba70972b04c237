//! How errors read for people: one line, each cause once.
//!
//! Many errors quote their cause in their own text (lettre's `Connection error: Broken pipe`,
//! async-imap's `io: Broken pipe`, `database: ...`) and also return it as their `source()`;
//! printing the chain as is says everything twice. `one_line` prints a cause only when what is
//! already printed does not quote it.

use std::error::Error;

/// The error and its causes on one line, joined by `: `, without a cause its parents already
/// quote (also when the quote differs by whitespace or by a short label such as
/// `Connection error: ` in front).
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut line = String::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = crate::core::template::one_line(&current.to_string());
        if !text.is_empty() && !line.contains(without_label(&text)) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}

/// `one_line` for an `anyhow::Error` and its contexts.
pub fn one_line_of(error: &anyhow::Error) -> String {
    one_line(error.as_ref())
}

/// What a caught panic said (`panic!("...")` carries a `&str` or a `String`).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The text without a leading label of a few plain words and a colon (`Connection error: `,
/// `io: `, `network error: `), which says what kind of error it is but nothing new.
fn without_label(text: &str) -> &str {
    match text.split_once(": ") {
        Some((label, rest))
            if !rest.is_empty()
                && label.split(' ').count() <= 3
                && label.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-') =>
        {
            rest
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// An error that quotes its source in its text, as lettre and thiserror's `{0}` do.
    #[derive(Debug)]
    struct Quoting {
        text: String,
        source: Box<dyn Error + Send + Sync + 'static>,
    }

    impl fmt::Display for Quoting {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.text)
        }
    }

    impl Error for Quoting {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&*self.source)
        }
    }

    fn broken_pipe() -> std::io::Error {
        std::io::Error::from_raw_os_error(32)
    }

    #[test]
    fn a_cause_its_parent_quotes_is_not_repeated() {
        // async-imap's `Error::Io` is `io: {0}` with the io::Error as its source.
        let io = Quoting { text: format!("io: {}", broken_pipe()), source: Box::new(broken_pipe()) };
        let error = anyhow::Error::new(io).context("IDLE");
        assert_eq!(one_line_of(&error), "IDLE: io: Broken pipe (os error 32)");
        // The naive rendering says it twice.
        assert_eq!(format!("{error:#}"), "IDLE: io: Broken pipe (os error 32): Broken pipe (os error 32)");
    }

    #[test]
    fn an_error_whose_text_is_its_source_is_said_once() {
        let same = Quoting { text: broken_pipe().to_string(), source: Box::new(broken_pipe()) };
        let error = anyhow::Error::new(same).context("sending the mail");
        assert_eq!(one_line_of(&error), "sending the mail: Broken pipe (os error 32)");
    }

    #[test]
    fn a_cause_that_differs_by_a_label_or_whitespace_is_said_once() {
        // The source carries a label its parent left out.
        let labelled = Quoting {
            text: "Broken pipe (os error 32)".into(),
            source: Box::new(Quoting { text: "Connection error: Broken pipe (os error 32)".into(), source: Box::new(broken_pipe()) }),
        };
        assert_eq!(one_line(&labelled), "Broken pipe (os error 32)");
        // A server's reply quoted with other line breaks and spaces.
        let reply = Quoting {
            text: "permanent error (535): 5.7.8 Error:\n   authentication failed".into(),
            source: Box::new(std::io::Error::other("5.7.8 Error: authentication  failed\r\n")),
        };
        assert_eq!(one_line(&reply), "permanent error (535): 5.7.8 Error: authentication failed");
    }

    #[test]
    fn causes_that_add_something_are_kept() {
        let error = anyhow::Error::new(broken_pipe()).context("cannot connect to IMAP 127.0.0.1:10143");
        assert_eq!(one_line_of(&error), "cannot connect to IMAP 127.0.0.1:10143: Broken pipe (os error 32)");
        let nested =
            anyhow::anyhow!("database: error returned from database: relation \"x\" does not exist").context("cannot open the store");
        assert_eq!(one_line_of(&nested), "cannot open the store: database: error returned from database: relation \"x\" does not exist");
    }
}
