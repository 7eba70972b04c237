//! A TOML file read into a tree that knows the line of every value, so that every problem in
//! a rule can be reported at its line, and all of them at once.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// A value and the line (from 1) it starts on.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(super) enum Value {
    Text(String),
    Integer(i64),
    Float,
    Bool(bool),
    Datetime,
    List(Vec<Node>),
    Table(Vec<(String, Node)>),
}

impl Value {
    /// What a value is, in the words of the error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Integer(_) => "a number",
            Value::Float => "a decimal number",
            Value::Bool(_) => "true/false",
            Value::Datetime => "a date",
            Value::List(_) => "a list",
            Value::Table(_) => "a table",
        }
    }
}

/// Parses a file; a syntax error comes back as (line, message).
pub(super) fn read(source: &str) -> Result<Node, (usize, String)> {
    let lines = LineIndex::new(source);
    match toml::from_str::<Spanned<Raw>>(source) {
        Ok(root) => Ok(lines.node(root)),
        Err(error) => {
            let line = error.span().map_or(1, |span| lines.line(span.start));
            // The message alone (the error's Display adds a drawing of the line over several
            // lines), and itself sometimes on two lines ("invalid string" / "expected ...").
            let message: Vec<&str> = error.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            Err((line, format!("TOML syntax: {}", message.join("; "))))
        }
    }
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }

    fn node(&self, raw: Spanned<Raw>) -> Node {
        let line = self.line(raw.span().start);
        let value = match raw.into_inner() {
            Raw::Text(text) => Value::Text(text),
            Raw::Integer(n) => Value::Integer(n),
            Raw::Float => Value::Float,
            Raw::Bool(b) => Value::Bool(b),
            Raw::Datetime => Value::Datetime,
            Raw::List(items) => Value::List(items.into_iter().map(|item| self.node(item)).collect()),
            Raw::Table(entries) => Value::Table(entries.into_iter().map(|(key, item)| (key, self.node(item))).collect()),
        };
        Node { line, value }
    }
}

/// The tree as the TOML deserializer hands it over, with byte spans.
enum Raw {
    Text(String),
    Integer(i64),
    Float,
    Bool(bool),
    Datetime,
    List(Vec<Spanned<Raw>>),
    Table(Vec<(String, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

/// The key under which the TOML deserializer passes a date as a one-entry table.
const DATETIME_KEY: &str = "$__toml_private_datetime";

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Text(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Integer(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Raw, E> {
        i64::try_from(v).map(Raw::Integer).map_err(|_| E::custom("number too large"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Float)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == DATETIME_KEY {
                map.next_value::<String>()?;
                return Ok(Raw::Datetime);
            }
            entries.push((key, map.next_value()?));
        }
        Ok(Raw::Table(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_knows_its_line() {
        let source = "# rules\n\n[[rule]]\nname = \"a\"\nsubject = [\n  \"x\",\n  \"y\"]\nwhen = 2026-01-01\n";
        let root = read(source).unwrap();
        let Value::Table(top) = root.value else { panic!() };
        let Value::List(rules) = &top[0].1.value else { panic!() };
        assert_eq!(rules[0].line, 3);
        let Value::Table(rule) = &rules[0].value else { panic!() };
        assert_eq!(rule[0].1.line, 4);
        let Value::List(subjects) = &rule[1].1.value else { panic!() };
        assert_eq!(subjects[1].line, 7);
        assert!(matches!(rule[2].1.value, Value::Datetime));
    }

    #[test]
    fn syntax_errors_have_lines() {
        let (line, message) = read("[[rule]]\nname = \"a\"\nsubject = \"open\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.starts_with("TOML syntax"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }
}
