//! Simulated Electrum network (placeholder: being built in issue 6).
