//! Checksums as a bag's manifests name them (`manifest-sha256.txt`), computed as the bytes pass
//! through a fixed buffer: a bag's files are never held in memory whole.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256, Sha512};

/// The buffer every copy and check reads through: large enough that a disk streams, and
/// allocated once per writer or check, whatever the size of the bag.
pub(crate) const BUFFER_BYTES: usize = 256 * 1024;

/// The checksum algorithms this module reads; it writes sha256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];

    /// The name in a manifest's file name: `manifest-sha256.txt`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    pub fn manifest(self) -> String {
        format!("manifest-{}.txt", self.name())
    }

    pub fn tag_manifest(self) -> String {
        format!("tagmanifest-{}.txt", self.name())
    }

    pub(crate) fn hasher(self) -> Hasher {
        match self {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
}

pub(crate) enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest in lowercase hex, as manifests write it.
    pub(crate) fn hex(self) -> String {
        match self {
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

/// Which side of a copy failed: the source the caller gave, or the file in the bag.
pub(crate) enum CopyFailure {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `reader` into `writer` through `buffer`, hashing as it goes: (hex digest, octets).
pub(crate) fn copy_hashing(
    mut reader: impl Read,
    writer: &mut impl Write,
    buffer: &mut [u8],
    algorithm: Algorithm,
) -> Result<(String, u64), CopyFailure> {
    let mut hasher = algorithm.hasher();
    let mut octets: u64 = 0;
    loop {
        let read = match reader.read(buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyFailure::Read(e)),
        };
        hasher.update(&buffer[..read]);
        writer.write_all(&buffer[..read]).map_err(CopyFailure::Write)?;
        octets += u64::try_from(read).unwrap_or(u64::MAX);
    }
    Ok((hasher.hex(), octets))
}

/// The digest of everything `reader` gives: (hex digest, octets).
pub(crate) fn digest_of(reader: impl Read, buffer: &mut [u8], algorithm: Algorithm) -> io::Result<(String, u64)> {
    copy_hashing(reader, &mut io::sink(), buffer, algorithm).map_err(|failure| match failure {
        CopyFailure::Read(e) | CopyFailure::Write(e) => e,
    })
}

/// A writer that hashes what passes through it, so that a manifest's own digest (for the tag
/// manifest) is known when it is closed, without reading it again.
pub(crate) struct HashingWriter<W: Write> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W, algorithm: Algorithm) -> HashingWriter<W> {
        HashingWriter { inner, hasher: algorithm.hasher() }
    }

    /// The writer, flushed, and the digest of everything written.
    pub(crate) fn finish(mut self) -> io::Result<(W, String)> {
        self.inner.flush()?;
        Ok((self.inner, self.hasher.hex()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_through_a_small_buffer_hashes_every_byte() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut out = Vec::new();
        let mut buffer = [0u8; 7];
        let Ok((digest, octets)) = copy_hashing(&data[..], &mut out, &mut buffer, Algorithm::Sha256) else {
            panic!("copy failed");
        };
        assert_eq!(out, data);
        assert_eq!(octets, 10_000);
        assert_eq!(digest, hex::encode(Sha256::digest(&data)));
    }

    #[test]
    fn the_hashing_writer_hashes_what_it_wrote() {
        let mut writer = HashingWriter::new(Vec::new(), Algorithm::Sha512);
        writer.write_all(b"abc").unwrap();
        let (bytes, digest) = writer.finish().unwrap();
        assert_eq!(bytes, b"abc");
        assert_eq!(digest, hex::encode(Sha512::digest(b"abc")));
    }
}
