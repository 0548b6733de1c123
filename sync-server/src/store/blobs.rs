//! Evidence attachments: a content-addressed store of files per incident (screenshots, log
//! extracts), named by the SHA-256 of their bytes. The incident's document holds the hash
//! and what it shows about the file; the bytes live here, beside the incident's other rows,
//! and go with it when it is deleted.
//!
//! A file is stored once per incident: storing the same hash again changes nothing (the first
//! upload's type, uploader and time are kept). The HTTP side (`http/blobs.rs`) checks the
//! hash, the size and the claimed type before anything reaches a backend; a backend checks
//! the incident's total ([`Blobs::put_blob`]'s `incident_limit`) in the same transaction as
//! the insert, so two uploads at once cannot both pass it.

use crate::error::Error;
use crate::incident_id::IncidentId;

/// What is kept about a stored file besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// The SHA-256 of the bytes.
    pub sha256: [u8; 32],
    /// One of [`CONTENT_TYPES`].
    pub content_type: String,
    /// The bytes' length.
    pub size: u64,
    /// The invited name of who uploaded it first.
    pub added_by: String,
    /// When it was first uploaded, ms since 1970 (UTC).
    pub added_at_ms: i64,
}

/// What [`Blobs::put_blob`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// Stored now.
    Added,
    /// The incident already had this hash; nothing changed.
    AlreadyThere,
    /// Nothing stored: the incident's files take `stored` bytes, and with these they would
    /// pass the limit.
    OverIncidentLimit { stored: u64 },
    /// Nothing stored: the incident was deleted.
    IncidentDeleted,
}

/// The content types a file is stored with; any other claim is stored as
/// `application/octet-stream`. None of them is a document a browser would run (no HTML, no
/// SVG).
pub const CONTENT_TYPES: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "application/octet-stream",
];

/// A backend's attachment store. Every method is atomic, as [`super::Store`]'s are.
pub trait Blobs: Send + Sync {
    /// Stores `bytes` (whose SHA-256 and length are `meta`'s) for `incident`, unless it has
    /// this hash already, it was deleted, or its files would then take more than
    /// `incident_limit` bytes. Check and insert are one transaction.
    fn put_blob(
        &self,
        incident: &IncidentId,
        meta: &BlobMeta,
        bytes: &[u8],
        incident_limit: u64,
    ) -> Result<Put, Error>;

    /// What is kept about the file `sha256` of `incident`, without its bytes.
    fn blob_meta(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<BlobMeta>, Error>;

    /// The file `sha256` of `incident`, with its bytes.
    fn blob(
        &self,
        incident: &IncidentId,
        sha256: &[u8; 32],
    ) -> Result<Option<(BlobMeta, Vec<u8>)>, Error>;

    /// Bytes taken by the files of `incident`.
    fn blob_bytes(&self, incident: &IncidentId) -> Result<u64, Error>;
}

/// The claimed `Content-Type` as stored: its media type (parameters dropped, lower case) if
/// it is one of [`CONTENT_TYPES`], else `application/octet-stream`.
pub fn sanitised_type(claimed: Option<&str>) -> &'static str {
    let media = claimed
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    CONTENT_TYPES
        .into_iter()
        .find(|t| *t == media)
        .unwrap_or("application/octet-stream")
}

/// For an image type, whether `bytes` start with that format's signature; `Err` names the
/// format they should have been. Other types are not checked.
pub fn check_signature(content_type: &str, bytes: &[u8]) -> Result<(), &'static str> {
    let (format, matches) = match content_type {
        "image/png" => ("PNG", bytes.starts_with(b"\x89PNG\r\n\x1a\n")),
        "image/jpeg" => ("JPEG", bytes.starts_with(&[0xff, 0xd8, 0xff])),
        "image/gif" => (
            "GIF",
            bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        ),
        "image/webp" => (
            "WebP",
            bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
        ),
        _ => return Ok(()),
    };
    if matches {
        Ok(())
    } else {
        Err(format)
    }
}

/// A hash as written in a path: 64 hex digits (either case).
pub fn parse_sha256(raw: &str) -> Option<[u8; 32]> {
    if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&raw[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_outside_the_list_are_stored_as_octet_stream() {
        assert_eq!(sanitised_type(Some("IMAGE/PNG; x=1")), "image/png");
        assert_eq!(
            sanitised_type(Some("text/plain;charset=utf-8")),
            "text/plain"
        );
        for risky in ["image/svg+xml", "text/html", "application/javascript", ""] {
            assert_eq!(sanitised_type(Some(risky)), "application/octet-stream");
        }
        assert_eq!(sanitised_type(None), "application/octet-stream");
    }

    #[test]
    fn image_claims_need_their_signature() {
        assert_eq!(
            check_signature("image/png", b"\x89PNG\r\n\x1a\nrest"),
            Ok(())
        );
        assert_eq!(check_signature("image/png", b"<svg>"), Err("PNG"));
        assert_eq!(
            check_signature("image/jpeg", &[0xff, 0xd8, 0xff, 0]),
            Ok(())
        );
        assert_eq!(check_signature("image/gif", b"GIF89a.."), Ok(()));
        assert_eq!(
            check_signature("image/webp", b"RIFF\0\0\0\0WEBPVP8 "),
            Ok(())
        );
        assert_eq!(check_signature("image/webp", b"RIFF"), Err("WebP"));
        assert_eq!(check_signature("text/plain", b"anything"), Ok(()));
    }

    #[test]
    fn hashes_are_64_hex_digits() {
        let hex = "ab".repeat(32);
        assert_eq!(parse_sha256(&hex), Some([0xab; 32]));
        assert_eq!(parse_sha256(&hex.to_uppercase()), Some([0xab; 32]));
        assert_eq!(parse_sha256(&hex[1..]), None);
        assert_eq!(parse_sha256(&format!("{}zz", &hex[2..])), None);
    }
}
