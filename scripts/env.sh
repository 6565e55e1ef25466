# Sourced by the scripts: where tools are installed and how to find them.
# Tools live outside the work tree so a fresh clone on the same machine reuses
# them; a fresh machine installs them (scripts/setup/*.sh).
export OBSERVATORY_TOOLS="${OBSERVATORY_TOOLS:-$HOME/.cache/electrum-observatory}"
mkdir -p "$OBSERVATORY_TOOLS/bin"
export PATH="$OBSERVATORY_TOOLS/bin:$HOME/.cargo/bin:$PATH"
# Tests that need an external tool fail (instead of skipping) unless this is 0
# (scanner/tests/support/tools.rs decides; the default, unset, means required).
export OBSERVATORY_REQUIRE_TOOLS="${OBSERVATORY_REQUIRE_TOOLS:-1}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Trunk prints long backtraces when this is set.
unset RUST_BACKTRACE
