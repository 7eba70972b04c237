//! A registry for end-to-end tests of the `chancery` binary: a temporary directory (the binary's
//! working directory, so no stray `chancery.toml` is read), a fresh database on the backend under
//! test (`CHANCERY_TEST_BACKEND`: `sqlite`, a file per registry, or `postgres`, a database per
//! registry on `CHANCERY_TEST_POSTGRES_URL`), and the binary pointed at both.

use std::process::{Command, Output};

use serde_json::Value;

use super::postgres::PostgresDatabase;
use super::{chancery_command, describe, sql};

// ---------------------------------------------------------------------------------------------
// A registry: a temporary directory, a fresh database, and the binary pointed at both.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("CHANCERY_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("CHANCERY_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

pub struct Registry {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub backend: Backend,
    /// PostgreSQL only: the database this test created, dropped with the registry.
    _postgres: Option<PostgresDatabase>,
}

impl Registry {
    /// A registry with an empty register, created as `chancery db migrate` creates one.
    pub fn new() -> Registry {
        let reg = Registry::without_register();
        reg.ok(&["db", "migrate"]);
        reg
    }

    pub fn without_register() -> Registry {
        let dir = tempfile::TempDir::new().expect("temporary directory");
        match backend() {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("t.db").display());
                Registry { dir, url, backend: Backend::Sqlite, _postgres: None }
            }
            Backend::Postgres => {
                let database = PostgresDatabase::fresh("cli");
                Registry { dir, url: database.url.clone(), backend: Backend::Postgres, _postgres: Some(database) }
            }
        }
    }

    /// Writes a file under the temporary directory (creating folders); returns its relative path.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, bytes).expect("write file");
        relative.to_string()
    }

    /// The binary, in the temporary directory, with no CHANCERY_* settings but the database URL
    /// and the rules this repository ships.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = chancery_command(self.dir.path(), &self.url);
        command.args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run chancery")
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "chancery {args:?} failed: {}", describe(&output));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Runs a command that must fail with one clear line; returns that line.
    pub fn fails(&self, args: &[&str]) -> String {
        one_line_error(&self.run(args), &format!("{args:?}"))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("chancery {args:?} printed no JSON ({e}): {out}"))
    }

    pub fn list(&self, args: &[&str]) -> Vec<Value> {
        let mut full = vec!["docs", "list", "--json"];
        full.extend_from_slice(args);
        self.json(&full).as_array().expect("a JSON array").clone()
    }

    pub fn search(&self, words: &str) -> Vec<String> {
        numbers(self.json(&["docs", "search", words, "--json"]).as_array().expect("a JSON array"))
    }

    pub fn sql(&self, statements: &[&str]) -> Vec<Result<u64, String>> {
        sql(&self.url, statements)
    }
}

/// A failure as the CLI must report it: non-zero exit, exactly one non-empty line, no panic.
pub fn one_line_error(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{what} should fail: {}", describe(output));
    assert!(!stderr.contains("panicked"), "{what} panicked: {}", describe(output));
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{what} should print one error line: {}", describe(output));
    lines[0].to_string()
}

/// The numbers of documents as `docs list --json` gives them.
pub fn numbers(documents: &[Value]) -> Vec<String> {
    documents.iter().map(|d| d["number"].as_str().expect("number").to_string()).collect()
}
