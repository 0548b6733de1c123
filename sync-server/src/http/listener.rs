//! Accepting connections, with the limits a relay on the internet needs before a single
//! request is routed: at most `--max-connections` open at once (one past it is closed as soon
//! as it is accepted), and request headers that must arrive within
//! `--request-header-timeout`, so connections that never finish a request cannot pile up.
//!
//! A connection's place is held for as long as its socket is open, a websocket's included:
//! the upgrade hands the socket to the websocket handler, which keeps the [`ConnectionPlace`]
//! it finds in the request until the websocket ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::metrics::METRICS;

/// Limits on connections, from the flags.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once, of every kind.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
}

/// One connection's place among `max_connections`. Cloned into every request of the
/// connection; the place is free once the last clone is gone.
#[derive(Clone)]
pub struct ConnectionPlace(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Cuts its connection when cancelled: the socket is closed at once, whatever is under way,
/// and the answer being sent is dropped (an attachment download past
/// `--attachment-download-timeout` uses it). Found in every request's extensions.
#[derive(Clone)]
pub struct ConnectionCut(pub CancellationToken);

/// File descriptors kept free for everything that is not a client connection (the database,
/// the listener, logs).
const SPARE_FILES: u64 = 64;

/// How long a failed `accept` (out of file descriptors, say) waits before the next one, so
/// the error does not spin the thread.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connection limit this process can really keep: raises the open-file limit to what
/// `max_connections` needs where the hard limit allows, and otherwise lowers the connection
/// limit below the open-file limit (with a warning), so the relay never runs out of file
/// descriptors and stops answering (`/healthz` included).
pub fn usable_connection_limit(max_connections: usize) -> usize {
    let wanted = max_connections as u64 + SPARE_FILES;
    match raise_open_file_limit(wanted) {
        Some(files) if files < wanted => {
            let usable = files.saturating_sub(SPARE_FILES).max(1) as usize;
            tracing::warn!(
                max_connections,
                open_file_limit = files,
                usable,
                "the open-file limit is too low for --max-connections; raise it (ulimit -n) \
                 or lower the flag"
            );
            usable
        }
        _ => max_connections,
    }
}

/// Raises the soft open-file limit towards `wanted` (never past the hard limit) and returns
/// the soft limit in force; `None` where it cannot be read.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
fn raise_open_file_limit(wanted: u64) -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let soft = limit.rlim_cur as u64;
        if soft >= wanted {
            return Some(soft);
        }
        let raised = libc::rlimit {
            rlim_cur: wanted.min(limit.rlim_max as u64) as libc::rlim_t,
            rlim_max: limit.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            Some(raised.rlim_cur as u64)
        } else {
            Some(soft)
        }
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit(_wanted: u64) -> Option<u64> {
    None
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then gives open connections
/// at most `grace` to finish: requests under way complete, idle keep-alive connections close,
/// and websockets close through their own handlers (they watch `shutdown` too).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            // Full: closed at once, so the client fails fast rather than hanging.
            METRICS.connection_over_limit();
            drop(tcp);
            continue;
        };
        tokio::spawn(serve_connection(
            tcp,
            peer,
            router.clone(),
            ConnectionPlace(Arc::new(place)),
            limits.header_timeout,
            shutdown.clone(),
        ));
    }
    drop(listener);
    // Every place back means every connection is over.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, places.acquire_many(all))
        .await
        .is_err()
    {
        tracing::debug!("connections still open at shutdown; dropping them");
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    place: ConnectionPlace,
    header_timeout: Duration,
    shutdown: CancellationToken,
) {
    // Updates are small and latency matters: no Nagle delay.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    let cut = CancellationToken::new();
    let cut_here = ConnectionCut(cut.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(place.clone());
        request.extensions_mut().insert(cut_here.clone());
        router.clone().oneshot(request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        () = cut.cancelled() => {
            tracing::debug!(%peer, "connection cut");
            return;
        }
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = ended {
        tracing::debug!(%error, "connection ended with an error");
    }
}
