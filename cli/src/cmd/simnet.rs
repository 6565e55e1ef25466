//! `observatory simnet` (not implemented yet).

/// Arguments of `observatory simnet`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`observatory simnet` is not implemented yet")
}
