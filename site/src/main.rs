//! Entry point of the report site: mounts the Leptos app on wasm32.
//!
//! Natively there is nothing to run; the binary exists so `cargo build
//! --workspace` succeeds and prints where the real build lives.

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(observatory_site::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    println!("observatory-site is a WebAssembly app: build it with `scripts/build-site.sh`.");
}
