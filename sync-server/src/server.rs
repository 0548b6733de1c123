//! Starting and stopping the relay: open storage, bind, serve, shut down gracefully.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::access::gate::Gate;
use crate::config::Config;
use crate::error::Error;
use crate::http::client_addr::TrustedProxies;
use crate::http::listener::{self, ConnectionLimits};
use crate::http::ws::AddressLimit;
use crate::http::{app, AppState};
use crate::registry::Registry;
use crate::store::{Grants, PostgresStore, SqliteStore, Store};

/// How long shutdown waits for rooms to compact and unload.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The backend the flags ask for: PostgreSQL with `--database-url`, else the SQLite file in
/// `--data`. Opened on a blocking thread (both block; the PostgreSQL client runs a small
/// runtime of its own, which cannot start inside an async task).
async fn open_storage(config: &Config) -> Result<(Arc<dyn Store>, Arc<dyn Grants>), Error> {
    let url = config.database_url.clone().filter(|u| !u.trim().is_empty());
    let database = config.database_path();
    let pool_size = usize::try_from(config.database_pool_size).unwrap_or(usize::MAX);
    let opened = tokio::task::spawn_blocking(move || -> Result<_, Error> {
        Ok(match url {
            Some(url) => {
                let store = Arc::new(PostgresStore::connect_pooled(&url, pool_size)?);
                (
                    Arc::clone(&store) as Arc<dyn Store>,
                    store as Arc<dyn Grants>,
                )
            }
            None => {
                let store = Arc::new(SqliteStore::open(&database)?);
                (
                    Arc::clone(&store) as Arc<dyn Store>,
                    store as Arc<dyn Grants>,
                )
            }
        })
    })
    .await
    .map_err(|e| Error::Storage(format!("could not open storage: {e}")))?;
    opened
}

