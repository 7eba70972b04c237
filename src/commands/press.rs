//! `!press`: press releases of the International Relations Office, from a draft filled from the
//! template of its language (`mail-rules/templates/press/`) to the mail to the media, which is
//! registered as outgoing correspondence and sent through the outbox.

use crate::core::dates::parse_moment;
use crate::core::outbound::MailKind;
use crate::core::partner::PartnerKind;
use crate::core::press::{self, Field, Masthead, PRESS_UNIT, PressTemplate, Refusal, Release, Status, TemplateError, Version};
use crate::core::reply::Language;

use super::{Args, Call, CommandError, Outcome, Reply, table};

/// How many releases `!press list` shows, newest first.
const LISTED: u32 = 20;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let subcommand = args.optional_word().map(|word| word.to_lowercase());
    let (form, outcome) = match subcommand.as_deref() {
        None | Some("list") => ("!press list", list(call, args).await),
        Some("draft") => ("!press draft TITLE [lang=en|az|ru]", draft(call, args).await),
        Some("show") => ("!press show ID", show(call, args).await),
        Some("edit") => ("!press edit ID FIELD TEXT", edit(call, args).await),
        Some("approve") => ("!press approve ID", approve(call, args).await),
        Some("export") => ("!press export ID", export(call, args).await),
        Some("send") => ("!press send ID [embargo=DATETIME]", send(call, args).await),
        Some(other) => return Err(CommandError::Usage(format!("{} is not a subcommand of !press", crate::core::markdown::code(other)))),
    };
    // The usage line a reply adds is the command's first form; name the one that was meant.
    outcome.map_err(|error| match error {
        CommandError::Usage(problem) => CommandError::Usage(format!("{problem} (`{form}`)")),
        other => other,
    })
}

async fn list(call: &Call<'_, '_>, args: Args) -> Outcome {
    args.finish()?;
    let releases = call.store().press().latest(LISTED).await?;
    if releases.is_empty() {
        return Ok(Reply::new("There are no press releases yet: `!press draft TITLE` starts one."));
    }
    let rows: Vec<Vec<String>> = releases
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.title.clone(),
                r.language.code().to_string(),
                r.status.as_str().to_string(),
                r.version.to_string(),
                r.out_number.clone().unwrap_or_default(),
            ]
        })
        .collect();
    Ok(Reply::new(table(&["id", "title", "lang", "status", "version", "number"], &rows)))
}

async fn draft(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let language = match args.option("lang") {
        None => Language::En,
        Some(code) => Language::parse(&code.to_ascii_lowercase())
            .ok_or_else(|| CommandError::Usage(format!("there is no language '{code}' (lang=en, az or ru)")))?,
    };
    let title = press::title(&args.rest()).map_err(|refusal| match refusal {
        Refusal::EmptyTitle => CommandError::Usage("TITLE is missing".into()),
        other => refused(other),
    })?;
    let template = template(call, language).await?;
    let university = &call.context.settings.university;
    let masthead = Masthead {
        university: &university.name,
        city: &university.city,
        boilerplate: &university.boilerplate,
        media_contact: &university.media_contact,
    };
    let today = call.now().with_timezone(&call.zone()).date_naive();
    let content = template.draft(&title, &masthead, today).map_err(|e| CommandError::Refused(broken(&e)))?;
    let id = call.store().press().create(&title, language, &content, call.actor(), call.now()).await?;
    let release = find(call, id).await?;
    let versions = call.store().press().versions(id).await?;
    Ok(Reply::new(format!(
        "Drafted press release {id} from the {} template; replace the placeholders with `!press edit {id} FIELD TEXT`.\n\n{}",
        language.code(),
        card(call, &release, &versions)
    )))
}

/// The template of a language, read afresh: communications staff may have changed it.
async fn template(call: &Call<'_, '_>, language: Language) -> Result<PressTemplate, CommandError> {
    let path = call.context.settings.press.templates_dir.join(PressTemplate::file_name(language));
    let file = path.display().to_string();
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| CommandError::Refused(format!("I cannot read the press release template {file} ({e}); nothing was drafted.")))?;
    PressTemplate::parse(&file, language, &text).map_err(|e| CommandError::Refused(format!("{}; nothing was drafted.", broken(&e))))
}

/// A broken release template as the person drafting reads it: `file` is its whole path.
fn broken(error: &TemplateError) -> String {
    format!("the press release template {} is broken: {}", error.file, error.message)
}

