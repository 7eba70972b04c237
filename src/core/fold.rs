//! Folding text for comparison: the one form in which the routing rules and the search index
//! compare words, so that they match however a correspondent typed them. Case goes; the four
//! i's of Azerbaijani and Turkish (i, ı, İ, I) are one letter; ё is е; ə, ş, ç, ğ, ö and ü keep
//! their letters and lose only their case; runs of whitespace become one space.
//!
//! `MƏXFİ` folds to `məxfi`, `Счёт` to `счет`, `TOPLANTISI` and `toplantısı` to `toplantisi`.

use std::sync::LazyLock;

/// Folds text for comparison into `out` (cleared first).
pub fn fold_into(text: &str, out: &mut String) {
    out.clear();
    out.reserve(text.len());
    let small = &*SMALL_FOLDS;
    let mut in_space = false;
    let mut rest = text;
    while !rest.is_empty() {
        // A run of ASCII, the bulk of most mail, a byte at a time.
        let ascii = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
        for &byte in &rest.as_bytes()[..ascii] {
            if byte.is_ascii_whitespace() || byte == 0x0B {
                if !in_space {
                    out.push(' ');
                    in_space = true;
                }
            } else {
                out.push(byte.to_ascii_lowercase() as char);
                in_space = false;
            }
        }
        rest = &rest[ascii..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        let folded = match small.get(c as usize) {
            Some(&folded) if folded != SLOW => folded,
            None if c.is_whitespace() => ' ',
            _ => {
                in_space = false;
                slow_fold(c, out);
                continue;
            }
        };
        if folded == ' ' {
            if !in_space {
                out.push(' ');
                in_space = true;
            }
        } else {
            out.push(folded);
            in_space = false;
        }
    }
}

/// Folded forms of the first 2,048 characters (Latin, Greek, Cyrillic: nearly all the mail
/// here), looked up instead of computed: folding is a good part of routing a letter.
/// Whitespace folds to ' '; `SLOW` marks a character that folds to several.
static SMALL_FOLDS: LazyLock<Vec<char>> = LazyLock::new(|| {
    (0..0x800u32)
        .map(|u| {
            let Some(c) = char::from_u32(u) else { return SLOW };
            if c.is_whitespace() {
                return ' ';
            }
            let mut folded = String::new();
            slow_fold(c, &mut folded);
            let mut chars = folded.chars();
            match (chars.next(), chars.next()) {
                (Some(f), None) if f != SLOW => f,
                _ => SLOW,
            }
        })
        .collect()
});

const SLOW: char = '\0';

pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Folds one character that is not whitespace.
pub(crate) fn push_folded(c: char, out: &mut String) {
    match SMALL_FOLDS.get(c as usize) {
        Some(&folded) if folded != SLOW => out.push(folded),
        _ => slow_fold(c, out),
    }
}

fn slow_fold(c: char, out: &mut String) {
    match c {
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        // Azerbaijani and Turkish write four i's; people and mail programs mix them up.
        'İ' => out.push('i'),
        c => out.extend(c.to_lowercase().map(same_letter)),
    }
}

/// One form for letters that are the same letter to a reader (and to a case-insensitive
/// regular expression) but that lowercasing leaves apart.
fn same_letter(c: char) -> char {
    match c {
        'ı' => 'i',
        'ё' => 'е',
        'ſ' => 's',
        'ẛ' => 'ṡ',
        'µ' => 'μ',
        'ς' => 'σ',
        'ϐ' => 'β',
        'ϵ' => 'ε',
        'ϑ' => 'θ',
        'ϰ' => 'κ',
        'ϖ' => 'π',
        'ϱ' => 'ρ',
        'ϕ' => 'φ',
        '\u{345}' | '\u{1FBE}' => 'ι',
        '\u{1FD3}' => '\u{390}',
        '\u{1FE3}' => '\u{3B0}',
        'ᲀ' => 'в',
        'ᲁ' => 'д',
        'ᲂ' => 'о',
        'ᲃ' => 'с',
        'ᲄ' | 'ᲅ' => 'т',
        'ᲆ' => 'ъ',
        'ᲇ' => 'ѣ',
        'ᲈ' => 'ꙋ',
        'ﬅ' => 'ﬆ',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_meets_people_halfway() {
        assert_eq!(fold("MƏXFİ"), "məxfi");
        assert_eq!(fold("Счёт  на\r\nоплату"), "счет на оплату");
        assert_eq!(fold("KONFİDENSİAL"), fold("konfidensial"));
        assert_eq!(fold("ISPARTA"), fold("ısparta"));
        assert_eq!(fold("TOPLANTISI"), "toplantisi");
        assert_eq!(fold("toplantısı"), "toplantisi");
        assert_eq!(fold("ÜCRƏT"), "ücrət");
        assert_eq!(fold("ŞƏHADƏTNAMƏ ÇĞÖ"), "şəhadətnamə çğö");
        assert_eq!(fold("ЁЛКА"), "елка");
    }

    /// The gates of regexes are folded text: folding must never keep apart two letters a
    /// case-insensitive regex takes for one, or a regex rule could miss a letter.
    #[test]
    fn folding_joins_whatever_case_insensitive_regexes_join() {
        use regex_syntax::hir::{Class, HirKind};
        let mut apart = Vec::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if !(c.is_lowercase() || c.is_uppercase()) {
                continue;
            }
            let hir = regex_syntax::Parser::new().parse(&format!("(?i){}", regex_syntax::escape(c.encode_utf8(&mut [0; 4])))).unwrap();
            let HirKind::Class(Class::Unicode(class)) = hir.kind() else { continue };
            for other in class.iter().flat_map(|range| range.start()..=range.end()) {
                if fold(&c.to_string()) != fold(&other.to_string()) {
                    apart.push((c, other));
                }
            }
        }
        assert!(apart.is_empty(), "folded apart: {apart:?}");
    }
}
