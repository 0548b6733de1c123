//! The relay's handle on one websocket connection: its bounded outgoing queue and the signal
//! that closes it with a code and reason.
//!
//! The queue is bounded twice: in frames ([`PEER_QUEUE_FRAMES`]) and in bytes (the
//! `--max-queued-bytes-per-connection` flag, [`DEFAULT_MAX_QUEUED_BYTES`]). A frame bigger
//! than the byte bound (the whole document for a joiner, a large paste) still goes out, one
//! such frame at a time; the other frames must fit in the bound beside it. A peer past either
//! bound is disconnected as lagging (1013) and resyncs when it reconnects: nothing is lost,
//! and a peer that stopped reading cannot make the relay hold more than that for it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::room::Access;

/// How many outgoing frames may wait for one slow peer before it is disconnected with
/// 1013 "lagging; reconnect to resync" (the room never blocks on a peer).
pub const PEER_QUEUE_FRAMES: usize = 1024;

/// Bytes of outgoing frames that may wait for one peer unless configured otherwise.
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 4 * 1024 * 1024;

/// What is waiting in one peer's queue (queued and not yet written to its socket), shared by
/// the room that fills it and the writer that empties it.
#[derive(Debug)]
pub struct QueueMeter {
    max_bytes: usize,
    /// Bytes of frames within the bound.
    bytes: AtomicUsize,
    /// Frames bigger than the bound (at most one is let in at a time).
    oversize: AtomicUsize,
    queued: AtomicU64,
    written: AtomicU64,
}