async fn show(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = release_id(&mut args)?;
    args.finish()?;
    let release = find(call, id).await?;
    let versions = call.store().press().versions(id).await?;
    Ok(Reply::new(card(call, &release, &versions)))
}

async fn edit(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = release_id(&mut args)?;
    let field = Field::parse(&args.word("FIELD")?).map_err(CommandError::usage)?;
    if args.is_empty() {
        return Err(CommandError::Usage("TEXT is missing".into()));
    }
    // `Args` joins words with single spaces; a body has paragraphs, so the text is taken as typed.
    let text = text_after_words(call.request.text, 4);
    let release = find(call, id).await?;
    let edit = press::edit(&release, field, &text).map_err(refused)?;
    let version = call.store().press().add_version(id, release.version, &edit.content, call.actor(), call.now()).await?;
    let approval = match release.approved_version {
        Some(approved) if edit.needs_new_approval => {
            format!(" Version {approved} was approved; this version needs a new approval before it is sent (`!press approve {id}`).")
        }
        _ => String::new(),
    };
    Ok(Reply::new(format!(
        "Press release {id}: the {} is changed; this is version {version}.{approval}\n\n{}",
        field.name(),
        shown_field(field, edit.content.get(field))
    )))
}

async fn approve(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = release_id(&mut args)?;
    args.finish()?;
    let release = find(call, id).await?;
    let version = press::approve(&release, &call.viewer.member).map_err(refused)?;
    call.store().press().approve(id, version, call.actor(), call.now()).await?;
    Ok(Reply::new(format!(
        "Press release {id} is approved at version {version}: `!press send {id}` sends it to the media. \
         An edit from now on needs a new approval."
    )))
}

/// In chat the Markdown comes as the formatted reply (what the release looks like), the HTML
/// after it in a code block, ready to paste into a web page or a newsletter.
async fn export(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = release_id(&mut args)?;
    args.finish()?;
    let release = find(call, id).await?;
    let markdown = press::markdown(&release, call.now(), call.zone());
    let html = press::html(&release, call.now(), call.zone());
    let fence = code_fence(&html);
    Ok(Reply::new(format!(
        "Press release {id}, version {}, as Markdown (shown formatted here) and as HTML (below).\n\n---\n\n{markdown}\n---\n\n\
         {fence}html\n{html}{fence}",
        release.version
    )))
}

async fn send(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = release_id(&mut args)?;
    let embargo =
        args.option("embargo").map(|text| parse_moment(&text, call.now(), call.zone()).map_err(CommandError::usage)).transpose()?;
    args.finish()?;
    let release = find(call, id).await?;
    let people = call.store().partners().people_of_kind(PartnerKind::Media.as_str()).await?;
    let recipients = press::media_recipients(people.iter().map(|(_, _, email)| email.as_str()));
    let settings = call.context.settings;
    press::check_send(&release, &recipients, settings.press.mail_enabled, embargo, call.now()).map_err(refused)?;

    let from = settings.from_address.as_str();
    let number = call
        .store()
        .press()
        .send(id, release.version, call.actor(), PRESS_UNIT, embargo, call.now(), |number| {
            let number = number.to_string();
            let fresh_id = || crate::smtp::fresh_message_id(MailKind::Correspondence, &number, from);
            let (record, copies) = press::media_mails(&release, from, &recipients, &number, fresh_id);
            let raw = crate::smtp::compose(&record, None)?.formatted();
            Ok((raw, copies))
        })
        .await?;

    let mut outlets: Vec<&str> = people
        .iter()
        .filter(|(_, _, email)| recipients.iter().any(|r| r.eq_ignore_ascii_case(email.trim())))
        .map(|(handle, _, _)| handle.as_str())
        .collect();
    outlets.dedup();
    let when = match embargo {
        Some(at) => format!("It is held until the embargo, {}.", press::long_moment(at, call.zone(), Language::En)),
        None => "It goes out now.".to_string(),
    };
    Ok(Reply::new(format!(
        "Press release {id} (version {}) is registered as **{number}** and queued for {} media address{} ({}). {when}",
        release.version,
        recipients.len(),
        if recipients.len() == 1 { "" } else { "es" },
        outlets.join(", ")
    )))
}

