//! Embeds the built console (`scripts/build-console.sh` writes it to `target/console/`, or wherever
//! `BERTH_CONSOLE_DIST` points) into the binary, so one file is the whole product.
//!
//! Generates `$OUT_DIR/console_assets.rs`: `INDEX_HTML` (the page, if built) and `ASSETS` (every other file,
//! with its precompressed `.gz` twin when there is one, made by `scripts/build-console.sh`, and a brotli twin
//! made here, at quality 11, into `$OUT_DIR/brotli/`, when it is smaller). When nothing is built the binary
//! still builds, and `/` explains how to build the console.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

/// Brotli's best compression and largest standard window: built once, served many times.
const BROTLI_QUALITY: u32 = 11;
const BROTLI_WINDOW: u32 = 24;

fn main() {
    println!("cargo:rerun-if-env-changed=BERTH_CONSOLE_DIST");
    println!("cargo:rerun-if-changed=build.rs");
    // `sqlx::migrate!` embeds the migrations at compile time but cannot tell Cargo to watch them; a new or
    // edited migration must rebuild the server (sqlx's documented remedy).
    println!("cargo:rerun-if-changed=../migrations");
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

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    let brotli_dir = out_dir.join("brotli");
    let _ = fs::remove_dir_all(&brotli_dir);
    if let Err(e) = fs::create_dir_all(&brotli_dir) {
        println!("cargo:warning=cannot create {}: {e}", brotli_dir.display());
        std::process::exit(1);
    }
    let twins = Twins { brotli_dir };

    let mut out = String::new();
    let index = dist.join("index.html");
    let _ = writeln!(
        out,
        "/// The console's `index.html`, if it was built.\npub static INDEX_HTML: Option<Embedded> = {};",
        if index.is_file() {
            format!("Some({})", twins.embedded(&index))
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
        let _ = writeln!(
            out,
            "    ({path:?}, {}),",
            twins.embedded(&dist.join(&path[1..]))
        );
    }
    out.push_str("];\n");

    let target = out_dir.join("console_assets.rs");
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

/// Where the brotli twins go.
struct Twins {
    brotli_dir: PathBuf,
}

impl Twins {
    /// An `Embedded { .. }` expression for `file`, its `.gz` twin and its brotli twin.
    fn embedded(&self, file: &Path) -> String {
        let mut gz = file.as_os_str().to_owned();
        gz.push(".gz");
        let gz = PathBuf::from(gz);
        let gzip = if gz.is_file() {
            format!("Some(include_bytes!({:?}))", gz.display().to_string())
        } else {
            "None".to_owned()
        };
        let brotli = match self.brotli(file) {
            Some(br) => format!("Some(include_bytes!({:?}))", br.display().to_string()),
            None => "None".to_owned(),
        };
        format!(
            "Embedded {{ identity: include_bytes!({:?}), gzip: {gzip}, brotli: {brotli} }}",
            file.display().to_string()
        )
    }

    /// Compresses `file` into the brotli directory; `None` if it cannot be read or does not get smaller.
    fn brotli(&self, file: &Path) -> Option<PathBuf> {
        let identity = fs::read(file).ok()?;
        let mut compressed = Vec::with_capacity(identity.len() / 3);
        {
            let mut writer = brotli::CompressorWriter::new(
                &mut compressed,
                64 * 1024,
                BROTLI_QUALITY,
                BROTLI_WINDOW,
            );
            writer.write_all(&identity).ok()?;
        }
        if compressed.len() >= identity.len() {
            return None;
        }
        let name: String = file
            .to_string_lossy()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let target = self.brotli_dir.join(format!("{name}.br"));
        fs::write(&target, compressed).ok()?;
        Some(target)
    }
}
