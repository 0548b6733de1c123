//! Command-line flags, each with an environment-variable fallback.

use std::path::PathBuf;

use clap::Parser;

/// Name of the SQLite file inside the data directory.
pub const DATABASE_FILE: &str = "firebreak.sqlite3";

/// How the relay is started: `sync-server --listen ADDR --data DIR --dist DIR`.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "sync-server",
    version,
    about = "Firebreak relay: serves the app and syncs incidents (Yjs websocket protocol)",
    after_help = "Also: `sync-server verify --data DIR [--incident ID]` walks each incident's hash-chained record and exits 1 at the first altered, removed or reordered record. `sync-server precompress DIST` writes DIST's brotli and gzip copies (after each `trunk build`)."
)]
pub struct Config {
    /// Address to listen on (HOST:PORT). Port 0 picks a free port; the chosen address is
    /// printed as `listening on http://ADDR`.
    #[arg(long, env = "FIREBREAK_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: String,

    /// Directory holding the database (`firebreak.sqlite3`); created if missing.
    #[arg(long, env = "FIREBREAK_DATA", default_value = "./data")]
    pub data: PathBuf,

    /// Directory with the built app (trunk's `dist/`). If it is missing the relay still
    /// syncs, and `/` says the app is not built.
    #[arg(long, env = "FIREBREAK_DIST", default_value = "./dist")]
    pub dist: PathBuf,

    /// When set, creating an incident (`POST /api/incidents`) needs
    /// `Authorization: Bearer SECRET`: for relays reachable from the internet.
    #[arg(long, env = "FIREBREAK_CREATE_SECRET", hide_env_values = true)]
    pub create_secret: Option<String>,

