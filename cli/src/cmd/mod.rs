//! One module per subcommand.

pub mod analyze;
pub mod bench;
pub mod geoip;
pub mod scan;
pub mod serve;
pub mod simnet;
