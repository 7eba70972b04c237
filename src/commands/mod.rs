//! The assistant's commands: one file per command (parse and run), reached through one
//! dispatch from Matrix, from `chancery chat` and from the command line.
//!
//! What each command is called, who may run it, its usage and its examples live in
//! `commands/NAME.toml` (the `Catalog`); `!help` is rendered from there. The handlers here
//! and those files must name the same commands, or loading fails.

pub mod args;
pub mod catalog;

#[cfg(feature = "test-hooks")]
mod test_hooks;

use chrono::{DateTime, Utc};

use crate::core::markdown;
use crate::core::number::numbers_in;
use crate::core::reference::Reference;
use crate::core::template::Sentence;
use crate::core::viewer::{Audience, Role, Viewer};
use crate::store::{Refusal, Store, StoreError};

pub use args::Args;
pub use catalog::{Catalog, CatalogError, CommandSpec, Example};

/// Every command that has a handler, by its name in `commands/` (the file `NAME.toml`), each
/// the module `NAME` with `async fn run(&Call, Args) -> Outcome`. The one list: it declares the
/// modules, gives `HANDLERS` (checked against `commands/` when the catalog loads) and the
/// dispatch in `handle`.
macro_rules! commands {
    ($($visibility:vis $name:ident),* $(,)?) => {
        $($visibility mod $name;)*

        /// The commands that have a handler, by their name in `commands/`.
        pub const HANDLERS: &[&str] = &[$(stringify!($name)),*];

        /// Runs the handler of the command `name`.
        async fn handle(name: &str, call: &Call<'_, '_>, args: Args) -> Outcome {
            match name {
                $(stringify!($name) => $name::run(call, args).await,)*
                other => Err(CommandError::Internal(anyhow::anyhow!("command file {other}.toml has no handler"))),
            }
        }
    };
}

commands! {
    abroad,
    agenda,
    agreement,
    agreements,
    calendar,
    case,
    cases,
    contact,
    contacts,
    disposal,
    doc,
    docs,
    help,
    holds,
    meeting,
    meetings,
    partner,
    partners,
    ping,
    press,
    remind,
    reminders,
    room,
    pub staff,
    visa,
}

/// The most registration numbers one message answers by itself (a pasted list is not a question).
const MENTIONED_NUMBERS_ANSWERED: usize = 3;

/// What the adapters need to answer: the store and the settings commands read.
pub struct Context<'a> {
    pub store: &'a Store,
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
}

/// The settings commands read, taken from the configuration once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The office's time zone: dates people type and dates shown are in it.
    pub zone: chrono_tz::Tz,
    /// The units of `mail-rules/units.toml`, for checking names people type.
    pub units: Vec<String>,
    /// The university's name, its boilerplate and its media contact, for press releases.
    pub university: crate::config::UniversityConfig,
    /// The address outgoing correspondence is sent from (press releases).
    pub from_address: String,
    /// Where the press release templates are, and whether mail can go out at all.
    pub press: crate::core::press::PressSettings,
    /// The visa kinds `!visa add` accepts (`reminders.visa_kinds`).
    pub visa_kinds: crate::core::visa::VisaKinds,
    /// Whether `serve` publishes calendar feeds, and their public address (`[http]`).
    pub http: crate::config::HttpConfig,
    /// The rules reminders are scheduled by (`[reminders]` with the office's calendar and the
    /// units' heads).
    pub reminders: crate::core::remind::Policy,
    /// The file plan cases are opened in (`mail-rules/file-plan.toml`), when there is one.
    pub file_plan: Option<crate::core::archive::FilePlan>,
    /// When the yearly cases close (`[archive] cutoff`).
    pub cutoff: crate::core::archive::Cutoff,
}

/// A message that may be a command.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The Matrix ID of the person who wrote it.
    pub sender: &'a str,
    pub text: &'a str,
    /// Who else reads the answer.
    pub audience: Audience,
    /// The room it was written in (a Matrix room ID), when there is one.
    pub room: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// An answer, in Markdown (clients show it formatted; `plain_text` is its plain-text body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub markdown: String,
}

impl Reply {
    pub fn new(markdown: impl Into<String>) -> Reply {
        Reply { markdown: markdown.into() }
    }

    /// What a person reads where the Markdown is not rendered (`chancery chat`, a message's
    /// plain body): the escapes that keep outside text from becoming markup taken out again.
    pub fn plain_text(&self) -> String {
        markdown::plain_text(&self.markdown)
    }
}

