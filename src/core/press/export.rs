//! A release written out: Markdown to paste, an HTML page, the text of its mail, and dates as
//! each language writes them.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::Release;
use crate::core::reply::Language;

/// The line above a release: a draft says so; an embargo still ahead is printed.
fn note(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let labels = labels(release.language);
    if !release.is_approved() {
        return (labels.draft)(release.version);
    }
    match release.embargo.filter(|at| *at > now) {
        Some(at) => format!("{} {}", labels.embargoed_until, long_moment(at, zone, release.language)),
        None => labels.immediate.to_string(),
    }
}

/// The release as Markdown, to paste where Markdown is read (and shown formatted in chat). The
/// authors' own Markdown (emphasis, links) stays; a `<` is escaped, so that no HTML passes
/// through where the Markdown is turned into a page.
pub fn markdown(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    // Line breaks inside a paragraph (an address in the contact) stay breaks.
    let md = |text: &str| text.replace('<', "\\<").split("\n\n").map(|p| p.replace('\n', "  \n")).collect::<Vec<_>>().join("\n\n");
    let mut out = format!("*{}* · {}\n\n# {}\n\n", labels.press_release, note(release, now, zone), md(&c.headline));
    out.push_str(&format!("**{}** – {}\n\n", md(&c.dateline), md(&c.lead)));
    out.push_str(&md(&c.body));
    out.push_str("\n\n");
    if !c.quote.is_empty() {
        let quoted: Vec<String> = md(&c.quote).lines().map(|line| format!("> {line}").trim_end().to_string()).collect();
        out.push_str(&quoted.join("\n"));
        out.push_str("\n\n");
    }
    out.push_str(&format!("## {}\n\n{}\n\n## {}\n\n{}\n", labels.about, md(&c.boilerplate), labels.media_contact, md(&c.contact)));
    out
}

/// The release as an HTML fragment for a web page or a newsletter; every text is escaped.
pub fn html(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    let mut out = format!("<article class=\"press-release\" lang=\"{}\">\n", release.language.code());
    out.push_str(&format!("<p class=\"release-note\">{} · {}</p>\n", escape(labels.press_release), escape(&note(release, now, zone))));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&c.headline)));
    let mut lead = html_paragraphs(&c.lead);
    // The dateline opens the lead's first paragraph, as printed releases have it.
    if let Some(first) = lead.first_mut() {
        *first = format!("<strong class=\"dateline\">{}</strong> – {first}", escape(&c.dateline));
    }
    for paragraph in lead.iter().chain(&html_paragraphs(&c.body)) {
        out.push_str(&format!("<p>{paragraph}</p>\n"));
    }
    if !c.quote.is_empty() {
        let quote: String = html_paragraphs(&c.quote).iter().map(|p| format!("<p>{p}</p>")).collect();
        out.push_str(&format!("<blockquote>{quote}</blockquote>\n"));
    }
    for (heading, text) in [(labels.about, &c.boilerplate), (labels.media_contact, &c.contact)] {
        out.push_str(&format!("<h2>{}</h2>\n", escape(heading)));
        for paragraph in html_paragraphs(text) {
            out.push_str(&format!("<p>{paragraph}</p>\n"));
        }
    }
    out.push_str("</article>\n");
    out
}

/// The release as the plain text of a mail.
pub(super) fn plain_text(release: &Release, note: &str) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    let mut out =
        format!("{}\n{note}\n\n{}\n\n{} – {}\n\n{}\n\n", labels.press_release.to_uppercase(), c.headline, c.dateline, c.lead, c.body);
    if !c.quote.is_empty() {
        out.push_str(&format!("{}\n\n", c.quote));
    }
    out.push_str(&format!("{}\n{}\n\n{}\n{}\n", labels.about, c.boilerplate, labels.media_contact, c.contact));
    out
}

/// Paragraphs (split at blank lines) as escaped HTML, line breaks inside them as `<br>`.
fn html_paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| p.lines().map(escape).collect::<Vec<_>>().join("<br>\n")).collect()
}

/// Text as HTML text or attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The words a release prints around its text, in its language.
pub(super) struct Labels {
    press_release: &'static str,
    pub(super) immediate: &'static str,
    embargoed_until: &'static str,
    draft: fn(i64) -> String,
    about: &'static str,
    media_contact: &'static str,
}

pub(super) fn labels(language: Language) -> Labels {
    match language {
        Language::En => Labels {
            press_release: "Press release",
            immediate: "FOR IMMEDIATE RELEASE",
            embargoed_until: "EMBARGOED UNTIL",
            draft: |version| format!("DRAFT (version {version}), not approved"),
            about: "About the university",
            media_contact: "Media contact",
        },
        Language::Az => Labels {
            press_release: "Press-reliz",
            immediate: "DƏRHAL YAYIMLANMAQ ÜÇÜN",
            embargoed_until: "EMBARQO:",
            draft: |version| format!("QARALAMA (versiya {version}), təsdiqlənməyib"),
            about: "Universitet haqqında",
            media_contact: "Media ilə əlaqə",
        },
        Language::Ru => Labels {
            press_release: "Пресс-релиз",
            immediate: "ДЛЯ НЕМЕДЛЕННОЙ ПУБЛИКАЦИИ",
            embargoed_until: "ЭМБАРГО ДО",
            draft: |version| format!("ЧЕРНОВИК (версия {version}), не утверждён"),
            about: "Об университете",
            media_contact: "Контакты для прессы",
        },
    }
}

/// A date as a release prints it: `1 December 2026`, `1 dekabr 2026`, `1 декабря 2026`.
pub fn long_date(date: NaiveDate, language: Language) -> String {
    const EN: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    const AZ: [&str; 12] =
        ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr", "noyabr", "dekabr"];
    // Russian names the month in the genitive after a day.
    const RU: [&str; 12] =
        ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"];
    let months = match language {
        Language::En => EN,
        Language::Az => AZ,
        Language::Ru => RU,
    };
    let month = months[date.month0() as usize];
    format!("{} {month} {}", date.day(), date.year())
}

/// An instant as a release prints it, in the office's zone: `3 December 2026, 10:00 (Asia/Baku)`.
pub fn long_moment(at: DateTime<Utc>, zone: Tz, language: Language) -> String {
    let local = at.with_timezone(&zone);
    format!("{}, {} ({zone})", long_date(local.date_naive(), language), local.format("%H:%M"))
}