    /// Most websocket connections open at once from one client address; more are closed
    /// with 1008. 0 means no limit (for load tests from one machine).
    #[arg(
        long,
        env = "FIREBREAK_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 512
    )]
    pub max_connections_per_address: usize,

    /// When set, `/metrics` is served to whoever sends `Authorization: Bearer TOKEN`, from
    /// anywhere. Without it, `/metrics` is served only to clients on this machine (a loopback
    /// address; behind a `--trusted-proxy`, the real client's address counts).
    #[arg(long, env = "FIREBREAK_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// The reverse proxy (or proxies) in front of the relay, as addresses or blocks
    /// (`127.0.0.1`, `10.0.0.0/8`), comma-separated or repeated. Only on connections from
    /// these does the relay take the client's address from `X-Forwarded-For`; without it,
    /// every client behind a proxy shares the proxy's address in every per-address limit.
    #[arg(long, env = "FIREBREAK_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<String>,

    /// Incidents one client address may create an hour (each takes disk space for good);
    /// more are refused with 429 until its hour is over. 0 means no limit.
    #[arg(long, env = "FIREBREAK_MAX_INCIDENTS_PER_HOUR", default_value_t = crate::access::gate::DEFAULT_INCIDENTS_PER_HOUR)]
    pub max_incidents_per_hour: u32,

    /// Most connections open at once, of every kind (page loads, API calls, websockets); one
    /// more is closed as soon as it arrives. The relay raises its open-file limit to fit, or
    /// lowers this to what that limit allows (and says so at start).
    #[arg(long, env = "FIREBREAK_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Seconds a client has to send a request's headers; a connection that has not sent a
    /// whole request head by then is closed.
    #[arg(long, env = "FIREBREAK_REQUEST_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_header_timeout: u64,

    /// Seconds after which a connection that sent nothing, not even an answer to the relay's
    /// pings (sent every third of this), is closed with 1001.
    #[arg(long, env = "FIREBREAK_IDLE_TIMEOUT", default_value_t = 75, value_parser = clap::value_parser!(u64).range(3..))]
    pub idle_timeout: u64,

    /// Most incident documents held in memory at once. Past it, the least recently active
    /// incident's document is stored and dropped from memory; its people stay connected and
    /// it is loaded again at its next message. Nobody is refused.
    #[arg(long, env = "FIREBREAK_MAX_ROOMS_IN_MEMORY", default_value_t = crate::registry::DEFAULT_MAX_IN_MEMORY as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rooms_in_memory: u64,

    /// Wrong secrets that may name one invite per minute, from any number of addresses;
    /// past it, wrong secrets for that invite get 4429 / 429 until the minute is over. The
    /// invite's own holder is let in all along. 0 means no limit.
    #[arg(long, env = "FIREBREAK_MAX_FAILURES_PER_INVITE", default_value_t = crate::access::limiter::DEFAULT_MAX_FAILURES_PER_INVITE)]
    pub max_failures_per_invite: u32,
    /// Lets anyone who reaches the relay create incidents when it listens on an address other
    /// machines can reach and no `--create-secret` is set. Without it such a relay refuses to
    /// start: on a network, creation is for holders of the secret unless this says otherwise.
    #[arg(long, env = "FIREBREAK_OPEN_CREATION")]
    pub open_creation: bool,

    /// The address people open Firebreak at (e.g. `https://firebreak.example.org`), used in
    /// invite links the API returns. Without it, links use the address the relay listens on
    /// (relative links, `/incident/…`, when it listens on every address); never the request's
    /// `Host`, which the sender chooses.
    #[arg(long, env = "FIREBREAK_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Bytes of outgoing frames that may wait for one connection that reads slowly (or not
    /// at all); past it the connection is closed with 1013 and the client resyncs when it
    /// reconnects. One frame bigger than this (the whole document for a new joiner) is still
    /// sent, one at a time.
    #[arg(long, env = "FIREBREAK_MAX_QUEUED_BYTES_PER_CONNECTION", default_value_t = crate::peer::DEFAULT_MAX_QUEUED_BYTES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_queued_bytes_per_connection: u64,

    /// Updates an incident's log may grow by while people stay connected before the relay
    /// compacts it (the whole document stored as one snapshot; updates arriving meanwhile stay
    /// in the log). A log that grows by as many bytes as the last snapshot (at least 1 MiB)
    /// is compacted too. An incident is always compacted when its last person leaves.
    #[arg(long, env = "FIREBREAK_COMPACT_AFTER_UPDATES", default_value_t = crate::registry::DEFAULT_COMPACT_AFTER_UPDATES as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub compact_after_updates: u64,

    /// Days the record (every accepted update, hash-chained; see `GET …/history`) is kept.
    /// Records older than this are dropped from the start of each chain, once an hour; the
    /// last dropped record's hash is kept so `sync-server verify` still walks the rest.
    /// Without it, the record is kept forever. Fractions are allowed (`0.5` is twelve hours);
    /// the check runs at start and then hourly.
    #[arg(long, env = "FIREBREAK_RECORD_RETENTION_DAYS", value_parser = retention_days)]
    pub record_retention_days: Option<f64>,

    /// Most records one page of `GET /api/incidents/{id}/history` lists; the answer's `next`
    /// asks for the following page.
    #[arg(long, env = "FIREBREAK_HISTORY_PAGE_SIZE", default_value_t = crate::http::history::DEFAULT_HISTORY_PAGE as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub history_page_size: u64,

    /// Most entries one answer of `GET /api/incidents/{id}/history/attribution` lists (the
    /// most recently changed); the answer's `left_out` counts the rest.
    #[arg(long, env = "FIREBREAK_ATTRIBUTION_MAX_ENTRIES", default_value_t = crate::http::attribution::DEFAULT_MAX_ENTRIES as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub attribution_max_entries: u64,

    /// Store everything in PostgreSQL instead of the SQLite file in `--data`:
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (or `host=… dbname=…`). The relay brings the
    /// schema to its version at start and refuses a database a newer relay wrote.
    #[arg(long, env = "FIREBREAK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Share incidents live with the other relays on the same `--database-url` through Redis
    /// pub/sub: `redis://[:PASSWORD@]HOST:PORT[/DB]`. PostgreSQL stays the truth; Redis only
    /// carries what a relay stored to the others, and while it is unreachable each relay
    /// serves its own connections and catches up from PostgreSQL when it is back. Needs
    /// `--database-url` (SQLite is one machine).
    #[arg(long, env = "FIREBREAK_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// This relay's name among the others (`--redis-url`): 1 to 64 letters, digits, `-`,
    /// `_` or `.`. Random at each start when not given.
    #[arg(long, env = "FIREBREAK_NODE_ID", value_parser = crate::cluster::check_node_id)]
    pub node_id: Option<String>,

    /// Largest message published to (or taken from) Redis. A batch of updates bigger than
    /// this is announced without its bytes, and the other relays read it from PostgreSQL.
    #[arg(long, env = "FIREBREAK_REDIS_MAX_MESSAGE_BYTES", default_value_t = crate::cluster::DEFAULT_MAX_MESSAGE_BYTES as u64, value_parser = clap::value_parser!(u64).range(1024..=(crate::http::ws::MAX_MESSAGE_BYTES as u64)))]
    pub redis_max_message_bytes: u64,

    /// Most connections the relay opens to PostgreSQL (`--database-url`) at once; a store
    /// call waits (up to 30 s) for one when all are in use. Each relay of a deployment
    /// counts against PostgreSQL's `max_connections`.
    #[arg(long, env = "FIREBREAK_DATABASE_POOL_SIZE", default_value_t = crate::store::postgres::DEFAULT_POOL_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub database_pool_size: u64,

    /// Largest evidence attachment (`PUT /api/incidents/{id}/blobs/{sha256}`), in bytes: a
    /// bigger one is refused with 413 before more than this is read.
    #[arg(long, env = "FIREBREAK_MAX_ATTACHMENT_BYTES", default_value_t = crate::http::blobs::DEFAULT_MAX_ATTACHMENT_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_attachment_bytes: u64,

    /// Most bytes the attachments of one incident may take together; an upload that would
    /// pass it is refused with 413.
    #[arg(long, env = "FIREBREAK_MAX_ATTACHMENT_BYTES_PER_INCIDENT", default_value_t = crate::http::blobs::DEFAULT_MAX_ATTACHMENT_BYTES_PER_INCIDENT, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_attachment_bytes_per_incident: u64,

    /// Seconds an attachment's body has to arrive once the relay starts reading it (1 of 4
    /// uploads read at once); a slower or stalled upload is refused with 408 and nothing is
    /// stored. The default lets a 10 MiB file through at 0.7 Mbit/s.
    #[arg(long, env = "FIREBREAK_ATTACHMENT_UPLOAD_TIMEOUT", default_value_t = crate::http::blobs::DEFAULT_UPLOAD_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub attachment_upload_timeout: u64,

    /// Seconds an upload waits while the relay reads 4 others; then it is refused with 503
    /// and `Retry-After`, nothing read and nothing stored.
    #[arg(long, env = "FIREBREAK_ATTACHMENT_WAIT_TIMEOUT", default_value_t = crate::http::blobs::DEFAULT_UPLOAD_WAIT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub attachment_wait_timeout: u64,

    /// Seconds a client has to take a whole attachment download once the relay answers;
    /// then its connection is cut and the file's bytes are freed. The default lets a 10 MiB
    /// file through at 0.7 Mbit/s.
    #[arg(long, env = "FIREBREAK_ATTACHMENT_DOWNLOAD_TIMEOUT", default_value_t = crate::http::blobs::DEFAULT_DOWNLOAD_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub attachment_download_timeout: u64,

    /// Attachment downloads the relay holds in memory at once, across all clients (each up
    /// to `--max-attachment-bytes`); one more is refused with 503 and `Retry-After`.
    #[arg(long, env = "FIREBREAK_MAX_ATTACHMENT_DOWNLOADS", default_value_t = crate::http::blobs::DEFAULT_MAX_DOWNLOADS_HELD, value_parser = clap::value_parser!(u64).range(1..=10000))]
    pub max_attachment_downloads: u64,

    /// Of `--max-attachment-downloads`, how many one client may have held at once, counted
    /// for its token and for its address (behind a `--trusted-proxy`, the real client's;
    /// IPv6 by its /64): one more is refused with 503 and `Retry-After` while the others'
    /// downloads go on. 0: no share, only `--max-attachment-downloads`.
    #[arg(long, env = "FIREBREAK_MAX_ATTACHMENT_DOWNLOADS_PER_CLIENT", default_value_t = crate::http::blobs::DEFAULT_MAX_DOWNLOADS_PER_CLIENT, value_parser = clap::value_parser!(u64).range(0..=10000))]
    pub max_attachment_downloads_per_client: u64,

    /// Of the 4 uploads read at once, how many one client may have read at once, counted as
    /// `--max-attachment-downloads-per-client` is: one more is refused at once with 503 and
    /// `Retry-After`, nothing read. 0: no share, only the 4.
    #[arg(long, env = "FIREBREAK_MAX_ATTACHMENT_UPLOADS_PER_CLIENT", default_value_t = crate::http::blobs::DEFAULT_MAX_UPLOADS_PER_CLIENT, value_parser = clap::value_parser!(u64).range(0..=(crate::http::blobs::UPLOADS_AT_ONCE as u64)))]
    pub max_attachment_uploads_per_client: u64,
}

/// `--record-retention-days`: a positive number of days, at most 100 years.
fn retention_days(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(days) if days > 0.0 && days <= 36_500.0 => Ok(days),
        _ => Err(format!(
            "{raw:?} is not a number of days above 0 and at most 36500"
        )),
    }
}

impl Config {
    pub fn database_path(&self) -> PathBuf {
        self.data.join(DATABASE_FILE)
    }
}