/// Runs the relay until SIGTERM or ctrl-c.
///
/// Once the socket is bound, prints exactly `listening on http://ADDR` (the bound address,
/// so `--listen 127.0.0.1:0` reveals its port) as one line on stdout, and logs it too.
pub async fn run(config: Config) -> Result<(), Error> {
    let redis_url = config.redis_url.clone().filter(|u| !u.trim().is_empty());
    if redis_url.is_some()
        && config
            .database_url
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
    {
        return Err(Error::BadRequest(
            "--redis-url needs --database-url: relays share incidents through one PostgreSQL database (the SQLite file in --data belongs to one relay)".into(),
        ));
    }
    let (store, grants) = open_storage(&config).await?;
    let (registry, rooms) = Registry::on_this_thread(
        Arc::clone(&store),
        usize::try_from(config.max_rooms_in_memory).unwrap_or(usize::MAX),
    );
    registry.set_compact_after_updates(
        usize::try_from(config.compact_after_updates).unwrap_or(usize::MAX),
    );
    tokio::task::spawn_local(rooms);
    crate::http::history::set_page_size(
        usize::try_from(config.history_page_size).unwrap_or(usize::MAX),
    );
    crate::http::attribution::set_max_entries(
        usize::try_from(config.attribution_max_entries).unwrap_or(usize::MAX),
    );
    tokio::spawn(watch_storage(Arc::clone(&store)));
    crate::http::blobs::set_limits(
        config.max_attachment_bytes,
        config.max_attachment_bytes_per_incident,
    );
    crate::http::blobs::set_timeouts(
        std::time::Duration::from_secs(config.attachment_upload_timeout),
        std::time::Duration::from_secs(config.attachment_wait_timeout),
    );
    crate::http::blobs::set_download_bounds(
        std::time::Duration::from_secs(config.attachment_download_timeout),
        usize::try_from(config.max_attachment_downloads).unwrap_or(usize::MAX),
    );
    crate::http::blobs::set_client_shares(
        usize::try_from(config.max_attachment_downloads_per_client).unwrap_or(usize::MAX),
        usize::try_from(config.max_attachment_uploads_per_client).unwrap_or(usize::MAX),
    );
    if let Some(days) = config.record_retention_days {
        tokio::spawn(crate::http::history::keep_record_for(
            Arc::clone(&store),
            days,
        ));
    }
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| Error::io(format!("could not listen on {}", config.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("could not read the bound address", e))?;
    check_creation_guard(&config, addr)?;
    let shutdown = CancellationToken::new();
    let gate = Gate::new(grants, config.create_secret.clone());
    gate.limit_creations(config.max_incidents_per_hour);
    gate.limit_invite_failures(config.max_failures_per_invite);
    let cluster = match &redis_url {
        Some(url) => {
            let node = config
                .node_id
                .clone()
                .unwrap_or_else(crate::cluster::random_node_id);
            tracing::info!(%node, "sharing incidents with the other relays through Redis");
            Some(crate::cluster::Cluster::start(
                url,
                node,
                usize::try_from(config.redis_max_message_bytes).unwrap_or(usize::MAX),
                &registry,
                &gate,
            )?)
        }
        None => None,
    };
    let state = AppState {
        registry: registry.clone(),
        gate,
        public_url: link_base(config.public_url.as_deref(), addr),
        connections: AddressLimit::new(config.max_connections_per_address),
        metrics_token: config.metrics_token.clone().filter(|t| !t.is_empty()),
        trusted_proxies: Arc::new(
            TrustedProxies::parse(&config.trusted_proxy)
                .map_err(|e| Error::BadRequest(format!("--trusted-proxy: {e}")))?,
        ),
        idle_after: Duration::from_secs(config.idle_timeout),
        dist: config.dist.clone(),
        max_queued_bytes: usize::try_from(config.max_queued_bytes_per_connection)
            .unwrap_or(usize::MAX),
        shutdown: shutdown.clone(),
    };

    tracing::info!(
        data = %config.data.display(),
        dist = %config.dist.display(),
        "listening on http://{addr}"
    );
    announce(&format!("listening on http://{addr}"));

    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let limits = ConnectionLimits {
        max_connections: listener::usable_connection_limit(
            usize::try_from(config.max_connections).unwrap_or(usize::MAX),
        ),
        header_timeout: Duration::from_secs(config.request_header_timeout),
    };
    listener::serve(
        listener,
        app(state),
        limits,
        shutdown.clone(),
        SHUTDOWN_GRACE,
    )
    .await;

    if let Some(cluster) = &cluster {
        crate::cluster::announce_leaving(cluster);
        // The outbox is written by its own task: give it a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if registry.wait_until_empty(SHUTDOWN_GRACE).await {
        tracing::info!("all rooms stored; bye");
    } else {
        tracing::warn!(
            rooms = registry.open_rooms(),
            "rooms still open at exit; their updates are already stored"
        );
    }
    Ok(())
}

/// Asks the storage whether it answers, every [`STORAGE_CHECK_UP`] while it does and every
/// [`STORAGE_CHECK_DOWN`] while it does not, so `/healthz` and `firebreak_storage_up` follow
/// PostgreSQL going away and coming back even when no client writes.
async fn watch_storage(store: Arc<dyn Store>) {
    let mut asked = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(STORAGE_CHECK_DOWN).await;
        if crate::metrics::METRICS.storage_is_up() && asked.elapsed() < STORAGE_CHECK_UP {
            continue;
        }
        asked = tokio::time::Instant::now();
        let store = Arc::clone(&store);
        // A failure marks the storage down where it is seen (and is logged there).
        let _ = tokio::task::spawn_blocking(move || store.ping()).await;
    }
}

/// How often a storage that answers is asked again.
const STORAGE_CHECK_UP: Duration = Duration::from_secs(5);
/// How often a storage that does not answer is asked again.
const STORAGE_CHECK_DOWN: Duration = Duration::from_secs(1);

/// Where invite links point: `--public-url`, else the address the relay listens on, never
/// a request's `Host` (anyone can send any `Host`, and the link would send the invited
/// person to their site). Listening on every address (`0.0.0.0`, `::`) there is no one
/// address to name: links are then relative to the site (`/incident/…`).
fn link_base(public_url: Option<&str>, addr: std::net::SocketAddr) -> Option<String> {
    match public_url.map(|u| u.trim_end_matches('/')) {
        Some(url) if !url.is_empty() => Some(url.to_owned()),
        _ if addr.ip().is_unspecified() => None,
        _ => Some(format!("http://{addr}")),
    }
}

/// A relay that other machines can reach creates incidents only for holders of its creation
/// secret, unless `--open-creation` says anyone may.
fn check_creation_guard(config: &Config, addr: std::net::SocketAddr) -> Result<(), Error> {
    let has_secret = config
        .create_secret
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    let ip = addr.ip().to_canonical();
    if ip.is_loopback() || has_secret || config.open_creation {
        return Ok(());
    }
    Err(Error::OpenCreation {
        listen: addr.to_string(),
    })
}

fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        tracing::warn!(%error, "could not write the listening line to stdout");
    }
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: closing connections and storing rooms");
    shutdown.cancel();
}
