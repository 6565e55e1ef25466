//! `observatory analyze` (not implemented yet).

/// Arguments of `observatory analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory analyze` is not implemented yet")
}
