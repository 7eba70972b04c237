//! Reading `mail-rules/templates/` from disk; the core checks what it reads.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::SmtpConfig;
use crate::core::outbound::domain_of;
use crate::core::reply::{ReplyPolicy, Templates};

/// Reads every `*.txt` file of the folder and checks them all; every problem is reported.
pub fn load_templates(dir: &Path) -> Result<Templates> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read the mail templates folder {}", dir.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("cannot read the mail templates folder {}", dir.display()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).map(str::to_string);
        let Some(name) = name else { bail!("template file name {} is not UTF-8", path.display()) };
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read template {}", path.display()))?;
        files.push((name, text));
    }
    Templates::parse(files).map_err(|errors| anyhow::anyhow!("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")))
}

/// The reply policy the configuration describes, templates read and checked. The domain of
/// `smtp.from` counts as the university's own even when `own_domains` leaves it out.
pub fn reply_policy(config: &SmtpConfig) -> Result<ReplyPolicy> {
    let mut own_domains: Vec<String> = config.own_domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
    if let Some(domain) = domain_of(&config.from)
        && !own_domains.contains(&domain)
    {
        own_domains.push(domain);
    }
    Ok(ReplyPolicy {
        from: config.from.clone(),
        own_domains,
        max_acks_per_sender_per_day: config.max_acks_per_sender_per_day,
        templates: load_templates(&config.templates_dir)?,
    })
}
