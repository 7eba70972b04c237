//! An `OutgoingMail` as MIME: plain text, and with `attach_original` the registered letter as a
//! `message/rfc822` part, its bytes unchanged; files attached by reference (`attachments`) after
//! it, each byte for byte.

use lettre::Message;
use lettre::message::header::{ContentDisposition, ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use super::failure::Failure;
use crate::core::number::numbers_in;
use crate::core::outbound::{ComposeError, LOOP_HEADER, OutgoingMail};

/// SMTP lines may hold 998 octets before CRLF.
const MAX_LINE: usize = 998;

/// Builds the message. A mail that cannot be built (an address that does not parse, a missing
/// recipient) will never be sent: the failure is permanent.
pub fn compose(mail: &OutgoingMail, original: Option<&[u8]>) -> Result<Message, Failure> {
    build(mail, original, &[], &[])
}

/// A file of the register attached by reference (`OutgoingMail::attachments`), as loaded.
#[derive(Debug, Clone, Copy)]
pub struct AttachedFile<'a> {
    /// The name the register has; only its last component is used, made safe.
    pub name: &'a str,
    pub media_type: &'a str,
    pub content: &'a [u8],
}

/// `compose`, with the files `mail.attachments` names attached after the text, in that order
/// (the dispatcher loads them from the register): a `message/rfc822` file unchanged as the
/// original is, any other base64-encoded, so that each arrives byte for byte.
pub fn compose_with_attachments(mail: &OutgoingMail, original: Option<&[u8]>, files: &[AttachedFile<'_>]) -> Result<Message, Failure> {
    build(mail, original, &[], files)
}

/// `compose`, with files attached after the text (outgoing correspondence).
fn compose_with_files(mail: &OutgoingMail, original: Option<&[u8]>, files: &[(String, Vec<u8>)]) -> Result<Message, Failure> {
    build(mail, original, files, &[])
}

fn build(
    mail: &OutgoingMail,
    original: Option<&[u8]>,
    files: &[(String, Vec<u8>)],
    attached: &[AttachedFile<'_>],
) -> Result<Message, Failure> {
    let bad = |what: String| Failure::Permanent(what);
    let from: Mailbox = mail.from.parse().map_err(|e| bad(format!("sender {:?} is not an address: {e}", mail.from)))?;
    let mut builder = Message::builder().from(from.clone()).subject(mail.subject.clone()).date_now();
    if mail.to.is_empty() {
        return Err(bad("the mail has no recipient".into()));
    }
    for to in &mail.to {
        let mailbox: Mailbox = to.parse().map_err(|e| bad(format!("recipient {to:?} is not an address: {e}")))?;
        builder = builder.to(mailbox);
    }
    builder = builder.message_id(Some(format!("<{}>", mail.message_id)));
    if let Some(id) = &mail.in_reply_to {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    if !mail.references.is_empty() {
        builder = builder.references(mail.references.iter().map(|id| format!("<{id}>")).collect::<Vec<_>>().join(" "));
    }
    if mail.auto_submitted {
        builder = builder
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), mail.kind.auto_submitted_value().into()))
            // Exchange and Outlook send no out-of-office answers to mail that asks them not to.
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    }
    builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(LOOP_HEADER), from.email.to_string()));

    let text = SinglePart::plain(mail.text.clone());
    let mut extra = Vec::new();
    if mail.attach_original {
        let Some(raw) = original else { return Err(bad("the registered letter to attach is missing".into())) };
        let name = numbers_in(&mail.subject).first().map_or_else(|| "letter.eml".to_string(), |n| format!("{n}.eml"));
        extra.push(attachment(raw, &name));
    }
    for (name, bytes) in files {
        let name = crate::core::letter::safe_attachment_name(name, 1);
        let content_type = ContentType::parse(media_type_of(&name)).unwrap_or(ContentType::TEXT_PLAIN);
        extra.push(lettre::message::Attachment::new(name).body(bytes.clone(), content_type));
    }
    for (n, file) in attached.iter().enumerate() {
        extra.push(attached_part(file, n + 1));
    }
    let message = if extra.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for part in extra {
            parts = parts.singlepart(part);
        }
        builder.multipart(parts)
    };
    message.map_err(|e| bad(format!("the mail cannot be built: {e}")))
}

