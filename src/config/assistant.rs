//! `[assistant]` and `[university]`: what the chat commands read.

use std::path::PathBuf;

use serde::Deserialize;

/// The chat commands, for Matrix and `chancery chat` alike.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssistantConfig {
    /// The folder of command files (`commands/NAME.toml`).
    pub commands_dir: PathBuf,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        AssistantConfig { commands_dir: PathBuf::from("commands") }
    }
}

/// What press releases say about the university.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UniversityConfig {
    pub name: String,
    /// The city of press releases' dateline.
    pub city: String,
    /// The paragraph "About the university" at the end of a press release.
    pub boilerplate: String,
    /// Who journalists write to: name, address, telephone.
    pub media_contact: String,
}

impl Default for UniversityConfig {
    fn default() -> Self {
        UniversityConfig {
            name: "The University".into(),
            city: "Baku".into(),
            boilerplate: "The University is a public research university.".into(),
            media_contact: "International Relations Office".into(),
        }
    }
}
