//! The record: every update the relay accepted for an incident, kept apart from the live log
//! (which compaction folds into snapshots) and never rewritten. Each record is numbered per
//! incident (1, 2, 3…) and chained to the one before by a SHA-256, so that a changed byte, a
//! removed row or a reordering shows up when the chain is walked again
//! ([`crate::verify`], `sync-server verify`).
//!
//! Chain layout (version 1): a record's chain hash is SHA-256 over, in this order,
//!
//! | bytes | field |
//! |---|---|
//! | 32 | the previous record's chain hash (32 zero bytes before record 1) |
//! | 8  | seq, unsigned big-endian |
//! | 8  | receive time in ms since the Unix epoch, signed big-endian |
//! | 1  | length of the invite id in bytes (0: no invite) |
//! | n  | the invite id, ASCII |
//! | 32 | SHA-256 of the update's bytes (Yjs v1) |
//!
//! Every [`CHECKPOINT_EVERY`] records the chain head (seq, chain hash, time) is also written
//! to a checkpoint table. Retention drops records from the chain's start only, and keeps the
//! last dropped record's head as the chain's base, so the rest still verifies.

use sha2::{Digest, Sha256};

use crate::access::InviteId;

/// Records between two checkpoints of the chain head.
pub const CHECKPOINT_EVERY: u64 = 1000;

/// One update as it arrived: its bytes and the invite of the connection that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub update: Vec<u8>,
    /// The grant's invite id (the owner's own grant has one too); `None` for updates that
    /// came from no connection (imports, tests).
    pub invite: Option<InviteId>,
}

/// A position in an incident's chain: a record's seq, chain hash and receive time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: u64,
    pub chain_sha256: [u8; 32],
    pub received_at_ms: i64,
}

/// One stored record, with its update's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub received_at_ms: i64,
    pub invite: Option<InviteId>,
    pub update: Vec<u8>,
    pub update_sha256: [u8; 32],
    pub chain_sha256: [u8; 32],
}

impl Record {
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            chain_sha256: self.chain_sha256,
            received_at_ms: self.received_at_ms,
        }
    }
}

/// A record without its update's bytes: what the history API lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    pub seq: u64,
    pub received_at_ms: i64,
    pub invite: Option<InviteId>,
    pub size: u64,
    pub update_sha256: [u8; 32],
    pub chain_sha256: [u8; 32],
}

impl RecordMeta {
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            chain_sha256: self.chain_sha256,
            received_at_ms: self.received_at_ms,
        }
    }

    /// The whole record, with its update's bytes.
    pub fn with_update(self, update: Vec<u8>) -> Record {
        Record {
            seq: self.seq,
            received_at_ms: self.received_at_ms,
            invite: self.invite,
            update,
            update_sha256: self.update_sha256,
            chain_sha256: self.chain_sha256,
        }
    }
}

/// The chain hash of a record (see the module documentation for the layout).
pub fn chain_hash(
    previous: &[u8; 32],
    seq: u64,
    received_at_ms: i64,
    invite: Option<&InviteId>,
    update_sha256: &[u8; 32],
) -> [u8; 32] {
    let invite = invite.map_or("", InviteId::as_str).as_bytes();
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(seq.to_be_bytes());
    hasher.update(received_at_ms.to_be_bytes());
    // Invite ids are short ASCII; one byte holds the length.
    hasher.update([u8::try_from(invite.len()).unwrap_or(u8::MAX)]);
    hasher.update(invite);
    hasher.update(update_sha256);
    hasher.finalize().into()
}

/// The records that follow `head` (the chain's last record or base; `None` for a chain
/// never written) for `sent`, all received at `received_at_ms`: their metadata, in order
/// (the bytes stay in `sent`).
pub fn next_records<'a>(
    head: Option<ChainHead>,
    sent: impl IntoIterator<Item = &'a Sent>,
    received_at_ms: i64,
) -> Vec<RecordMeta> {
    let (mut seq, mut previous) = head.map_or((0, [0u8; 32]), |h| (h.seq, h.chain_sha256));
    sent.into_iter()
        .map(|s| {
            seq += 1;
            let update_sha256: [u8; 32] = Sha256::digest(&s.update).into();
            let chain_sha256 = chain_hash(
                &previous,
                seq,
                received_at_ms,
                s.invite.as_ref(),
                &update_sha256,
            );
            previous = chain_sha256;
            RecordMeta {
                seq,
                received_at_ms,
                invite: s.invite.clone(),
                size: s.update.len() as u64,
                update_sha256,
                chain_sha256,
            }
        })
        .collect()
}

/// Whether a checkpoint follows the record with this seq.
pub fn is_checkpoint(seq: u64) -> bool {
    seq.is_multiple_of(CHECKPOINT_EVERY)
}

/// Lower-case hex of a hash.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
