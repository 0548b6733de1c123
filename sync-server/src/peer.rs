//! The relay's handle on one websocket connection: its bounded outgoing queue and the signal
//! that closes it with a code and reason.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::room::Access;

/// How many outgoing frames may wait for one slow peer before it is disconnected with
/// 1013 "lagging; reconnect to resync" (the room never blocks on a peer).
pub const PEER_QUEUE_FRAMES: usize = 1024;

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
    pub close: Arc<CloseSignal>,
    /// Whether this connection may change the document (from its invite's role).
    pub access: Access,
}

/// Result of offering a frame to a peer's queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// The queue is full: the peer is too slow and must be disconnected.
    Full,
    /// The connection is already going away; its leave follows.
    Gone,
}

impl PeerConn {
    pub fn offer(&self, frame: Bytes) -> Offer {
        match self.frames.try_send(frame) {
            Ok(()) => Offer::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Offer::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Gone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