/// The letter as `message/rfc822`, unencoded (RFC 2046 allows no base64 there), so the unit
/// receives exactly the bytes registered. Only line ends are made CRLF where a file import left
/// bare LF (SMTP carries nothing else). A letter SMTP cannot carry as text (NUL bytes, lines
/// over 998 octets) goes base64-encoded as `application/octet-stream`, its bytes still intact.
fn attachment(raw: &[u8], name: &str) -> SinglePart {
    let crlf = with_crlf(raw);
    let disposition = ContentDisposition::attachment(name);
    if crlf.contains(&0) || crlf.split(|&b| b == b'\n').any(|line| line.len() > MAX_LINE + 1) {
        return SinglePart::builder()
            .header(ContentType::parse("application/octet-stream").expect("a valid media type"))
            .header(disposition)
            .body(Body::new_with_encoding(raw.to_vec(), ContentTransferEncoding::Base64).unwrap_or_else(Body::new));
    }
    let encoding = if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
    SinglePart::builder()
        .header(ContentType::parse("message/rfc822").expect("a valid media type"))
        .header(disposition)
        .body(Body::dangerous_pre_encoded(crlf, encoding))
}

/// A file of the register: a message as `attachment` attaches one, anything else base64-encoded
/// under its media type (`application/octet-stream` when the register's does not parse).
fn attached_part(file: &AttachedFile<'_>, position: usize) -> SinglePart {
    let name = crate::core::letter::safe_attachment_name(file.name, position);
    let media_type = file.media_type.trim();
    if media_type.eq_ignore_ascii_case("message/rfc822") {
        return attachment(file.content, &name);
    }
    let content_type =
        ContentType::parse(media_type).unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("a valid media type"));
    SinglePart::builder()
        .header(content_type)
        .header(ContentDisposition::attachment(&name))
        .body(Body::new_with_encoding(file.content.to_vec(), ContentTransferEncoding::Base64).unwrap_or_else(Body::new))
}

/// Bare LF and bare CR as CRLF; CRLF stays.
fn with_crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
                continue;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A letter the university writes (`chancery send`): the registered bytes and the outbox entry
/// that sends them. The number goes in the subject; an answer carries the threading headers of
/// the letter it answers.
pub struct Correspondence<'a> {
    pub from: &'a str,
    pub to: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    /// (file name, bytes); names are only names, never paths.
    pub attachments: &'a [(String, Vec<u8>)],
}

pub fn compose_correspondence(
    letter: &Correspondence<'_>,
    number: &crate::core::number::RegistrationNumber,
    answered: Option<&crate::core::outgoing::AnsweredLetter>,
    message_id: String,
) -> Result<(Vec<u8>, OutgoingMail), ComposeError> {
    let number = number.to_string();
    let mut references: Vec<String> = Vec::new();
    let mut in_reply_to = None;
    if let Some(answered) = answered {
        references.extend(answered.references.iter().cloned());
        if let Some(id) = &answered.message_id {
            references.push(id.clone());
            in_reply_to = Some(id.clone());
        }
    }
    let subject = match answered {
        Some(a) if !letter.subject.contains(&a.number) => format!("[{number}] {} [{}]", letter.subject, a.number),
        _ => format!("[{number}] {}", letter.subject),
    };
    let mail = OutgoingMail {
        kind: crate::core::outbound::MailKind::Correspondence,
        from: letter.from.to_string(),
        to: letter.to.to_vec(),
        subject,
        text: letter.text.to_string(),
        in_reply_to,
        references,
        auto_submitted: false,
        attach_original: false,
        attachments: Vec::new(),
        message_id,
    };
    let raw = compose_with_files(&mail, None, letter.attachments)?.formatted();
    Ok((raw, mail))
}