async fn find(call: &Call<'_, '_>, id: i64) -> Result<Release, CommandError> {
    call.store()
        .press()
        .find(id)
        .await?
        .ok_or_else(|| CommandError::NotFound(format!("There is no press release {id}; `!press list` shows the latest.")))
}

fn release_id(args: &mut Args) -> Result<i64, CommandError> {
    let word = args.word("ID")?;
    word.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{word}' is not the number of a press release (such as 3)")))
}

fn refused(refusal: Refusal) -> CommandError {
    CommandError::Refused(refusal.to_string())
}

/// A release as chat shows it: where it stands, each field by the name `!press edit` takes,
/// and who made each version.
fn card(call: &Call<'_, '_>, release: &Release, versions: &[Version]) -> String {
    let id = release.id;
    let zone = call.zone();
    let at = |instant: chrono::DateTime<chrono::Utc>| instant.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let standing = match (release.status, release.approved_version) {
        (Status::Sent, _) => {
            let number = release.out_number.as_deref().unwrap_or("?");
            let held = release.embargo.map(|e| format!(", held until the embargo {}", at(e))).unwrap_or_default();
            format!("sent as {number} on {}{held}", release.sent_at.map(at).unwrap_or_default())
        }
        (Status::Approved, _) => {
            format!("approved by {} on {}", release.approved_by.as_deref().unwrap_or("?"), release.approved_at.map(at).unwrap_or_default())
        }
        (Status::Draft, Some(approved)) => format!("draft: version {approved} was approved, this one needs a new approval"),
        (Status::Draft, None) => "draft: not approved".to_string(),
    };
    let mut out = format!(
        "**Press release {id}** · {} · {} · version {} · {standing}\n\n",
        crate::core::markdown::literal(&release.title),
        release.language.code(),
        release.version
    );
    for field in Field::ALL {
        out.push_str(&shown_field(field, release.content.get(field)));
        out.push_str("\n\n");
    }
    let rows: Vec<Vec<String>> = versions.iter().map(|v| vec![v.version.to_string(), v.edited_by.clone(), at(v.edited_at)]).collect();
    out.push_str(&table(&["version", "edited by", "at"], &rows));
    out
}

fn shown_field(field: Field, text: &str) -> String {
    match safe(text).as_str() {
        "" => format!("**{}**: *(empty)*", field.name()),
        one_line if !one_line.contains('\n') => format!("**{}**: {one_line}", field.name()),
        paragraphs => format!("**{}**:\n\n{paragraphs}", field.name()),
    }
}

/// Text for a chat reply: a `<` is escaped, or the client would take what follows for HTML.
fn safe(text: &str) -> String {
    text.replace('<', "\\<")
}

/// A code fence longer than any run of backticks in the text, so that the text cannot close it.
fn code_fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// What follows the first `words` words of a message, its line breaks kept; a text quoted as
/// a whole loses its quotation marks (as `Args` would take them).
fn text_after_words(message: &str, words: usize) -> String {
    let mut rest = message.trim_start();
    for _ in 0..words {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    let rest = rest.trim_end();
    let is_quote = |c: char| matches!(c, '"' | '“' | '”' | '„');
    let quotes = rest.chars().filter(|c| is_quote(*c)).count();
    match (rest.chars().next(), rest.chars().last()) {
        (Some(first), Some(last)) if quotes == 2 && is_quote(first) && is_quote(last) && rest.chars().count() > 1 => {
            rest[first.len_utf8()..rest.len() - last.len_utf8()].to_string()
        }
        _ => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_of_an_edit_keeps_its_paragraphs_and_loses_only_enclosing_quotes() {
        let message = "!press edit 3 body First paragraph.\n\nSecond  paragraph.";
        assert_eq!(text_after_words(message, 4), "First paragraph.\n\nSecond  paragraph.");
        assert_eq!(text_after_words("!press edit 3 headline \"Erasmus+ week\"", 4), "Erasmus+ week");
        let quote = "!press edit 3 quote “Welcome,” said the rector, “to all.”";
        assert_eq!(text_after_words(quote, 4), "“Welcome,” said the rector, “to all.”");
        assert_eq!(text_after_words("!press edit 3 quote", 4), "");
    }

    #[test]
    fn a_code_fence_outruns_the_backticks_inside() {
        assert_eq!(code_fence("<p>plain</p>"), "```");
        assert_eq!(code_fence("<code>````</code>"), "`````");
    }
}
