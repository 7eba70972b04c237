//! How rule text compares with letter text: case, the Turkic i, ё, spacing, globs and sizes.
//!
//! Plain text in a rule is compared after both sides are folded the same way (`core::fold`, which
//! the search index uses too), so that the
//! registry's words match however a correspondent typed them: `məxfi` matches `MƏXFİ`, `счёт`
//! matches `СЧЕТ`, and `travel grant` matches a body where the words are split over two lines.

use std::fmt::Write as _;

use crate::core::fold::push_folded;
pub(super) use crate::core::fold::{fold, fold_into};

/// Maps a span of `fold(text)` back onto `text`, so that a match found in folded text is shown
/// as the correspondent wrote it. Walks the text once; allocates nothing per character.
pub(super) fn original_span(text: &str, folded_start: usize, folded_end: usize) -> (usize, usize) {
    let mut folded_len = 0;
    let mut in_space = false;
    let mut start = None;
    let mut one = String::new();
    for (at, c) in text.char_indices() {
        // What this character adds to the folded text: nothing inside a run of spaces.
        let adds = if c.is_whitespace() {
            usize::from(!in_space)
        } else {
            one.clear();
            push_folded(c, &mut one);
            one.len()
        };
        in_space = c.is_whitespace();
        if adds == 0 {
            continue;
        }
        if start.is_none() && folded_len >= folded_start {
            start = Some(at);
        }
        if folded_len >= folded_end {
            return (start.unwrap_or(at), at);
        }
        folded_len += adds;
    }
    (start.unwrap_or(text.len()), text.len())
}

/// The regular-expression form of folded plain text, for the rare cases where plain text
/// must be matched by a regex (globs with wildcards inside). Case is left to `(?i)`.
pub(super) fn push_literal_regex(folded: &str, out: &mut String) {
    for c in folded.chars() {
        match c {
            'i' => out.push_str("[iİı]"),
            'е' => out.push_str("[её]"),
            ' ' => out.push_str(r"\s+"),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
}

/// An address glob: `*` is any run of characters, `?` one character; it must cover the
/// whole address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Glob {
    /// A glob that is one piece of text, perhaps with `*` at either end: matched as text.
    Literal { folded: String, at_start: bool, at_end: bool },
    /// Anything else, as an anchored regex.
    Regex(String),
}

pub(super) fn is_glob(text: &str) -> bool {
    text.contains(['*', '?'])
}

pub(super) fn compile_glob(glob: &str) -> Glob {
    let folded = fold(glob);
    let inner = folded.trim_start_matches('*').trim_end_matches('*');
    if !inner.is_empty() && !inner.contains(['*', '?']) {
        return Glob::Literal { at_start: !folded.starts_with('*'), at_end: !folded.ends_with('*'), folded: inner.to_string() };
    }
    let mut pattern = String::from("(?i)^");
    let mut piece = String::new();
    for c in folded.chars() {
        if c == '*' || c == '?' {
            push_literal_regex(&piece, &mut pattern);
            piece.clear();
            pattern.push_str(if c == '*' { ".*" } else { "." });
        } else {
            piece.push(c);
        }
    }
    push_literal_regex(&piece, &mut pattern);
    pattern.push('$');
    Glob::Regex(pattern)
}

/// What a regular expression needs in a text before it can match, so that a letter is only
/// tried against the few regexes that stand a chance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct RegexNeeds {
    /// Folded texts of which every match starts (or ends) with one; empty when there are none
    /// worth using, and the regex must be tried on every text.
    pub gate: Vec<String>,
    /// The regex has a Unicode word boundary (`\b`), which a set of regexes can match quickly
    /// only on ASCII text: such a regex is better tried on its own.
    pub unicode_words: bool,
}

/// Shortest gate text worth using, in characters.
const MIN_GATE_CHARS: usize = 2;

pub(super) fn regex_needs(expression: &str) -> RegexNeeds {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    // Parsed as written, without the case-insensitivity the rule book adds: the gate texts are
    // folded, and folding is at least as forgiving as a case-insensitive regex.
    let Ok(hir) = regex_syntax::Parser::new().parse(expression) else { return RegexNeeds::default() };
    let unicode_words = hir.properties().look_set().contains_word_unicode();
    let mut gates: Vec<Vec<String>> = Vec::new();
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let is_prefix = matches!(kind, ExtractKind::Prefix);
        let seq = Extractor::new().kind(kind).extract(&hir);
        if let Some(literals) = seq.literals().filter(|literals| !literals.is_empty()) {
            gates.push(literals.iter().map(|literal| fold(utf8_part(literal.as_bytes(), is_prefix))).collect());
        }
    }
    gates.extend(required_inside(&hir));
    // The most telling gate: the one whose shortest text is longest, then the fewest texts.
    let gate = gates
        .into_iter()
        .map(|mut gate| {
            gate.sort_unstable();
            gate.dedup();
            gate
        })
        .filter(|gate| telling(gate) >= MIN_GATE_CHARS)
        .max_by_key(|gate| (telling(gate), std::cmp::Reverse(gate.len())))
        .unwrap_or_default();
    RegexNeeds { gate, unicode_words }
}

/// How much a gate says: the length of its shortest text, in characters.
fn telling(gate: &[String]) -> usize {
    gate.iter().map(|text| text.trim().chars().count()).min().unwrap_or(0)
}

