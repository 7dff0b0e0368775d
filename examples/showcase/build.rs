//! Embeds SortableJS, the drag-and-drop library of `/kanban`, into the
//! showcase when its npm package is installed (`npm ci --prefix assets`),
//! so the binary serves it from itself. Without it, the showcase reads the
//! file from disk at run time and `/kanban` says what to install.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(showcase_embedded_sortable)");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let sortable = manifest.join("../../assets/node_modules/sortablejs/modular/sortable.esm.js");
    // A missing file makes cargo run this again on the next build, so the
    // library is embedded as soon as it is installed.
    println!("cargo::rerun-if-changed={}", sortable.display());
    if sortable.exists() {
        println!("cargo::rustc-cfg=showcase_embedded_sortable");
        println!(
            "cargo::rustc-env=SHOWCASE_SORTABLE_JS={}",
            sortable.display()
        );
    } else {
        println!(
            "cargo::warning=SortableJS is not installed at {}: /kanban will read it from disk at run time; run `npm ci --prefix assets` and build again to embed it",
            sortable.display()
        );
    }
}
