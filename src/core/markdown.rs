//! Text from outside in the assistant's Markdown: a letter's subject, a sender's name and
//! address, an attachment's name, what staff typed (partners, notes, titles, reminders). Anyone
//! who can e-mail the university writes some of it, so it must never turn into markup: a link,
//! raw HTML, bold or a heading in the bot's own message would be believed. Every reply and card
//! puts such text through `literal` (or `code`); our own formatting around it stays Markdown.
//!
//! Matrix clients that show the plain-text body see the Markdown source, so the adapters send
//! `plain_text` of a message as its body: the escapes are taken out again there.

/// `text` as Markdown that shows exactly that text, on one line: whitespace and control
/// characters fold to single spaces (no line breaks, no indented code), and everything that
/// could start markup is backslash-escaped: emphasis and strikethrough (`* _ ~`), code (`` ` ``),
/// links and images (`[`, and `]` before `(`, `[` or `:`), raw HTML and autolinks (`< >`),
/// headings (`#` before a space), table cells (`|`),
/// the backslash itself, an `&` that would read as an entity (`&lt;` stays `&lt;`), and list,
/// rule and heading markers at its start (`- `, `+ `, `1. `, `2) `, `---`, `===`).
pub fn literal(text: &str) -> String {
    let line = one_line(text);
    let mut out = String::with_capacity(line.len() + 8);
    let leading_marker = leading_block_marker(&line);
    for (at, c) in line.char_indices() {
        let next = line[at + c.len_utf8()..].chars().next();
        let escaped = match c {
            '\\' | '`' | '*' | '_' | '[' | '<' | '>' | '|' | '~' => true,
            // A link needs an unescaped `[`; a `]` before what would follow one is escaped
            // too, so that the source reads as plain as it renders.
            ']' => matches!(next, Some('(' | '[' | ':')),
            // A heading is `#` and a space; `#2` and `C#` are left as they are.
            '#' => matches!(next, None | Some(' ')),
            '&' => reads_as_entity(&line[at + 1..]),
            _ => leading_marker == Some(at),
        };
        if escaped {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a code span: shown in a fixed-width font, exactly as written (on one line). The
/// fence is longer than any run of backticks inside, so the text cannot close it.
pub fn code(text: &str) -> String {
    let line = one_line(text);
    let longest = line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space inside its fence; one space on
    // each side is stripped again when it is shown.
    let pad = if line.starts_with('`') || line.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{line}{pad}{fence}")
}

/// Markdown as the plain text a message's body shows: the backslash escapes are taken out
/// (outside code spans and indented code, where a backslash is itself), the rest stays as it is.
/// `plain_text(&literal(text))` is `text` on one line.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for (n, line) in markdown.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if line.starts_with("    ") || line.starts_with('\t') {
            out.push_str(line);
        } else {
            push_unescaped(&mut out, line);
        }
    }
    out
}

fn push_unescaped(out: &mut String, line: &str) {
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '\\' && rest[1..].starts_with(|next: char| next.is_ascii_punctuation()) {
            out.push_str(&rest[1..2]);
            rest = &rest[2..];
        } else if c == '`' {
            let fence = rest.len() - rest.trim_start_matches('`').len();
            let span_end = closing_fence(&rest[fence..], fence).map(|end| fence + end + fence).unwrap_or(fence);
            out.push_str(&rest[..span_end]);
            rest = &rest[span_end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
}

/// Where a run of exactly `fence` backticks starts in `text`, if one does.
fn closing_fence(text: &str, fence: usize) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = text[at..].find('`') {
        let start = at + found;
        let run = text[start..].len() - text[start..].trim_start_matches('`').len();
        if run == fence {
            return Some(start);
        }
        at = start + run;
    }
    None
}

fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `&` followed by what makes it an entity or a character reference (`amp;`, `#60;`, `#x3C;`).
fn reads_as_entity(after: &str) -> bool {
    after.split_once(';').is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '#'))
}

