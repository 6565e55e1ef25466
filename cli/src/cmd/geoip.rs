//! `observatory geoip` (not implemented yet).

/// Arguments of `observatory geoip`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory geoip` is not implemented yet")
}
