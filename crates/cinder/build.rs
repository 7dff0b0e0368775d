//! Embeds the official LiveView client into the library when its npm
//! packages are installed (`npm ci --prefix assets`), so a binary serves the
//! client from itself. Without them the client is read from disk at run time.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(cinder_embedded_client)");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let modules = manifest.join("../../assets/node_modules");
    let scripts = [
        (
            "CINDER_PHOENIX_JS",
            modules.join("phoenix/priv/static/phoenix.min.js"),
        ),
        (
            "CINDER_LIVE_VIEW_JS",
            modules.join("phoenix_live_view/priv/static/phoenix_live_view.esm.js"),
        ),
    ];
    // A missing file makes cargo run this again on the next build, so the
    // client is embedded as soon as it is installed.
    for (_, path) in &scripts {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    if scripts.iter().all(|(_, path)| path.exists()) {
        println!("cargo::rustc-cfg=cinder_embedded_client");
        for (name, path) in &scripts {
            println!("cargo::rustc-env={name}={}", path.display());
        }
    }
}