/// The byte position of the character that would make a line starting with `line` a list item,
/// a thematic break or a setext heading's underline, if there is one. (`*`, `_` and `>` are
/// escaped wherever they are, `#` wherever a space follows it.)
fn leading_block_marker(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let spaced = |at: usize| bytes.get(at).is_none_or(|b| *b == b' ');
    match bytes.first()? {
        b'-' | b'+' if spaced(1) || bytes.get(1) == Some(&b'-') => Some(0),
        b'=' if line.trim_end().bytes().all(|b| b == b'=') => Some(0),
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let ordered = digits <= 9 && matches!(bytes.get(digits), Some(b'.' | b')')) && spaced(digits + 1);
            ordered.then_some(digits)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What senders write, and the Markdown that shows it as text.
    const HOSTILE: &[(&str, &str)] = &[
        (
            r#"Invoice <a href="https://evil.example/login">sign in</a> [pay now](https://evil.example/pay) **URGENT**"#,
            r#"Invoice \<a href="https://evil.example/login"\>sign in\</a\> \[pay now\](https://evil.example/pay) \*\*URGENT\*\*"#,
        ),
        ("<https://evil.example>", r"\<https://evil.example\>"),
        ("[pay][1]\n\n[1]: https://evil.example", r"\[pay\]\[1] \[1\]: https://evil.example"),
        ("[confidential] #2 C# ##", r"\[confidential] #2 C\# #\#"),
        ("![x](https://evil.example/t.png)", r"!\[x\](https://evil.example/t.png)"),
        ("_quiet_ ~~gone~~ ~also~", r"\_quiet\_ \~\~gone\~\~ \~also\~"),
        ("`code` and ``more``", r"\`code\` and \`\`more\`\`"),
        ("# Heading", r"\# Heading"),
        ("> quoted", r"\> quoted"),
        ("- item", r"\- item"),
        ("+ item", r"\+ item"),
        ("---", r"\---"),
        ("===", r"\==="),
        ("1. first", r"1\. first"),
        ("12) twelfth", r"12\) twelfth"),
        ("    indented code", "indented code"),
        ("line one\nline two  \r\nthree\\", r"line one line two three\\"),
        ("&lt;script&gt; &#60; &#x3C; &copy;", r"\&lt;script\&gt; \&#60; \&#x3C; \&copy;"),
        ("a | b", r"a \| b"),
        ("<!-- comment --> <?php ?>", r"\<!-- comment --\> \<?php ?\>"),
        ("bell\u{7}here\u{0}", "bell here"),
    ];

    /// Ordinary text stays readable in the Markdown source.
    const ORDINARY: &[&str] = &[
        "Erasmus+ staff mobility week 2027 (Tartu)",
        "Prof. Ayşe Kaya",
        "a.kaya@metu.edu.tr",
        "R&D budget: 10% more, 2026-12-15",
        "Ответ на письмо № 5",
        "2026 was good",
        "-3 degrees",
        "Re: hello!",
    ];

    #[test]
    fn hostile_text_is_escaped_into_plain_text() {
        for (hostile, expected) in HOSTILE {
            assert_eq!(literal(hostile), *expected, "{hostile:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_as_it_is() {
        for text in ORDINARY {
            assert_eq!(literal(text), *text);
        }
    }

    #[test]
    fn the_plain_text_body_shows_what_was_written_without_backslashes() {
        for (hostile, _) in HOSTILE {
            assert_eq!(plain_text(&literal(hostile)), one_line(hostile), "{hostile:?}");
        }
        let ours = format!("**Reminder 7**: {} (`!doc IN-2026-000001`)", literal(r"C:\temp *x*"));
        assert_eq!(plain_text(&ours), r"**Reminder 7**: C:\temp *x* (`!doc IN-2026-000001`)");
        assert_eq!(plain_text(r"`a\*b` \* ``x\`y`` \`"), r"`a\*b` * ``x\`y`` `");
        assert_eq!(plain_text("    !doc \\*\n\\|a\\|"), "    !doc \\*\n|a|");
    }

    #[test]
    fn a_code_span_outruns_the_backticks_inside() {
        assert_eq!(code("abc"), "`abc`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("two\nlines"), "`two lines`");
        assert_eq!(plain_text(&code("a\\*b")), "`a\\*b`");
    }
}
