//! Embeds the built console (`scripts/build-console.sh` writes it to `target/console/`, or wherever
//! `BERTH_CONSOLE_DIST` points) into the binary, so one file is the whole product.
//!
//! Generates `$OUT_DIR/console_assets.rs`: `INDEX_HTML` (the page, if built) and `ASSETS` (every other file,
//! with its precompressed `.gz` twin when there is one). When nothing is built the binary still builds, and
//! `/` explains how to build the console.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-env-changed=BERTH_CONSOLE_DIST");
    println!("cargo:rerun-if-changed=build.rs");
    let dist = match env::var_os("BERTH_CONSOLE_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console"),
    };
    // Cargo reruns a build script on every build while a watched path is missing, which would recompile this
    // crate each time; an empty directory stands for "not built" instead.
    let _ = fs::create_dir_all(&dist);
    println!("cargo:rerun-if-changed={}", dist.display());

    // Only the page and `assets/`: nothing else in the directory is the console's.
    let mut files = Vec::new();
    collect(&dist, &dist.join("assets"), &mut files);
    files.sort();

    let mut out = String::new();
    let index = dist.join("index.html");
    let _ = writeln!(
        out,
        "/// The console's `index.html`, if it was built.\npub static INDEX_HTML: Option<Embedded> = {};",
        if index.is_file() {
            format!("Some({})", embedded(&index))
        } else {
            "None".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "/// Every other file of the console, by URL path.\npub static ASSETS: &[(&str, Embedded)] = &["
    );
    for path in &files {
        if path == "/index.html" {
            continue;
        }
        let _ = writeln!(out, "    ({path:?}, {}),", embedded(&dist.join(&path[1..])));
    }
    out.push_str("];\n");

    let target =
        PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("console_assets.rs");
    if let Err(e) = fs::write(&target, out) {
        println!("cargo:warning=cannot write {}: {e}", target.display());
        std::process::exit(1);
    }
}

/// URL paths (`/assets/app.1a2b3c.js`) of the files under `dir`, leaving out the `.gz` twins.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_none_or(|e| e != "gz")
            && let Ok(relative) = path.strip_prefix(root)
        {
            let url: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(format!("/{}", url.join("/")));
        }
    }
}

/// An `Embedded { .. }` expression for `file` and its `.gz` twin.
fn embedded(file: &Path) -> String {
    let mut gz = file.as_os_str().to_owned();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    let gzip = if gz.is_file() {
        format!("Some(include_bytes!({:?}))", gz.display().to_string())
    } else {
        "None".to_owned()
    };
    format!(
        "Embedded {{ identity: include_bytes!({:?}), gzip: {gzip} }}",
        file.display().to_string()
    )
}
