//! `sync-server`: the Firebreak relay binary. Parses flags, sets up logging, runs the relay;
//! `sync-server verify` checks the record instead ([`sync_server::verify`]);
//! `sync-server precompress DIST` writes the built app's compressed copies
//! ([`sync_server::precompress`]).

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
    // `sync-server verify …` checks the record and exits; anything else runs the relay.
    if std::env::args_os().nth(1).is_some_and(|a| a == "verify") {
        let args = sync_server::verify::VerifyArgs::parse_from(std::env::args_os().skip(1));
        let whole = sync_server::verify::run(&args)?;
        std::process::exit(if whole { 0 } else { 1 });
    }
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "precompress")
    {
        let args =
            sync_server::precompress::PrecompressArgs::parse_from(std::env::args_os().skip(1));
        let files = sync_server::precompress::run(&args.dist)?;
        print!("{}", sync_server::precompress::table(&files));
        return Ok(());
    }
    let config = sync_server::Config::parse();
    // One thread for sockets and rooms alike (see `registry`); storage loads and
    // compactions run on tokio's blocking threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    tokio::task::LocalSet::new().block_on(&runtime, sync_server::run(config))?;
    Ok(())
}