/// Texts one of which every match contains somewhere (not only at its start or end): the best
/// literal of a concatenation, every branch's of an alternation.
fn required_inside(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(literal) => std::str::from_utf8(&literal.0).ok().map(|text| vec![fold(text)]),
        HirKind::Capture(capture) => required_inside(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => required_inside(&repetition.sub),
        HirKind::Concat(parts) => {
            parts.iter().filter_map(required_inside).max_by_key(|gate| (telling(gate), std::cmp::Reverse(gate.len())))
        }
        HirKind::Alternation(branches) => {
            let mut texts = Vec::new();
            for branch in branches {
                texts.extend(required_inside(branch)?);
            }
            Some(texts)
        }
        _ => None,
    }
}

/// The longest valid UTF-8 of literal bytes the extractor may have cut inside a character: a
/// shorter prefix (or suffix) is still a text every match needs.
fn utf8_part(bytes: &[u8], is_prefix: bool) -> &str {
    if is_prefix {
        match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or(""),
        }
    } else {
        (0..bytes.len().min(4)).find_map(|skip| std::str::from_utf8(&bytes[skip..]).ok()).unwrap_or("")
    }
}

/// Reads a size as staff write it: `5MB`, `500 KB`, `1.5 mb`, `200000` (bytes).
/// A kilobyte is 1024 bytes, as mail programs count.
pub(super) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return None,
    };
    let bytes = number * factor as f64;
    if !(0.0..1e15).contains(&bytes) {
        return None;
    }
    // In range and rounded, the conversion is exact: 1e15 is far below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = bytes.round() as u64;
    Some(whole)
}

/// A size as people read it: `6.2 MB`, `512 KB`, `900 bytes`.
pub(super) fn show_size(bytes: u64) -> String {
    let mut out = String::new();
    let _ = match bytes {
        b if b >= 1 << 30 => write!(out, "{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => write!(out, "{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => write!(out, "{} KB", b >> 10),
        b => write!(out, "{b} bytes"),
    };
    out
}

/// Cuts text for a reason line: one line, at most `max` characters.
pub(super) fn shorten(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 2));
    let mut space = false;
    let chars = text.split_whitespace().flat_map(|word| {
        let gap = std::mem::replace(&mut space, true);
        gap.then_some(' ').into_iter().chain(word.chars())
    });
    for (count, c) in chars.enumerate() {
        if count == max {
            out.pop();
            out.push('…');
            return out;
        }
        out.push(c);
    }
    out
}

/// Levenshtein distance, for "did you mean" hints on misspelt keys.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_back_onto_the_original() {
        let text = "Re:  İcazə\nməxfi";
        let folded = fold(text);
        assert_eq!(folded, "re: icazə məxfi");
        let start = folded.find("icazə").unwrap();
        let (from, to) = original_span(text, start, start + "icazə".len());
        assert_eq!(&text[from..to], "İcazə");
        let start = folded.find("məxfi").unwrap();
        let (from, to) = original_span(text, start, folded.len());
        assert_eq!(&text[from..to], "məxfi");
        let (from, to) = original_span(text, 0, 4);
        assert_eq!(&text[from..to], "Re:  ", "a space at the end takes the whole run of spaces");
    }

    #[test]
    fn regex_gates() {
        let needs = regex_needs(r"\bsecret\b");
        assert_eq!(needs, RegexNeeds { gate: vec!["secret".into()], unicode_words: true });
        assert_eq!(
            regex_needs(r"\b(?:pro|vice-)?Re[ck]tor").gate,
            vec!["prorector", "prorektor", "rector", "rektor", "vice-rector", "vice-rektor"]
        );
        assert_eq!(regex_needs(r"\bвиз[аы]\b").gate, vec!["виза", "визы"]);
        assert_eq!(regex_needs(r"(?i)^.*@uni-.*\.de$").gate, vec![".de"]);
        assert!(regex_needs(r"^\s*[12]").gate.is_empty());
        assert!(regex_needs(r"\d+").gate.is_empty());
        assert!(!regex_needs(r"(?-u:\b)ab").unicode_words);
        // A text inside tells more than a short one at the start.
        assert_eq!(regex_needs(r"^re:\s*\S+\s+gc-123\b").gate, vec!["gc-123"]);
        assert_eq!(regex_needs(r"\d+ (?:Visa|Viza) \d+").gate, vec!["visa", "viza"]);
    }

    #[test]
    fn globs() {
        assert_eq!(compile_glob("*@Uni-X.edu.tr"), Glob::Literal { folded: "@uni-x.edu.tr".into(), at_start: false, at_end: true });
        assert_eq!(compile_glob("rector@*"), Glob::Literal { folded: "rector@".into(), at_start: true, at_end: false });
        let Glob::Regex(pattern) = compile_glob("*@uni-*.de") else { panic!() };
        let regex = regex::Regex::new(&pattern).unwrap();
        assert!(regex.is_match("prof@UNI-bonn.de"));
        assert!(!regex.is_match("prof@uni-bonn.de.evil.org"));
        assert!(matches!(compile_glob("*"), Glob::Regex(_)));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5MB"), Some(5 << 20));
        assert_eq!(parse_size("500 kb"), Some(500 << 10));
        assert_eq!(parse_size("1.5 MB"), Some(3 << 19));
        assert_eq!(parse_size("1200"), Some(1200));
        assert_eq!(parse_size("5 MiB"), None);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(show_size(6_500_000), "6.2 MB");
    }

    #[test]
    fn shortening() {
        assert_eq!(shorten("a\n  b", 80), "a b");
        assert_eq!(shorten(&"x".repeat(100), 10).chars().count(), 10);
    }
}
