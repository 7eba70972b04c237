//! The tag files: `bagit.txt` (the declaration), `bag-info.txt` (what the bag is and whose),
//! and the `LABEL: VALUE` lines both are made of, written and read back (RFC 8493 §2.2).

use std::fs;
use std::path::Path;

use chrono::NaiveDate;

use super::error::{BagError, FieldProblem};

pub const BAGIT_TXT: &str = "bagit.txt";
pub const BAG_INFO_TXT: &str = "bag-info.txt";
/// The declaration this module writes.
pub(crate) const DECLARATION: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
/// The versions whose bags this module reads: 1.0, and 0.97, which differs in nothing it checks.
const READABLE_VERSIONS: [&str; 2] = ["1.0", "0.97"];
/// The fields the writer sets itself; given as extra fields, they are refused.
const WRITER_FIELDS: [&str; 4] = ["Source-Organization", "Bagging-Date", "Payload-Oxum", "External-Identifier"];

/// What `bag-info.txt` says of a bag, besides its size (`Payload-Oxum`, which the writer counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagInfo {
    /// Who made the bag: the university.
    pub source_organization: String,
    /// The day the bag was made; the caller's clock, not one read here.
    pub bagging_date: NaiveDate,
    /// What the bag holds, as its maker names it (`chancery-archive-2026`, a case's number).
    pub external_identifier: String,
    /// Further fields, in this order, after the ones above (`Bag-Group-Identifier`, …).
    pub extra: Vec<(String, String)>,
}

impl BagInfo {
    /// Every field as it will be written, refused if it would not read back as written.
    pub(crate) fn check(&self) -> Result<(), BagError> {
        let own = [("Source-Organization", &self.source_organization), ("External-Identifier", &self.external_identifier)];
        for (label, value) in own {
            check_value(label, value)?;
        }
        for (label, value) in &self.extra {
            check_label(label)?;
            if WRITER_FIELDS.iter().any(|own| own.eq_ignore_ascii_case(label)) {
                return Err(BagError::BadField { label: label.clone(), problem: FieldProblem::Reserved });
            }
            check_value(label, value)?;
        }
        Ok(())
    }

    /// The text of `bag-info.txt` for a payload of `octets` in `files` files.
    pub(crate) fn text(&self, octets: u64, files: u64) -> String {
        let mut text = format!(
            "Source-Organization: {}\nBagging-Date: {}\nPayload-Oxum: {octets}.{files}\nExternal-Identifier: {}\n",
            self.source_organization.trim(),
            self.bagging_date.format("%Y-%m-%d"),
            self.external_identifier.trim(),
        );
        for (label, value) in &self.extra {
            text.push_str(&format!("{label}: {}\n", value.trim()));
        }
        text
    }
}

fn check_label(label: &str) -> Result<(), BagError> {
    let bad = label.is_empty() || label.chars().any(|c| c == ':' || c.is_whitespace() || c.is_control());
    if bad { Err(BagError::BadField { label: label.to_string(), problem: FieldProblem::BadLabel }) } else { Ok(()) }
}

fn check_value(label: &str, value: &str) -> Result<(), BagError> {
    if value.chars().any(char::is_control) {
        return Err(BagError::BadField { label: label.to_string(), problem: FieldProblem::ControlCharacter });
    }
    Ok(())
}

/// The fields of a tag file, in order: `LABEL: VALUE` lines, a line that starts with
/// whitespace continuing the value before it.
pub(crate) fn read_fields(path: &Path, name: &str) -> Result<Vec<(String, String)>, BagError> {
    let bytes = fs::read(path).map_err(BagError::io(path))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| malformed(name, line_of(&bytes, e.valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut fields: Vec<(String, String)> = Vec::new();
    for (number, line) in (1u64..).zip(text.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut().ok_or_else(|| malformed(name, number))?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (label, value) = line.split_once(':').ok_or_else(|| malformed(name, number))?;
        fields.push((label.trim().to_string(), value.trim().to_string()));
    }
    Ok(fields)
}

fn malformed(file: &str, line: u64) -> BagError {
    BagError::Malformed { file: file.to_string(), line }
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let breaks = bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    u64::try_from(breaks).unwrap_or(u64::MAX).saturating_add(1)
}

/// The first value of `label` (labels compare without regard to case).
pub(crate) fn field<'a>(fields: &'a [(String, String)], label: &str) -> Option<&'a str> {
    fields.iter().find(|(l, _)| l.eq_ignore_ascii_case(label)).map(|(_, v)| v.as_str())
}