/// Why a command did not do what was asked, in words a reply can use.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The arguments do not fit: the reply adds the command's usage.
    #[error("{0}")]
    Usage(String),
    /// The person's role does not reach the command's (or this subcommand's).
    #[error("this needs the role {}", .0.name())]
    NotAllowed(Role),
    #[error("{0}")]
    NotFound(String),
    /// A well-formed request that cannot be carried out (an unknown unit, an approval missing).
    #[error("{0}")]
    Refused(String),
    /// Anything else: logged with an id; the person is told only the id.
    #[error("{0}")]
    Internal(#[from] anyhow::Error),
}

impl CommandError {
    /// Arguments the core refused (`core::dates::DateError`, …), in the core's words.
    pub fn usage(problem: impl std::fmt::Display) -> CommandError {
        CommandError::Usage(problem.to_string())
    }

    /// A request the core refused, its words made a sentence of the reply ("The end date … .").
    pub fn refusal(problem: impl std::fmt::Display) -> CommandError {
        CommandError::Refused(Sentence(problem).to_string())
    }

    /// That the register holds no such thing, as the assistant says it: what was typed is shown
    /// as text, never as markup.
    pub fn not_held(reference: &Reference) -> CommandError {
        CommandError::NotFound(match reference {
            Reference::Document(number) => format!("There is no document {} in the register.", markdown::literal(number)),
            Reference::Partner(handle) => format!("There is no partner {}; `!partners` lists them.", markdown::literal(handle)),
            Reference::Meeting(id) => format!("There is no meeting {id}; `!meetings` lists the coming ones."),
            Reference::Contact(id) => format!("There is no contact #{id} in the log."),
            Reference::StaffMember(mxid) => format!("{} is not in the staff directory (`!staff` lists who is).", markdown::literal(mxid)),
            other => format!("There is no {}.", markdown::literal(&other.to_string())),
        })
    }
}

/// A refusal whose names, handles and addresses (what people wrote, kept in the register) show
/// as text in chat, never as markup; the rest of its words are the store's.
fn names_as_text(refusal: Refusal) -> Refusal {
    use markdown::literal;
    match refusal {
        Refusal::PartnerExists { handle, name } => Refusal::PartnerExists { handle: literal(&handle), name: literal(&name) },
        Refusal::DomainTaken { domain, handle } => Refusal::DomainTaken { domain: literal(&domain), handle: literal(&handle) },
        Refusal::PersonListed { email, handle, name } => {
            Refusal::PersonListed { email: literal(&email), handle: literal(&handle), name: literal(&name) }
        }
        Refusal::ParticipantNotStaff(mxid) => Refusal::ParticipantNotStaff(literal(&mxid)),
        Refusal::ReminderEnded { id, status, closed_by } => {
            Refusal::ReminderEnded { id, status, closed_by: closed_by.as_deref().map(literal) }
        }
        other => other,
    }
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> CommandError {
        match error {
            StoreError::NotFound(reference) => CommandError::not_held(&reference),
            StoreError::Refused(refusal) => CommandError::Refused(names_as_text(refusal).to_string()),
            other => CommandError::Internal(other.into()),
        }
    }
}

pub type Outcome = Result<Reply, CommandError>;

/// What a handler is given besides its arguments.
pub struct Call<'a, 'c> {
    pub context: &'a Context<'c>,
    pub viewer: &'a Viewer,
    pub request: &'a Request<'a>,
}

impl Call<'_, '_> {
    pub fn store(&self) -> &Store {
        self.context.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.request.now
    }

    pub fn zone(&self) -> chrono_tz::Tz {
        self.context.settings.zone
    }

    pub fn reminder_policy(&self) -> &crate::core::remind::Policy {
        &self.context.settings.reminders
    }

    /// Who did it, as the history writes it: the Matrix ID.
    pub fn actor(&self) -> &str {
        &self.viewer.member.id
    }

    /// Refuses unless the person's role reaches `needed` (for subcommands stricter than
    /// their command).
    pub fn require(&self, needed: Role) -> Result<(), CommandError> {
        if self.viewer.may(needed) { Ok(()) } else { Err(CommandError::NotAllowed(needed)) }
    }
}

