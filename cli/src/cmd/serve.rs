//! `observatory serve` (not implemented yet).

/// Arguments of `observatory serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory serve` is not implemented yet")
}
