//! File names inside a bag. Attachment names come from strangers: `safe_component` makes any
//! of them one plain file name that cannot climb out of its folder, hide its real extension, or
//! fail to copy to Windows or macOS; `UniqueNames` keeps two of them in one folder apart; a
//! `PayloadPath` is built only of such names. A manifest writes a path with `/` and
//! percent-encodes CR, LF and `%` (RFC 8493 §2.1.3).

use std::collections::HashSet;
use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::error::BagError;

/// The longest name in bytes: far below the 255 of common file systems, so that a `2-` prefix
/// and a long folder still fit, and long enough for any real attachment name.
pub const MAX_NAME_BYTES: usize = 150;
/// The name of a file whose own name leaves nothing usable.
pub const FALLBACK_NAME: &str = "attachment";
/// An extension longer than this is not kept apart when a name is shortened.
const MAX_EXTENSION_BYTES: usize = 16;
/// Device names that Windows will not open as files, whatever their extension.
const WINDOWS_DEVICES: [&str; 4] = ["con", "prn", "aux", "nul"];

/// `name` as one safe file name: never empty, never `.` or `..`, no separators, no control or
/// invisible characters (a right-to-left override turns `fdp.exe` into what looks like
/// `exe.pdf`), none of Windows' reserved characters, no leading dot (hidden), no trailing dot or
/// space (Windows drops them), no Windows device name, in NFC (macOS would normalize it and
/// bagit.py compares names in NFC), at most `MAX_NAME_BYTES` with its extension kept.
pub fn safe_component(name: &str) -> String {
    let mut safe = String::with_capacity(name.len().min(MAX_NAME_BYTES * 2));
    for c in name.nfc() {
        match c {
            // `%` is safe on every file system, but bagit.py 1.9 does not decode the `%25` that
            // RFC 8493 requires in a manifest, so a bag with `%` in a name would fail its check.
            '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*' | '%' => safe.push('_'),
            c if c.is_control() && c.is_whitespace() => safe.push(' '),
            c if c.is_control() || is_invisible(c) => {}
            c => safe.push(c),
        }
    }
    let mut safe = trimmed(&safe).to_string();
    if safe.is_empty() {
        safe = FALLBACK_NAME.to_string();
    }
    if is_windows_device(&safe) {
        safe.insert(0, '_');
    }
    shortened(&safe)
}

/// Format characters that show nothing but change how a name reads: bidirectional overrides
/// and isolates, zero-width characters, the byte order mark, the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn trimmed(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '.')
}

/// At most `MAX_NAME_BYTES`, cut on a character boundary, the extension kept when it is short.
fn shortened(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let extension = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_EXTENSION_BYTES => &name[dot..],
        _ => "",
    };
    let stem = trimmed(prefix(name, MAX_NAME_BYTES - extension.len()));
    format!("{stem}{extension}")
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn is_windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end().to_ascii_lowercase();
    let numbered = |base: &str| stem.strip_prefix(base).is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit());
    WINDOWS_DEVICES.contains(&stem.as_str()) || numbered("com") || numbered("lpt")
}

/// The names already given in one folder. Two attachments may share a name, or differ only in
/// case, which a Windows or macOS copy of the bag could not hold apart: the later one becomes
/// `2-name.pdf`, `3-name.pdf`, ….
#[derive(Debug, Default)]
pub struct UniqueNames {
    taken: HashSet<String>,
}

impl UniqueNames {
    pub fn new() -> UniqueNames {
        UniqueNames::default()
    }

    /// A safe name for `name` that no earlier call for this folder returned.
    pub fn claim(&mut self, name: &str) -> String {
        let safe = safe_component(name);
        let mut candidate = safe.clone();
        let mut n: u64 = 1;
        while !self.taken.insert(candidate.to_lowercase()) {
            n += 1;
            candidate = safe_component(&format!("{n}-{safe}"));
        }
        candidate
    }
}

/// A file's path below the bag's `data/` folder, made only of safe components.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PayloadPath {
    /// The components joined with `/`, without `data/`.
    relative: String,
}

impl PayloadPath {
    /// A path of one component: a file directly in `data/` (`register.csv`), or a folder.
    pub fn new(component: &str) -> Result<PayloadPath, BagError> {
        Ok(PayloadPath { relative: checked(component)?.to_string() })
    }

    /// `relative` split at `/`, every component checked: `IN-2026-000001/message.eml`.
    pub fn parse(relative: &str) -> Result<PayloadPath, BagError> {
        let mut components = relative.split('/');
        let first = PayloadPath::new(components.next().unwrap_or_default())?;
        components.try_fold(first, |path, component| path.join(component))
    }

    /// This path with `component` below it.
    pub fn join(&self, component: &str) -> Result<PayloadPath, BagError> {
        Ok(PayloadPath { relative: format!("{}/{}", self.relative, checked(component)?) })
    }

    /// The path below `data/`, with `/`: `IN-2026-000001/message.eml`.
    pub fn as_str(&self) -> &str {
        &self.relative
    }

    /// The path as the bag names it: `data/IN-2026-000001/message.eml`.
    pub fn in_bag(&self) -> String {
        format!("data/{}", self.relative)
    }

    pub(crate) fn components(&self) -> impl Iterator<Item = &str> {
        self.relative.split('/')
    }
}

impl fmt::Display for PayloadPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "data/{}", self.relative)
    }
}

fn checked(component: &str) -> Result<&str, BagError> {
    if safe_component(component) == component { Ok(component) } else { Err(BagError::UnsafeComponent { component: component.to_string() }) }
}

/// A path as a manifest line writes it: `%`, CR and LF percent-encoded (RFC 8493 §2.1.3).
pub fn encode_manifest_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '\r' => encoded.push_str("%0D"),
            '\n' => encoded.push_str("%0A"),
            c => encoded.push(c),
        }
    }
    encoded
}