/// Whether `answer` may say something to this text: a command, or a registration number
/// mentioned. Everything else is people talking to each other.
pub fn may_answer(text: &str) -> bool {
    command_of(text.trim()).is_some() || !numbers_in(text).is_empty()
}

fn command_of(text: &str) -> Option<&str> {
    text.strip_prefix('!').filter(|rest| rest.starts_with(|c: char| c.is_alphabetic()))
}

/// Answers one message, or says nothing (`None`) when it is not for the assistant.
pub async fn answer(context: &Context<'_>, request: &Request<'_>) -> Option<Reply> {
    // Nobody means a NUL, and PostgreSQL refuses one in text: a message is read without them,
    // as mail is (`letter::read_letter`).
    let (cleaned_text, cleaned_request);
    let request = if request.text.contains('\0') {
        cleaned_text = request.text.replace('\0', "");
        cleaned_request = Request { text: &cleaned_text, ..request.clone() };
        &cleaned_request
    } else {
        request
    };
    let text = request.text.trim();
    let command = command_of(text);
    let mentioned = if command.is_none() { numbers_in(text) } else { Vec::new() };
    if command.is_none() && mentioned.is_empty() {
        return None;
    }
    let member = match context.store.staff().find(request.sender).await {
        Ok(Some(member)) => member,
        Ok(None) => {
            // Mentioning a number in passing is not a question; a command gets one refusal.
            return command.map(|_| {
                Reply::new(
                    "Sorry, I answer only the staff of the university's registry and international office. \
                     Ask your unit's administrator to add you to Chancery's staff directory.",
                )
            });
        }
        Err(error) => return Some(internal_error(&error.into())),
    };
    let viewer = Viewer::new(member, request.audience);
    let call = Call { context, viewer: &viewer, request };
    match command {
        Some(command) => Some(run_catching_panics(&call, command).await),
        None => {
            let mut cards = Vec::new();
            for number in mentioned.iter().take(MENTIONED_NUMBERS_ANSWERED) {
                match doc::card(&call, &number.to_string()).await {
                    Ok(card) => cards.push(card.markdown),
                    Err(CommandError::NotFound(_)) => {}
                    Err(error) => cards.push(word_error(&call, None, error).markdown),
                }
            }
            (!cards.is_empty()).then(|| Reply::new(cards.join("\n\n")))
        }
    }
}

/// `run`, with a panic turned into the internal-error reply: a bug in one command must not
/// leave the person without an answer or take the assistant down.
async fn run_catching_panics(call: &Call<'_, '_>, line: &str) -> Reply {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(run(call, line)).catch_unwind().await {
        Ok(reply) => reply,
        Err(panic) => {
            let command = line.split_whitespace().next().unwrap_or_default();
            internal_error(&anyhow::anyhow!("the command !{command} panicked: {}", crate::errors::panic_message(&*panic)))
        }
    }
}

/// Runs one command line (without its `!`) as the caller.
async fn run(call: &Call<'_, '_>, line: &str) -> Reply {
    let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let name = name.to_lowercase();
    #[cfg(feature = "test-hooks")]
    if let Some(reply) = test_hooks::run(&name, rest).await {
        return reply;
    }
    let Some(spec) = call.context.catalog.find(&name) else {
        let hint = match call.context.catalog.closest(&name) {
            Some(near) => format!("did you mean `!{near}`? "),
            None => String::new(),
        };
        return Reply::new(format!("I do not know {}: {hint}`!help` lists what I can do.", markdown::code(&format!("!{name}"))));
    };
    if !call.viewer.may(spec.role) {
        return word_error(call, Some(spec), CommandError::NotAllowed(spec.role));
    }
    let args = match Args::parse(rest) {
        Ok(args) => args,
        Err(error) => return word_error(call, Some(spec), error),
    };
    let outcome = handle(&spec.name, call, args).await;
    outcome.unwrap_or_else(|error| word_error(call, Some(spec), error))
}

/// The reply for a command that did not succeed.
fn word_error(call: &Call<'_, '_>, spec: Option<&CommandSpec>, error: CommandError) -> Reply {
    match error {
        CommandError::Usage(problem) => {
            let usage = spec.map(|spec| format!("\n\nUsage: `{}`", spec.usage_line())).unwrap_or_default();
            Reply::new(format!("{problem}{usage}"))
        }
        CommandError::NotAllowed(role) => Reply::new(format!(
            "Sorry, {} may not do that: it needs the role {} (you are {}).",
            call.viewer.member.name,
            role.name(),
            call.viewer.member.role.name()
        )),
        CommandError::NotFound(text) | CommandError::Refused(text) => Reply::new(text),
        CommandError::Internal(error) => internal_error(&error),
    }
}