impl QueueMeter {
    /// A meter for a queue holding at most `max_bytes` (at least 1) beside one bigger frame.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes: max_bytes.max(1),
            bytes: AtomicUsize::new(0),
            oversize: AtomicUsize::new(0),
            queued: AtomicU64::new(0),
            written: AtomicU64::new(0),
        }
    }

    /// Takes room for a frame of `len` bytes, or says it does not fit.
    fn reserve(&self, len: usize) -> bool {
        if len > self.max_bytes {
            return self
                .oversize
                .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        }
        let mut current = self.bytes.load(Ordering::Acquire);
        loop {
            if current + len > self.max_bytes {
                return false;
            }
            match self.bytes.compare_exchange_weak(
                current,
                current + len,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
    }

    /// Gives back what [`QueueMeter::reserve`] took for a frame of `len` bytes.
    fn release(&self, len: usize) {
        if len > self.max_bytes {
            self.oversize.fetch_sub(1, Ordering::AcqRel);
        } else {
            self.bytes.fetch_sub(len, Ordering::AcqRel);
        }
    }

    /// The writer has written a frame of `len` bytes to the socket.
    pub fn written(&self, len: usize) {
        self.release(len);
        self.written.fetch_add(1, Ordering::AcqRel);
    }

    /// How many frames were ever queued.
    pub fn queued_count(&self) -> u64 {
        self.queued.load(Ordering::Acquire)
    }

    /// How many frames were ever written.
    pub fn written_count(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Bytes waiting, the frame bigger than the bound included.
    pub fn queued_bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }
}

/// A websocket close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

impl From<&Error> for CloseReason {
    fn from(error: &Error) -> Self {
        Self {
            code: error.close_code(),
            reason: error.close_reason(),
        }
    }
}

/// Tells a connection to close. The first reason given wins; [`CloseSignal::finish`] closes
/// without a reason (the peer left on its own).
#[derive(Debug, Default)]
pub struct CloseSignal {
    token: CancellationToken,
    reason: Mutex<Option<CloseReason>>,
}

impl CloseSignal {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn close(&self, reason: CloseReason) {
        {
            let mut slot = self.reason.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() && !self.token.is_cancelled() {
                *slot = Some(reason);
            }
        }
        self.token.cancel();
    }

    pub fn close_with(&self, error: &Error) {
        self.close(error.into());
    }

    pub fn finish(&self) {
        self.token.cancel();
    }

    pub fn is_closed(&self) -> bool {
        self.token.is_cancelled()
    }

    pub fn reason(&self) -> Option<CloseReason> {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub async fn closed(&self) {
        self.token.cancelled().await;
    }
}

/// What a room holds for each connected peer.
#[derive(Debug, Clone)]
pub struct PeerConn {
    pub frames: mpsc::Sender<Bytes>,
    /// What waits in `frames`; the writer reports what it wrote.
    pub meter: Arc<QueueMeter>,
    pub close: Arc<CloseSignal>,
    /// Whether this connection may change the document (from its invite's role).
    pub access: Access,
    /// The invite (grant) this connection opened with: its updates are recorded under it.
    pub invite: Option<crate::access::InviteId>,
}

/// Result of offering a frame to a peer's queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The queue is full (in frames or bytes): the peer is too slow and must be disconnected.
    Full,
    /// The connection is already going away; its leave follows.
    Gone,
}

impl PeerConn {
    pub fn offer(&self, frame: Bytes) -> Offer {
        if self.frames.is_closed() {
            return Offer::Gone;
        }
        let len = frame.len();
        if !self.meter.reserve(len) {
            return Offer::Full;
        }
        match self.frames.try_send(frame) {
            Ok(()) => {
                self.meter.queued.fetch_add(1, Ordering::AcqRel);
                Offer::Queued
            }
            Err(error) => {
                self.meter.release(len);
                match error {
                    mpsc::error::TrySendError::Full(_) => Offer::Full,
                    mpsc::error::TrySendError::Closed(_) => Offer::Gone,
                }
            }
        }
    }

    /// Whether every frame queued so far (up to `count` in all) has been written.
    pub fn has_written(&self, count: u64) -> bool {
        self.meter.written_count() >= count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(max_bytes: usize) -> (PeerConn, mpsc::Receiver<Bytes>) {
        let (frames, rx) = mpsc::channel(PEER_QUEUE_FRAMES);
        let conn = PeerConn {
            frames,
            meter: Arc::new(QueueMeter::new(max_bytes)),
            close: Arc::new(CloseSignal::new()),
            access: Access::ReadOnly,
            invite: None,
        };
        (conn, rx)
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_but_one_bigger_frame_still_goes() {
        let (conn, _rx) = conn(100);
        assert_eq!(conn.offer(Bytes::from(vec![0; 60])), Offer::Queued);
        assert_eq!(conn.offer(Bytes::from(vec![0; 50])), Offer::Full);
        assert_eq!(conn.offer(Bytes::from(vec![0; 40])), Offer::Queued);
        // Bigger than the bound: one at a time, beside the frames within it.
        assert_eq!(conn.offer(Bytes::from(vec![0; 500])), Offer::Queued);
        assert_eq!(conn.offer(Bytes::from(vec![0; 500])), Offer::Full);
        assert_eq!(conn.meter.queued_count(), 3);
        conn.meter.written(60);
        conn.meter.written(40);
        conn.meter.written(500);
        assert!(conn.has_written(3));
        assert_eq!(conn.offer(Bytes::from(vec![0; 500])), Offer::Queued);
        assert_eq!(conn.offer(Bytes::from(vec![0; 100])), Offer::Queued);
        assert_eq!(conn.meter.queued_bytes(), 100);
    }

    #[test]
    fn a_refused_frame_takes_no_room() {
        let (conn, rx) = conn(100);
        drop(rx);
        assert_eq!(conn.offer(Bytes::from(vec![0; 60])), Offer::Gone);
        assert_eq!(conn.meter.queued_bytes(), 0);
    }

    #[test]
    fn first_reason_wins_and_finish_has_none() {
        let signal = CloseSignal::new();
        signal.close_with(&Error::TextFrame);
        signal.close_with(&Error::Lagging);
        assert_eq!(signal.reason().map(|r| r.code), Some(1003));

        let finished = CloseSignal::new();
        finished.finish();
        finished.close_with(&Error::Lagging);
        assert!(finished.is_closed());
        assert_eq!(finished.reason(), None);
    }
}
