//! The one place that decides whether a test may skip when a tool it needs is missing
//! (ElectrumX venvs, microsocks, the real GeoIP databases).
//!
//! Tools are required by default: a missing tool fails the test, so a green run means the
//! test really ran. Only `OBSERVATORY_REQUIRE_TOOLS=0` (a local run without the tools) lets
//! such tests skip, saying so on stderr. Shared by path with the cli and analysis tests.

/// True unless `OBSERVATORY_REQUIRE_TOOLS=0`: a missing tool must then fail the test.
pub fn tools_required() -> bool {
    std::env::var("OBSERVATORY_REQUIRE_TOOLS").map_or(true, |v| v.trim() != "0")
}

/// Reports a missing tool: panics when tools are required, otherwise prints why the test is
/// skipped. `setup` names the script that installs it.
pub fn missing_tool(what: &str, setup: &str) {
    assert!(
        !tools_required(),
        "{what} is missing (run {setup}; set OBSERVATORY_REQUIRE_TOOLS=0 to skip such tests)"
    );
    eprintln!("SKIPPED: {what} is missing (run {setup}; OBSERVATORY_REQUIRE_TOOLS=0)");
}