/// A manifest line's path as the file is named: `%25`, `%0D` and `%0A` decoded (in either
/// case), any other `%` left as it stands.
pub fn decode_manifest_path(encoded: &str) -> String {
    let mut decoded = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest.get(at + 1..at + 3).map(str::to_ascii_uppercase);
        let (text, used) = match escape.as_deref() {
            Some("25") => ("%", 3),
            Some("0D") => ("\r", 3),
            Some("0A") => ("\n", 3),
            _ => ("%", 1),
        };
        decoded.push_str(text);
        rest = &rest[at + used..];
    }
    decoded.push_str(rest);
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_safe_names() {
        let long_stem = "a".repeat(300);
        let long = format!("{long_stem}.pdf");
        let cyrillic_long = format!("{}.docx", "я".repeat(200));
        let device_long = format!("con.{}", "x".repeat(200));
        let cases: Vec<(&str, String)> = vec![
            ("report.pdf", "report.pdf".into()),
            ("../../etc/passwd", "_.._etc_passwd".into()),
            ("..", FALLBACK_NAME.into()),
            (".", FALLBACK_NAME.into()),
            ("", FALLBACK_NAME.into()),
            ("   ", FALLBACK_NAME.into()),
            ("\0\u{7}", FALLBACK_NAME.into()),
            ("C:\\x", "C__x".into()),
            ("\\\\server\\share\\f.txt", "__server_share_f.txt".into()),
            ("\u{202e}fdp.exe", "fdp.exe".into()),
            ("invoice\u{200b}.pdf\u{feff}", "invoice.pdf".into()),
            (".bashrc", "bashrc".into()),
            ("name. . .", "name".into()),
            ("a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt".into()),
            ("50% off.pdf", "50_ off.pdf".into()),
            ("line\r\nbreak.txt", "line  break.txt".into()),
            ("tab\there.txt", "tab here.txt".into()),
            ("nul\0in.txt", "nulin.txt".into()),
            ("CON", "_CON".into()),
            ("con.txt", "_con.txt".into()),
            ("LPT1.log", "_LPT1.log".into()),
            ("COM10.log", "COM10.log".into()),
            ("console.txt", "console.txt".into()),
            ("e\u{301}te\u{301}.pdf", "\u{e9}t\u{e9}.pdf".into()),
            ("Şəhadətnamə.pdf", "Şəhadətnamə.pdf".into()),
            (long.as_str(), format!("{}.pdf", "a".repeat(MAX_NAME_BYTES - 4))),
            (cyrillic_long.as_str(), format!("{}.docx", "я".repeat((MAX_NAME_BYTES - 5) / 2))),
            (device_long.as_str(), format!("_con.{}", "x".repeat(MAX_NAME_BYTES - 5))),
        ];
        for (hostile, expected) in &cases {
            let safe = safe_component(hostile);
            assert_eq!(&safe, expected, "safe_component({hostile:?})");
            assert_eq!(safe_component(&safe), safe, "safe_component is stable for {hostile:?}");
            assert!(safe.len() <= MAX_NAME_BYTES, "{hostile:?} is too long");
            assert!(PayloadPath::new(&safe).is_ok(), "{safe:?} is a payload path");
        }
    }

    #[test]
    fn a_long_name_without_a_short_extension_is_cut_whole() {
        let name = format!("{}.{}", "b".repeat(100), "x".repeat(100));
        let safe = safe_component(&name);
        assert_eq!(safe.len(), MAX_NAME_BYTES);
        assert!(safe.starts_with(&"b".repeat(100)));
    }

    #[test]
    fn names_in_one_folder_are_told_apart_whatever_their_case() {
        let mut names = UniqueNames::new();
        let claimed: Vec<String> = ["scan.pdf", "scan.pdf", "SCAN.pdf", "", "..", "2-scan.pdf"].iter().map(|n| names.claim(n)).collect();
        assert_eq!(claimed, ["scan.pdf", "2-scan.pdf", "3-SCAN.pdf", "attachment", "2-attachment", "2-2-scan.pdf"].map(String::from));
    }

    #[test]
    fn a_long_duplicate_keeps_its_extension_and_limit() {
        let mut names = UniqueNames::new();
        let long = format!("{}.pdf", "c".repeat(400));
        let first = names.claim(&long);
        let second = names.claim(&long);
        assert_ne!(first, second);
        assert!(second.starts_with("2-") && second.ends_with(".pdf") && second.len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn payload_paths_take_only_safe_components() {
        let path = PayloadPath::parse("IN-2026-000001/attachments/scan.pdf").unwrap();
        assert_eq!(path.as_str(), "IN-2026-000001/attachments/scan.pdf");
        assert_eq!(path.to_string(), "data/IN-2026-000001/attachments/scan.pdf");
        for bad in ["", "a//b", "../x", "a/..", "/etc/passwd", "a\\b", "a/.hidden", "x/\u{202e}y", "CON"] {
            assert!(matches!(PayloadPath::parse(bad), Err(BagError::UnsafeComponent { .. })), "{bad:?} must be refused");
        }
    }

    #[test]
    fn manifest_paths_encode_percent_cr_and_lf_only() {
        let raw = "data/100%\r\nfile #1.txt";
        let encoded = encode_manifest_path(raw);
        assert_eq!(encoded, "data/100%25%0D%0Afile #1.txt");
        assert_eq!(decode_manifest_path(&encoded), raw);
        assert_eq!(decode_manifest_path("a%0d%0a%2f%"), "a\r\n%2f%");
        assert_eq!(decode_manifest_path("%252"), "%2");
    }
}
