//! The content of what the assistant sends: a reply or a room message written in Markdown.
//!
//! The HTML `formatted_body` is rendered from the Markdown as matrix-sdk renders it; the plain
//! `body` is the Markdown with the escapes of outside text taken out (`core::markdown`), so
//! that clients showing the plain body show a subject as its sender wrote it, not backslashes.

use matrix_sdk::ruma::events::room::message::{FormattedBody, RoomMessageEventContent};

use crate::core::markdown;

/// A notice from Markdown: the HTML it renders to, and its plain text as the body.
pub fn message_content(markdown: &str) -> RoomMessageEventContent {
    let body = markdown::plain_text(markdown);
    match FormattedBody::markdown(markdown) {
        Some(html) => RoomMessageEventContent::notice_html(body, html.body),
        None => RoomMessageEventContent::notice_plain(body),
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::events::room::message::MessageType;

    use super::*;

    const HOSTILE_SUBJECTS: &[&str] = &[
        r#"Invoice <a href="https://evil.example/login">sign in</a> [pay now](https://evil.example/pay) **URGENT**"#,
        "<https://evil.example/auto> <b>bold</b> <img src=x onerror=alert(1)> <script>alert(1)</script>",
        "[pay][ref]\n\n[ref]: https://evil.example/ref",
        "![tracker](https://evil.example/t.png) __strong__ *em* _em_ ~~struck~~ ~one~",
        "# Heading\n> quote\n- item\n1. first\n---\n    code\n`span`",
        "&lt;b&gt;not bold&lt;/b&gt; &amp; &#60;i&#62;",
        "<!-- hidden --> a | b | c\n|---|---|",
    ];

    fn sent(markdown: &str) -> (String, Option<String>) {
        let content = message_content(markdown);
        let MessageType::Notice(notice) = content.msgtype else { panic!("not a notice: {:?}", content.msgtype) };
        (notice.body, notice.formatted.map(|formatted| formatted.body))
    }

    #[test]
    fn what_a_sender_writes_is_shown_as_text_and_never_becomes_markup() {
        for subject in HOSTILE_SUBJECTS {
            let card = format!("New letter **IN-2026-000001**  \nSubject: {}", markdown::literal(subject));
            let (body, html) = sent(&card);
            let html = html.expect("our own bold makes it formatted");
            for markup in [
                "<a",
                "href=\"https://evil.example/pay\"",
                "href=\"https://evil.example/auto\"",
                "href=\"https://evil.example/ref\"",
                "<strong>bold",
                "<b>",
                "<em>",
                "<img",
                "<script",
                "<h1",
                "<blockquote",
                "<li",
                "<code",
                "<del",
                "<table",
                "<!--",
                "<hr",
                "<pre",
            ] {
                assert!(!html.contains(markup), "{markup} in {html} from {subject:?}");
            }
            assert!(html.contains("<strong>IN-2026-000001</strong>"), "our own Markdown stays: {html}");
            let one_line = subject.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(body, format!("New letter **IN-2026-000001**  \nSubject: {one_line}"), "the body shows the text as written");
        }
    }

    #[test]
    fn entities_a_sender_typed_stay_visible_as_typed() {
        let (_, html) = sent(&format!("**Subject**: {}", markdown::literal("&lt;b&gt; &amp;")));
        assert!(html.unwrap().contains("&amp;lt;b&amp;gt; &amp;amp;"));
    }

    #[test]
    fn the_table_of_a_reply_keeps_its_cells_with_a_pipe_in_the_text() {
        let reply = format!("| subject |\n|---|\n| {} |\n", markdown::literal("a | b [x](y)"));
        let (body, html) = sent(&reply);
        let html = html.unwrap();
        assert!(html.contains("<td>a | b [x](y)</td>"), "{html}");
        assert!(body.contains("| a | b [x](y) |"), "{body}");
    }

    #[test]
    fn plain_text_without_markdown_is_sent_plain() {
        let (body, html) = sent("pong");
        assert_eq!((body.as_str(), html), ("pong", None));
    }

    /// Pieces that start markup, and text around them, for texts no table lists.
    const PIECES: &[&str] = &[
        "<",
        ">",
        "</a>",
        "<a href=\"x\">",
        "<https://e.x>",
        "[",
        "]",
        "(",
        ")",
        "](u)",
        "![",
        "*",
        "**",
        "_",
        "__",
        "~",
        "~~",
        "`",
        "``",
        "#",
        "# ",
        "## ",
        "-",
        "- ",
        "+ ",
        "1. ",
        "2) ",
        "---",
        "===",
        "> ",
        "|",
        "|---|",
        "\\",
        "\\*",
        "&",
        "&lt;",
        "&#60;",
        "&amp;",
        ";",
        ":",
        "!",
        "=",
        "\n",
        "\n\n",
        "    ",
        "\t",
        " ",
        "a",
        "word",
        "Ə",
        "✓",
        "@x:y",
        "x@y.z",
        "https://e.x/p",
    ];

    proptest::proptest! {
        #[test]
        fn any_text_renders_as_exactly_that_text(pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..16)) {
            let text: String = pieces.concat();
            let written = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let (body, html) = sent(&markdown::literal(&text));
            // No tag at all: not even a paragraph, so nothing the sender wrote became a block.
            let shown = match html {
                Some(html) => {
                    proptest::prop_assert!(!html.contains('<'), "{text:?} became {html:?}");
                    html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
                }
                None => markdown::literal(&text),
            };
            proptest::prop_assert_eq!(&shown, &written, "{:?} renders as other text", text);
            proptest::prop_assert_eq!(&body, &written);
        }
    }
}