/// Reads `bagit.txt` and returns the version, refusing what this reader does not know.
pub(crate) fn read_declaration(bag: &Path) -> Result<String, BagError> {
    let path = bag.join(BAGIT_TXT);
    if !path.is_file() {
        return Err(BagError::NotABag { bag: bag.to_path_buf(), file: BAGIT_TXT });
    }
    let fields = read_fields(&path, BAGIT_TXT)?;
    let version = field(&fields, "BagIt-Version").ok_or_else(|| malformed(BAGIT_TXT, 1))?;
    if !READABLE_VERSIONS.contains(&version) {
        return Err(BagError::UnsupportedVersion { version: version.to_string() });
    }
    let encoding = field(&fields, "Tag-File-Character-Encoding").ok_or_else(|| malformed(BAGIT_TXT, 2))?;
    if !encoding.eq_ignore_ascii_case("UTF-8") {
        return Err(BagError::UnsupportedEncoding { encoding: encoding.to_string() });
    }
    Ok(version.to_string())
}

/// `Payload-Oxum`'s octets and files.
pub(crate) fn parse_oxum(value: &str) -> Result<(u64, u64), BagError> {
    let bad = || BagError::BadOxum { value: value.to_string() };
    let (octets, files) = value.split_once('.').ok_or_else(bad)?;
    let number = |text: &str| if text.bytes().all(|b| b.is_ascii_digit()) { text.parse::<u64>().ok() } else { None };
    Ok((number(octets).ok_or_else(bad)?, number(files).ok_or_else(bad)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> BagInfo {
        BagInfo {
            source_organization: "Universität Wien".into(),
            bagging_date: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            external_identifier: "chancery-2026".into(),
            extra: vec![("Bag-Group-Identifier".into(), "case 7".into())],
        }
    }

    #[test]
    fn bag_info_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BAG_INFO_TXT);
        fs::write(&path, info().text(1234, 5)).unwrap();
        let fields = read_fields(&path, BAG_INFO_TXT).unwrap();
        assert_eq!(field(&fields, "source-organization"), Some("Universität Wien"));
        assert_eq!(field(&fields, "Bagging-Date"), Some("2026-12-07"));
        assert_eq!(parse_oxum(field(&fields, "Payload-Oxum").unwrap()).unwrap(), (1234, 5));
        assert_eq!(field(&fields, "Bag-Group-Identifier"), Some("case 7"));
    }

    #[test]
    fn fields_that_would_not_read_back_are_refused() {
        let cases: Vec<(BagInfo, FieldProblem)> = vec![
            (BagInfo { source_organization: "A\nPayload-Oxum: 1.1".into(), ..info() }, FieldProblem::ControlCharacter),
            (BagInfo { extra: vec![("Payload-Oxum".into(), "1.1".into())], ..info() }, FieldProblem::Reserved),
            (BagInfo { extra: vec![("bagging-date".into(), "x".into())], ..info() }, FieldProblem::Reserved),
            (BagInfo { extra: vec![("A: B".into(), "x".into())], ..info() }, FieldProblem::BadLabel),
            (BagInfo { extra: vec![(String::new(), "x".into())], ..info() }, FieldProblem::BadLabel),
            (BagInfo { extra: vec![("Note".into(), "a\rb".into())], ..info() }, FieldProblem::ControlCharacter),
        ];
        for (info, expected) in cases {
            match info.check() {
                Err(BagError::BadField { problem, .. }) => assert_eq!(problem, expected, "{info:?}"),
                other => panic!("{info:?}: {other:?}"),
            }
        }
        assert!(info().check().is_ok());
    }

    #[test]
    fn folded_values_join_and_junk_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(BAG_INFO_TXT);
        fs::write(&path, "External-Description: a long\n  description\n\nContact-Name: X\n").unwrap();
        let fields = read_fields(&path, BAG_INFO_TXT).unwrap();
        assert_eq!(field(&fields, "External-Description"), Some("a long description"));
        fs::write(&path, "Contact-Name: X\nno colon here\n").unwrap();
        assert!(matches!(read_fields(&path, BAG_INFO_TXT), Err(BagError::Malformed { line: 2, .. })));
        fs::write(&path, b"Contact-Name: X\nName: \xff\n").unwrap();
        assert!(matches!(read_fields(&path, BAG_INFO_TXT), Err(BagError::Malformed { line: 2, .. })));
    }

    #[test]
    fn the_declaration_names_what_this_reader_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read_declaration(dir.path()), Err(BagError::NotABag { .. })));
        let path = dir.path().join(BAGIT_TXT);
        fs::write(&path, DECLARATION).unwrap();
        assert_eq!(read_declaration(dir.path()).unwrap(), "1.0");
        fs::write(&path, "BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n").unwrap();
        assert!(matches!(read_declaration(dir.path()), Err(BagError::UnsupportedVersion { .. })));
        fs::write(&path, "BagIt-Version: 0.97\nTag-File-Character-Encoding: ISO-8859-1\n").unwrap();
        assert!(matches!(read_declaration(dir.path()), Err(BagError::UnsupportedEncoding { .. })));
    }

    #[test]
    fn oxum_is_octets_dot_files() {
        assert_eq!(parse_oxum("0.0").unwrap(), (0, 0));
        for bad in ["", "1", "1.", ".1", "-1.2", "1.2.3", "+1.2", "a.b"] {
            assert!(matches!(parse_oxum(bad), Err(BagError::BadOxum { .. })), "{bad:?}");
        }
    }
}
