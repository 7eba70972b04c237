//! Attachments, stored once: inside the raw message they came in. The register keeps each one's
//! position, name, media type, size and sha256; its bytes are decoded again from the raw
//! message when someone asks for them (`core::letter::attachment_in`, the reading intake used),
//! and checked against what the register says before they are handed out.

use futures::TryStreamExt;
use sqlx::{AnyPool, Row};

use super::{Damage, Problem, Result, Store, StoreError, StoredAttachment};
use crate::core::letter::{Attachment, attachment_in, attachments_in};
use crate::core::reference::Reference;

/// What the register says of one attachment.
struct Registered {
    position: i64,
    name: String,
    media_type: String,
    size: i64,
    sha256: String,
}

impl Registered {
    fn from_row(row: &sqlx::any::AnyRow, first: usize) -> Result<Registered> {
        Ok(Registered {
            position: row.try_get(first)?,
            name: row.try_get(first + 1)?,
            media_type: row.try_get(first + 2)?,
            size: row.try_get(first + 3)?,
            sha256: row.try_get(first + 4)?,
        })
    }

    /// Why the decoded bytes are not the registered attachment, if they are not.
    fn mismatch(&self, decoded: Option<&Attachment>) -> Option<String> {
        let Some(decoded) = decoded else {
            return Some("it is no longer in the stored message".to_string());
        };
        let size = i64::try_from(decoded.content.len()).unwrap_or(i64::MAX);
        (decoded.sha256 != self.sha256 || size != self.size)
            .then(|| format!("sha256 {} ({size} bytes) differs from the register's {} ({} bytes)", decoded.sha256, self.sha256, self.size))
    }
}

impl Store {
    /// An attachment of a document, decoded from its stored message, byte for byte what was
    /// registered.
    pub async fn attachment(&self, number: &str, position: i64) -> Result<StoredAttachment> {
        let row = sqlx::query("SELECT id, disposal, disposed_by, disposed_on FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
        let document_id: i64 = row.try_get(0)?;
        if let Some(disposed) = super::Disposed::from_columns(row.try_get(1)?, row.try_get(2)?, row.try_get(3)?) {
            return Err(super::Refusal::Disposed { number: number.to_string(), line: disposed.line() }.into());
        }
        decoded(&self.pool, document_id, position, number).await
    }
}

/// Attachment `position` of a document, decoded from its raw message and checked against the
/// register; `label` names the document in errors.
pub(super) async fn decoded(pool: &AnyPool, document_id: i64, position: i64, label: &str) -> Result<StoredAttachment> {
    let row = sqlx::query(
        "SELECT a.position, a.name, a.media_type, a.size, a.sha256, r.bytes FROM attachments a \
         LEFT JOIN raw_messages r ON r.document_id = a.document_id WHERE a.document_id = $1 AND a.position = $2",
    )
    .bind(document_id)
    .bind(position)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| StoreError::NotFound(Reference::Attachment { of: label.to_string(), position }))?;
    let registered = Registered::from_row(&row, 0)?;
    let raw: Vec<u8> = row.try_get::<Option<Vec<u8>>, _>(5)?.ok_or_else(|| Damage::StoredMessageMissing { of: label.to_string() })?;
    drop(row);
    let index = usize::try_from(position).unwrap_or(0);
    // Reading MIME is CPU work: off the threads that drive SQL.
    let attachment = tokio::task::spawn_blocking(move || attachment_in(&raw, index))
        .await
        .map_err(|source| Damage::Undecodable { what: format!("attachment {position} of {label}"), source })?;
    if let Some(why) = registered.mismatch(attachment.as_ref()) {
        return Err(Damage::AttachmentMismatch { position, of: label.to_string(), why }.into());
    }
    let content = attachment.map(|a| a.content).unwrap_or_default();
    Ok(StoredAttachment { name: registered.name, media_type: registered.media_type, content })
}

/// Decodes every document's attachments from its stored message and reports each one whose
/// bytes are not what the register says (or that is gone). Returns how many were checked.
pub(super) async fn verify(pool: &AnyPool, problems: &mut Vec<Problem>) -> Result<usize> {
    // The attachments in order of their documents, each document's raw message once, beside
    // its first attachment; the raw messages of letters without files are not read.
    let mut rows = sqlx::query(
        "SELECT d.number, a.document_id, a.position, a.name, a.media_type, a.size, a.sha256, \
         CASE WHEN a.position = (SELECT MIN(f.position) FROM attachments f WHERE f.document_id = a.document_id) \
         THEN r.bytes END, r.document_id \
         FROM attachments a JOIN documents d ON d.id = a.document_id LEFT JOIN raw_messages r ON r.document_id = a.document_id \
         ORDER BY a.document_id, a.position",
    )
    .fetch(pool);
    let mut checked = 0;
    let mut current: Option<(i64, Vec<Attachment>)> = None;
    while let Some(row) = rows.try_next().await? {
        checked += 1;
        let number: String = row.try_get(0)?;
        let document_id: i64 = row.try_get(1)?;
        let registered = Registered::from_row(&row, 2)?;
        let raw: Option<Vec<u8>> = row.try_get(7)?;
        let has_raw = row.try_get::<Option<i64>, _>(8)?.is_some();
        let item = format!("attachment {} ({})", registered.position, registered.name);
        if !has_raw {
            problems.push(Problem { number, item, detail: "the stored message it is decoded from is missing".into() });
            continue;
        }
        if current.as_ref().is_none_or(|(id, _)| *id != document_id) {
            let raw = raw.unwrap_or_default();
            let decoded = tokio::task::spawn_blocking(move || attachments_in(&raw))
                .await
                .map_err(|source| Damage::Undecodable { what: format!("the attachments of {number}"), source })?;
            current = Some((document_id, decoded));
        }
        let decoded = current.as_ref().and_then(|(_, all)| all.get(usize::try_from(registered.position - 1).ok()?));
        if let Some(detail) = registered.mismatch(decoded) {
            problems.push(Problem { number, item, detail });
        } else if decoded.is_some_and(|d| d.media_type != registered.media_type || d.name != registered.name) {
            problems.push(Problem { number, item, detail: "its name or media type differs from the register's".into() });
        }
    }
    Ok(checked)
}
