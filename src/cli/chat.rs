//! `chancery chat`: the assistant's commands in the terminal, answered as in a direct message.

use std::io::BufRead;

use anyhow::{Result, bail};
use chrono::Utc;

use super::Invocation;
use crate::commands::{Context, Request, answer};
use crate::core::viewer::Audience;
use crate::service::load_rules;

const NO_ANSWER: &str = "(no answer: commands start with !, as in `!help`)";

/// Answers `line`, or, when it is empty, each line of standard input.
pub(super) async fn run(at: &Invocation<'_>, person: &str, line: &str) -> Result<i32> {
    let (config, store) = (at.config, at.store);
    if store.staff().find(person).await?.is_none() {
        bail!(
            "{person} is not in the staff directory; add them with `chancery staff add {person} --name … --unit … --role … --clearance …`"
        );
    }
    let rules = load_rules(config)?;
    // The rules loaded, so `at.reminders` was built from these very rules.
    let parts = crate::service::assistant_parts(config, rules.as_ref(), at.reminders.clone())?;
    let context = Context { store, catalog: &parts.catalog, settings: &parts.settings };
    let ask = |text: String| {
        let context = &context;
        async move {
            let request = Request { sender: person, text: &text, audience: Audience::Private, room: None, now: Utc::now() };
            answer(context, &request).await
        }
    };
    if !line.trim().is_empty() {
        match ask(line.to_string()).await {
            Some(reply) => println!("{}", reply.plain_text()),
            None => println!("{NO_ANSWER}"),
        }
        return Ok(0);
    }
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdin());
    if interactive {
        eprintln!("Chancery as {person}. Type !help; an empty line or Ctrl-D ends.");
    }
    for text in std::io::stdin().lock().lines() {
        let text = text?;
        if text.trim().is_empty() {
            if interactive {
                break;
            }
            continue;
        }
        match ask(text).await {
            Some(reply) => println!("{}\n", reply.plain_text()),
            None => println!("{NO_ANSWER}\n"),
        }
    }
    Ok(0)
}