/// Logs an unexpected failure under a short id and tells the person only the id.
fn internal_error(error: &anyhow::Error) -> Reply {
    let id = error_id();
    tracing::error!(error_id = %id, error = %crate::errors::one_line_of(error), "a command failed");
    Reply::new(format!("Something went wrong on my side; nothing was changed. The log has the details under error id `{id}`."))
}

/// A short id, unique enough to find one line in a log.
fn error_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("E{:05x}{:03}", nanos >> 12, COUNTER.fetch_add(1, Ordering::Relaxed) % 1000)
}

/// Markdown table of rows (the first is the header). Cells are text, shown as they are
/// (`markdown::literal`): a subject or a name in a cell never becomes a link, bold or a new cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    table_of(header, rows, markdown::literal)
}

/// Markdown table of cells that are Markdown already (our own, from `commands/`): only line
/// breaks and a `|` not escaped yet, which would end the cell, are taken care of.
pub fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    table_of(header, rows, |cell| {
        let mut out = String::with_capacity(cell.len());
        let mut escaped = false;
        for c in cell.chars() {
            match c {
                '\n' => out.push(' '),
                '|' if !escaped => out.push_str("\\|"),
                c => out.push(c),
            }
            escaped = c == '\\' && !escaped;
        }
        out
    })
}

fn table_of(header: &[&str], rows: &[Vec<String>], cell: impl Fn(&str) -> String) -> String {
    let mut out = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for row in rows {
        out.push_str("| ");
        out.push_str(&row.iter().map(|text| cell(text)).collect::<Vec<_>>().join(" | "));
        out.push_str(" |\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(error: StoreError) -> String {
        match CommandError::from(error) {
            CommandError::NotFound(text) | CommandError::Refused(text) => text,
            other => panic!("not words for people: {other:?}"),
        }
    }

    #[test]
    fn what_the_register_does_not_hold_is_said_in_a_sentence_with_typed_text_as_text() {
        let cases = [
            (Reference::Document("IN-2026-000009".into()), "There is no document IN-2026-000009 in the register."),
            (Reference::Partner("*evil*".into()), "There is no partner \\*evil\\*; `!partners` lists them."),
            (Reference::Meeting(4), "There is no meeting 4; `!meetings` lists the coming ones."),
            (Reference::Contact(7), "There is no contact #7 in the log."),
            (
                Reference::StaffMember("@x_y:uni.example".into()),
                "@x\\_y:uni.example is not in the staff directory (`!staff` lists who is).",
            ),
            (Reference::Agreement(3), "There is no agreement 3."),
            (Reference::VisaCase(5), "There is no visa case 5."),
            (Reference::Reminder(8), "There is no reminder 8."),
            (Reference::StoredMessage("IN-2026-000009".into()), "There is no stored message for IN-2026-000009."),
            (Reference::AgendaItem { meeting: 4, position: 2 }, "There is no item 2 of meeting 4."),
        ];
        for (reference, sentence) in cases {
            assert_eq!(words(StoreError::NotFound(reference)), sentence);
        }
    }

    #[test]
    fn a_refusal_reads_as_the_store_words_it_with_names_as_text() {
        let cases = [
            (
                Refusal::ChangedMeanwhile(Reference::VisaCase(2)),
                "Visa case 2 was changed by someone else just now; look at it again and retry.",
            ),
            (Refusal::AgreementEnded(4), "Agreement 4 has ended; it cannot be renewed."),
            (
                Refusal::ReminderEnded { id: 3, status: "done".into(), closed_by: Some("@a:uni.example".into()) },
                "Reminder 3 has ended already (done by @a:uni.example).",
            ),
            (Refusal::ReminderEnded { id: 3, status: "done".into(), closed_by: None }, "Reminder 3 has ended already (done)."),
            (
                Refusal::PartnerExists { handle: "tu_wien".into(), name: "**TU** [Wien](https://evil.example)".into() },
                "There is a partner tu\\_wien already: \\*\\*TU\\*\\* \\[Wien\\](https://evil.example).",
            ),
        ];
        for (refusal, sentence) in cases {
            assert_eq!(words(StoreError::Refused(refusal)), sentence);
        }
    }
}
