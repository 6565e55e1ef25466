//! `observatory bench` (not implemented yet).

/// Arguments of `observatory bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory bench` is not implemented yet")
}
