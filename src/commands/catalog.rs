//! `commands/`: one TOML file per chat command, the single source of its name, aliases,
//! summary, usage, arguments, the role that may run it and its examples.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::core::viewer::Role;

use super::HANDLERS;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub summary: String,
    /// One line per form of the command, as typed (`!doc NUMBER`).
    pub usage: String,
    #[serde(default)]
    pub arguments: Vec<ArgumentSpec>,
    /// The least role that may run it; some subcommands ask for more (said in `arguments`).
    pub role: Role,
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgumentSpec {
    pub name: String,
    pub help: String,
}

/// An input and what its reply must contain; the test suite runs each against a seeded store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub input: String,
    /// The staff member who asks (a Matrix ID of the seeded directory); the registrar when absent.
    #[serde(default, rename = "as")]
    pub asker: Option<String>,
    /// Texts the reply contains, each.
    pub reply_contains: Vec<String>,
    /// Texts the reply must not contain (what the asker may not see).
    #[serde(default)]
    pub reply_lacks: Vec<String>,
}

impl CommandSpec {
    /// The first form of the usage, for a reply to wrong arguments.
    pub fn usage_line(&self) -> &str {
        self.usage.lines().next().unwrap_or_default().trim()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("commands folder {0}: {1}")]
    Folder(PathBuf, std::io::Error),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("commands in {dir}: {mismatches}")]
    Mismatch { dir: PathBuf, mismatches: Mismatches },
}

/// One way the command files and the handlers disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("{0}.toml has no handler")]
    NoHandler(String),
    #[error("the command {0} has no file {0}.toml")]
    NoFile(String),
    #[error("the name {0} is given twice")]
    NamedTwice(String),
}

/// Every disagreement found, told in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct Mismatches(pub Vec<Mismatch>);

/// Every command of `commands/`, checked against the handlers.
#[derive(Debug, Clone)]
pub struct Catalog {
    specs: Vec<CommandSpec>,
}

impl Catalog {
    /// Reads `dir/*.toml`; fails when a file is broken, or when the files and the handlers
    /// name different commands.
    pub fn load(dir: &Path) -> Result<Catalog, CatalogError> {
        let entries = std::fs::read_dir(dir).map_err(|e| CatalogError::Folder(dir.to_path_buf(), e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        let mut specs = Vec::new();
        for path in paths {
            let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| CatalogError::File { file: file.clone(), message: e.to_string() })?;
            specs.push(parse_spec(&file, &text)?);
        }
        let catalog = Catalog { specs };
        catalog.check_against(HANDLERS).map_err(|mismatches| CatalogError::Mismatch { dir: dir.to_path_buf(), mismatches })?;
        Ok(catalog)
    }

    /// Files without a handler, handlers without a file, a name given twice.
    pub fn check_against(&self, handlers: &[&str]) -> Result<(), Mismatches> {
        let mut problems = Vec::new();
        for spec in &self.specs {
            if !handlers.contains(&spec.name.as_str()) {
                problems.push(Mismatch::NoHandler(spec.name.clone()));
            }
        }
        for handler in handlers {
            if !self.specs.iter().any(|spec| spec.name == *handler) {
                problems.push(Mismatch::NoFile(handler.to_string()));
            }
        }
        let mut names: Vec<&str> =
            self.specs.iter().flat_map(|s| std::iter::once(s.name.as_str()).chain(s.aliases.iter().map(String::as_str))).collect();
        names.sort();
        for pair in names.windows(2) {
            if pair[0] == pair[1] {
                problems.push(Mismatch::NamedTwice(pair[0].to_string()));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(Mismatches(problems)) }
    }

    pub fn specs(&self) -> &[CommandSpec] {
        &self.specs
    }

    /// The command called `name` or having it as an alias.
    pub fn find(&self, name: &str) -> Option<&CommandSpec> {
        self.specs.iter().find(|s| s.name == name || s.aliases.iter().any(|a| a == name))
    }

    /// The name nearest a mistyped one, when one is near enough to be meant. Swapped letters
    /// count as one mistake (`dcos` is `docs`).
    pub fn closest(&self, typed: &str) -> Option<&str> {
        self.specs
            .iter()
            .flat_map(|s| std::iter::once(s.name.as_str()).chain(s.aliases.iter().map(String::as_str)))
            .map(|name| (strsim::osa_distance(typed, name), name))
            .filter(|(distance, name)| *distance <= 2.max(name.len() / 3) && *distance < name.len())
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, name)| self.find(name).map(|s| s.name.as_str()).unwrap_or(name))
    }
}

fn parse_spec(file: &str, text: &str) -> Result<CommandSpec, CatalogError> {
    let spec: CommandSpec = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let message = e.message().to_string();
        CatalogError::File { file: line.map(|l| format!("{file}:{l}")).unwrap_or_else(|| file.to_string()), message }
    })?;
    let stem = file.strip_suffix(".toml").unwrap_or(file);
    if spec.name != stem {
        return Err(CatalogError::File {
            file: file.to_string(),
            message: format!("name = \"{}\" differs from the file's name", spec.name),
        });
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(specs: &[(&str, &[&str])]) -> Catalog {
        Catalog {
            specs: specs
                .iter()
                .map(|(name, aliases)| CommandSpec {
                    name: name.to_string(),
                    aliases: aliases.iter().map(|a| a.to_string()).collect(),
                    summary: String::new(),
                    usage: format!("!{name}"),
                    arguments: Vec::new(),
                    role: Role::Staff,
                    examples: Vec::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_shipped_commands_folder_matches_the_handlers() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
        let loaded = Catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.specs().len(), HANDLERS.len());
    }

    #[test]
    fn a_file_without_handler_and_a_handler_without_file_are_both_named() {
        let problem = catalog(&[("ping", &[]), ("frobnicate", &[])]).check_against(&["ping", "help"]).unwrap_err().to_string();
        assert!(problem.contains("frobnicate.toml has no handler"), "{problem}");
        assert!(problem.contains("the command help has no file help.toml"), "{problem}");
    }

    #[test]
    fn a_misspelt_command_finds_its_neighbour() {
        let c = catalog(&[("docs", &[]), ("doc", &[]), ("partner", &["partners-add"]), ("ping", &[])]);
        assert_eq!(c.closest("dcos"), Some("docs"));
        assert_eq!(c.closest("partnr"), Some("partner"));
        assert_eq!(c.closest("weather"), None);
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let error = parse_spec("ping.toml", "name = \"ping\"\nsummary = \"x\"\nusage = \"!ping\"\nrole = \"nobody\"\n").unwrap_err();
        assert!(error.to_string().starts_with("ping.toml:4: "), "{error}");
    }
}