fn media_type_of(name: &str) -> &'static str {
    let extension = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "txt" => "text/plain; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::outbound::MailKind;

    fn mail(attach: bool) -> OutgoingMail {
        OutgoingMail {
            kind: MailKind::Acknowledgement,
            from: "University Registry <registry@uni.example>".into(),
            to: vec!["ayse@uni-x.edu.tr".into()],
            subject: "Qeydiyyat: [IN-2026-000123] Müqavilə".into(),
            text: "Hörmətli həmkarlar,\nqeydə alınmışdır.\n".into(),
            in_reply_to: Some("m2@uni-x.edu.tr".into()),
            references: vec!["m0@uni-x.edu.tr".into(), "m2@uni-x.edu.tr".into()],
            auto_submitted: true,
            attach_original: attach,
            attachments: Vec::new(),
            message_id: "chancery.ack.IN-2026-000123.x@uni.example".into(),
        }
    }

    #[test]
    fn headers_of_an_acknowledgement() {
        let bytes = compose(&mail(false), None).unwrap().formatted();
        let letter = crate::core::letter::read_letter(&bytes);
        let header = |name: &str| letter.header_values(name).next().map(str::to_string);
        assert_eq!(letter.subject, "Qeydiyyat: [IN-2026-000123] Müqavilə");
        assert_eq!(letter.message_id.as_deref(), Some("chancery.ack.IN-2026-000123.x@uni.example"));
        assert_eq!(letter.replies_to, vec!["m2@uni-x.edu.tr".to_string(), "m0@uni-x.edu.tr".to_string()]);
        assert_eq!(header("Auto-Submitted").as_deref().map(str::trim), Some("auto-replied"));
        assert_eq!(header(LOOP_HEADER).as_deref().map(str::trim), Some("registry@uni.example"));
        assert!(letter.body_text.contains("Hörmətli həmkarlar"), "{}", letter.body_text);
        assert!(crate::core::reply::is_machine_generated(&letter).is_some(), "our own mail is never answered");
    }

    #[test]
    fn the_original_is_attached_byte_for_byte() {
        let original =
            "From: Partner <partner@uni-x.edu.tr>\r\nSubject: Müqavilə\r\nMessage-ID: <o@x>\r\n\r\n.leading dot\r\nline\r\n".as_bytes();
        let mut forward = mail(true);
        forward.kind = MailKind::Forward;
        let bytes = compose(&forward, Some(original)).unwrap().formatted();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let attached = parsed.parts.iter().find_map(|p| p.message()).expect("a message/rfc822 part");
        assert_eq!(attached.raw_message(), original);
        assert!(String::from_utf8_lossy(&bytes).contains("filename=\"IN-2026-000123.eml\""));
        assert!(matches!(compose(&forward, None), Err(Failure::Permanent(_))));
    }

    #[test]
    fn files_attached_by_reference_arrive_byte_for_byte_under_safe_names() {
        use mail_parser::MimeHeaders;
        let mut pack = mail(false);
        pack.kind = MailKind::Correspondence;
        let letter = b"From: a@x\r\nSubject: s\r\n\r\nbody\r\n".to_vec();
        let binary = b"\x00\x01\xff text\r\nand\n bytes".to_vec();
        let files = [
            AttachedFile { name: "../../etc/Müqavilə \"final\".pdf", media_type: "application/pdf", content: &binary },
            AttachedFile { name: "notes.txt", media_type: "not a media type", content: b"plain\nlines\n" },
            AttachedFile { name: "IN-2026-000001.eml", media_type: "message/rfc822", content: &letter },
        ];
        let bytes = compose_with_attachments(&pack, None, &files).unwrap().formatted();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let parts: Vec<_> = parsed.attachments().collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].attachment_name(), Some("Müqavilə \"final\".pdf"));
        assert_eq!(parts[0].contents(), &binary[..]);
        assert_eq!(parts[1].content_type().map(|t| t.ctype()), Some("application"));
        assert_eq!(parts[1].contents(), b"plain\nlines\n");
        assert_eq!(parts[2].message().expect("a message/rfc822 part").raw_message(), &letter[..]);
        assert!(bytes.is_ascii(), "names are encoded, not raw, in the headers");
    }

    #[test]
    fn bare_line_feeds_become_crlf_and_unsendable_letters_go_base64() {
        assert_eq!(with_crlf(b"a\nb\r\nc\rd"), b"a\r\nb\r\nc\r\nd");
        let mut forward = mail(true);
        let binary = b"From: a@x\r\nSubject: s\r\n\r\n\x00\x01 binary\r\n".to_vec();
        let bytes = compose(&forward, Some(&binary)).unwrap().formatted();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let part = parsed.attachments().next().expect("attached");
        assert_eq!(part.contents(), &binary[..]);
        forward.to = vec!["not an address".into()];
        assert!(matches!(compose(&forward, Some(&binary)), Err(Failure::Permanent(_))));
    }
}
