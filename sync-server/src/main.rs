//! `sync-server`: the Firebreak relay binary. Parses flags, sets up logging, runs the relay.

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = sync_server::Config::parse();
    // One thread for sockets and rooms alike (see `registry`); storage loads and
    // compactions run on tokio's blocking threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    tokio::task::LocalSet::new().block_on(&runtime, sync_server::run(config))?;
    Ok(())
}
