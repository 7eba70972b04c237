//! The languages the university answers in, and which one a letter is written in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::letter::Letter;

/// Characters of a letter read to guess its language.
const LANGUAGE_SAMPLE_CHARS: usize = 4000;

/// The languages the university answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Az,
    Ru,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Az, Language::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Az => "az",
            Language::Ru => "ru",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// A unit as replies need it. The rules engine's `Unit` converts into this:
/// `UnitInfo { id: u.id, email: u.email, names: [("en", u.name.en), ("az", u.name.az), ("ru", u.name.ru)] }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnitInfo {
    pub id: String,
    pub email: String,
    /// The unit's name by language code (`en`, `az`, `ru`).
    pub names: BTreeMap<String, String>,
}

impl UnitInfo {
    /// The name in a language, else in English, else the id.
    pub fn name(&self, language: Language) -> &str {
        self.names
            .get(language.code())
            .or_else(|| self.names.get("en"))
            .map(String::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.id)
    }
}

/// The language to answer in: Azerbaijani when the letter has the letters only Azerbaijani (and
/// Turkish) use, Russian when it is mostly Cyrillic, English otherwise.
pub fn language_of(letter: &Letter) -> Language {
    let sample = letter.subject.chars().chain(['\n']).chain(letter.body_text.chars()).take(LANGUAGE_SAMPLE_CHARS);
    let (mut cyrillic, mut latin, mut turkic, mut azeri_cyrillic) = (0usize, 0usize, 0usize, 0usize);
    for c in sample {
        match c {
            // ə is Azerbaijani alone; ğ ı İ ş are Azerbaijani or Turkish. ç ö ü are left out:
            // German and French write them too.
            'ə' | 'Ə' | 'ğ' | 'Ğ' | 'ı' | 'İ' | 'ş' | 'Ş' => {
                turkic += 1;
                latin += 1;
            }
            'ә' | 'Ә' | 'ғ' | 'Ғ' | 'ҹ' | 'Ҹ' | 'һ' | 'Һ' | 'ј' | 'Ј' => {
                azeri_cyrillic += 1;
                cyrillic += 1;
            }
            '\u{0400}'..='\u{04FF}' => cyrillic += 1,
            c if c.is_alphabetic() && (c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c)) => latin += 1,
            _ => {}
        }
    }
    if cyrillic > latin {
        if azeri_cyrillic > 0 { Language::Az } else { Language::Ru }
    } else if turkic > 0 {
        Language::Az
    } else {
        Language::En
    }
}
