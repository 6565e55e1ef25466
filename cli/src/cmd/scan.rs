//! `observatory scan` (not implemented yet).

/// Arguments of `observatory scan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory scan` is not implemented yet")
}
