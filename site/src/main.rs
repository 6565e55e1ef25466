//! The report site (placeholder: being built in issue 5).
fn main() {}
