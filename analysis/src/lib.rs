//! Analysis of raw scans (placeholder: being built in issue 4).
