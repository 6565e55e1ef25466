//! `observatory`: the Electrum Observatory command line.
//!
//! Each subcommand lives in its own module under `cmd/` with an `Args`
//! struct (clap derive) and a `run` function; this file only dispatches.
//! Errors are `anyhow` here and printed with `{:#}`.

mod cmd;

use clap::{Parser, Subcommand};

/// Measure the public Electrum server network and publish the findings.
#[derive(Debug, Parser)]
#[command(name = "observatory", version, about, propagate_version = true)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `observatory_scanner=debug`.
    #[arg(long, global = true, env = "OBSERVATORY_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan Electrum servers and write raw observations under DIR/raw/<run-id>/.
    Scan(cmd::scan::Args),
    /// Analyze raw scans: CSVs, snapshots for the site, reports.
    Analyze(cmd::analyze::Args),
    /// Run a simulated Electrum network on 127.0.0.0/8.
    Simnet(cmd::simnet::Args),
    /// Serve a built site directory on 127.0.0.1.
    Serve(cmd::serve::Args),
    /// GeoIP database management.
    Geoip(cmd::geoip::Args),
    /// Benchmarks that print figures.
    Bench(cmd::bench::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Escape codes only on a terminal: logs redirected to files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Scan(a) => cmd::scan::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Simnet(a) => cmd::simnet::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Geoip(a) => cmd::geoip::run(a),
        Command::Bench(a) => cmd::bench::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (e.g. `| head`) is not a failure.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return std::process::ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
