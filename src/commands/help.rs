//! `!help [COMMAND]`, rendered from `commands/` only.

use super::{Args, Call, CommandError, Outcome, Reply, markdown_table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let wanted = args.optional_word();
    args.finish()?;
    let catalog = call.context.catalog;
    let Some(name) = wanted else {
        let rows: Vec<Vec<String>> = catalog
            .specs()
            .iter()
            .filter(|spec| call.viewer.may(spec.role))
            .map(|spec| vec![format!("`!{}`", spec.name), spec.summary.clone()])
            .collect();
        return Ok(Reply::new(format!(
            "**What I can do for you**\n\n{}\n`!help COMMAND` tells more about one. A registration number in a message gets its card.",
            markdown_table(&["command", "what it does"], &rows)
        )));
    };
    let name = name.trim_start_matches('!').to_lowercase();
    let spec = catalog.find(&name).ok_or_else(|| match catalog.closest(&name) {
        Some(near) => CommandError::NotFound(format!(
            "There is no command {}; did you mean `!{near}`?",
            crate::core::markdown::code(&format!("!{name}"))
        )),
        None => {
            CommandError::NotFound(format!("There is no command {}; `!help` lists them.", crate::core::markdown::code(&format!("!{name}"))))
        }
    })?;
    let mut out = format!("**!{}**: {}\n\n", spec.name, spec.summary);
    for line in spec.usage.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&format!("    {}\n", line.trim()));
    }
    if !spec.arguments.is_empty() {
        out.push('\n');
        for argument in &spec.arguments {
            out.push_str(&format!("- `{}`: {}\n", argument.name, argument.help));
        }
    }
    if !spec.aliases.is_empty() {
        let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("`!{a}`")).collect();
        out.push_str(&format!("\nAlso: {}\n", aliases.join(", ")));
    }
    out.push_str(&format!("\nWho may: {} and above.", spec.role.name()));
    if let Some(example) = spec.examples.first() {
        out.push_str(&format!(" Example: `{}`", example.input));
    }
    Ok(Reply::new(out))
}
