//! The BagIt adapter: archive packages as RFC 8493 (BagIt 1.0) defines them, written and
//! checked on disk. It knows files and checksums, nothing of the register: the archive's export
//! decides what goes in, and reads back what a valid bag holds.
//!
//! A bag is a folder: `bagit.txt` (the declaration), `bag-info.txt` (who made it, when, its
//! size as `Payload-Oxum`, what it is), `manifest-sha256.txt` (each payload file's sha256),
//! `tagmanifest-sha256.txt` (the same for those three), and the payload under `data/`.
//!
//! - `writer`: `BagWriter` streams files into a bag with one fixed buffer, so memory does not
//!   grow with the bag, and writes the tag files when finished.
//! - `validate`: checks a bag (every file there, listed, and matching) and opens its files.
//! - `names`: file names from outside made safe (`safe_component`), kept apart in a folder
//!   (`UniqueNames`), and the paths they make (`PayloadPath`); manifest path encoding.
//! - `tags`: `bagit.txt` and `bag-info.txt` (`BagInfo`); `manifest`: manifest lines, read back.
//! - `digest`: sha256 and sha512 through a fixed buffer; `error`: `BagError`.

mod digest;
mod error;
mod manifest;
mod names;
mod tags;
mod validate;
mod writer;

pub use error::{BagError, FieldProblem};
pub use names::{FALLBACK_NAME, MAX_NAME_BYTES, PayloadPath, UniqueNames, decode_manifest_path, encode_manifest_path, safe_component};
pub use tags::BagInfo;
pub use validate::{ManifestEntry, PayloadEntries, ValidBag, validate};
pub use writer::{BagSummary, BagWriter, FileDigest};

#[cfg(test)]
mod tests;
