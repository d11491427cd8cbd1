//! Deterministic test images, built in-process with no network: OCI image layouts holding single-platform
//! images (gzip'd tar layers plus a config) and multi-arch image indexes.
//!
//! Everything is derived from a seed — file contents, fixed mtimes, gzip headers — so the same call always
//! produces byte-identical blobs and therefore the same digests. Tar and gzip are written by hand (ustar
//! headers; gzip with "stored" deflate blocks, which every decompressor accepts) to avoid extra dependencies.

#![allow(dead_code, reason = "not every test module uses every fixture")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A fixed timestamp for tar headers and the image config (2024-01-01T00:00:00Z).
const MTIME: u64 = 1_704_067_200;
const CREATED: &str = "2024-01-01T00:00:00Z";

pub use crate::support::sha256 as sha256_digest;

/// A content-addressed blob.
#[derive(Clone, Debug)]
pub struct Blob {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        Blob {
            media_type: media_type.to_owned(),
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The OCI descriptor of this blob.
    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size()})
    }
}

/// One single-platform image: manifest, config and layers.
#[derive(Clone, Debug)]
pub struct Image {
    pub manifest: Blob,
    pub config: Blob,
    pub layers: Vec<Blob>,
    pub architecture: String,
}

impl Image {
    /// Builds an image whose layers have (roughly, before tar/gzip framing) the given payload sizes.
    pub fn build(seed: u64, architecture: &str, layer_sizes: &[usize]) -> Image {
        let mut diff_ids = Vec::new();
        let mut history = Vec::new();
        let layers: Vec<Blob> = layer_sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let tar = layer_tar(seed, architecture, i, size);
                diff_ids.push(sha256_digest(&tar));
                history.push(
                    json!({"created": CREATED, "created_by": format!("layer {i} of seed {seed}")}),
                );
                Blob::new(OCI_LAYER_GZIP, gzip_stored(&tar))
            })
            .collect();
        let config = json!({
            "created": CREATED,
            "architecture": architecture,
            "os": "linux",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/true"],
                "Labels": {"berth.test.seed": seed.to_string()},
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        let config = Blob::new(OCI_CONFIG, to_bytes(&config));
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
        });
        Image {
            manifest: Blob::new(OCI_MANIFEST, to_bytes(&manifest)),
            config,
            layers,
            architecture: architecture.to_owned(),
        }
    }

    /// An image whose layers hold exactly the given files (`(path, content)`, lowest layer first), with
    /// the directories they need, as gzip'd tar layers.
    pub fn from_files(architecture: &str, layers: &[Vec<(String, Vec<u8>)>]) -> Image {
        let tars: Vec<Vec<u8>> = layers.iter().map(|files| files_tar(files)).collect();
        let diff_ids: Vec<String> = tars.iter().map(|t| sha256_digest(t)).collect();
        let layers: Vec<Blob> = tars
            .iter()
            .map(|t| Blob::new(OCI_LAYER_GZIP, gzip_stored(t)))
            .collect();
        let config = json!({
            "created": CREATED,
            "architecture": architecture,
            "os": "linux",
            "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        let config = Blob::new(OCI_CONFIG, to_bytes(&config));
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
        });
        Image {
            manifest: Blob::new(OCI_MANIFEST, to_bytes(&manifest)),
            config,
            layers,
            architecture: architecture.to_owned(),
        }
    }

    /// Config and layers: every blob the manifest references.
    pub fn referenced_blobs(&self) -> Vec<&Blob> {
        std::iter::once(&self.config).chain(&self.layers).collect()
    }

    /// The config digest without `sha256:` — what Docker and Podman call the image ID.
    pub fn image_id(&self) -> String {
        self.config.digest.trim_start_matches("sha256:").to_owned()
    }
}

/// A multi-arch image: an OCI image index over one image per platform (linux/amd64 and linux/arm64).
#[derive(Clone, Debug)]
pub struct MultiArch {
    pub index: Blob,
    pub children: Vec<Image>,
}

impl MultiArch {
    pub fn build(seed: u64, layer_sizes: &[usize]) -> MultiArch {
        let children: Vec<Image> = ["amd64", "arm64"]
            .iter()
            .map(|arch| Image::build(seed, arch, layer_sizes))
            .collect();
        let manifests: Vec<Value> = children
            .iter()
            .map(|child| {
                let mut d = child.manifest.descriptor();
                d["platform"] = json!({"architecture": child.architecture, "os": "linux"});
                d
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        MultiArch {
            index: Blob::new(OCI_INDEX, to_bytes(&index)),
            children,
        }
    }
}

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`).
#[derive(Debug)]
pub struct Layout {
    pub dir: PathBuf,
    refs: Vec<Value>,
}

impl Layout {
    /// Creates an empty layout in `dir` (created if missing).
    pub fn create(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256"))
            .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .unwrap_or_else(|e| panic!("writing oci-layout: {e}"));
        let layout = Layout {
            dir: dir.to_owned(),
            refs: Vec::new(),
        };
        layout.save_index();
        layout
    }

    /// Writes `blob` under `blobs/sha256/`.
    pub fn write_blob(&self, blob: &Blob) {
        let hex = blob.digest.trim_start_matches("sha256:");
        std::fs::write(self.dir.join("blobs/sha256").join(hex), &blob.bytes)
            .unwrap_or_else(|e| panic!("writing blob {}: {e}", blob.digest));
    }

    fn write_image_blobs(&self, image: &Image) {
        for blob in image.referenced_blobs() {
            self.write_blob(blob);
        }
        self.write_blob(&image.manifest);
    }

    /// Adds `image` under tag `tag` (the `org.opencontainers.image.ref.name` annotation).
    pub fn add_image(&mut self, tag: &str, image: &Image) {
        self.write_image_blobs(image);
        self.add_ref(tag, &image.manifest);
    }

    /// Adds a multi-arch image: its children, and the index under `tag`.
    pub fn add_multi_arch(&mut self, tag: &str, multi: &MultiArch) {
        for child in &multi.children {
            self.write_image_blobs(child);
        }
        self.write_blob(&multi.index);
        self.add_ref(tag, &multi.index);
    }

    fn add_ref(&mut self, tag: &str, blob: &Blob) {
        let mut d = blob.descriptor();
        d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        self.refs.push(d);
        self.save_index();
    }

    fn save_index(&self) {
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs});
        std::fs::write(self.dir.join("index.json"), to_bytes(&index))
            .unwrap_or_else(|e| panic!("writing index.json: {e}"));
    }

    /// `oci:<dir>:<tag>`, the skopeo transport reference.
    pub fn reference(&self, tag: &str) -> String {
        format!("oci:{}:{tag}", self.dir.display())
    }
}

/// Reads the `index.json` of an OCI layout and returns the descriptor tagged `tag`.
pub fn layout_ref(dir: &Path, tag: &str) -> Value {
    let index: Value = serde_json::from_slice(
        &std::fs::read(dir.join("index.json"))
            .unwrap_or_else(|e| panic!("reading {}/index.json: {e}", dir.display())),
    )
    .unwrap_or_else(|e| panic!("parsing index.json: {e}"));
    index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .cloned()
        .unwrap_or_else(|| panic!("no tag {tag} in {}/index.json: {index}", dir.display()))
}

/// Reads blob `digest` from an OCI layout.
pub fn layout_blob(dir: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.trim_start_matches("sha256:");
    let bytes = std::fs::read(dir.join("blobs/sha256").join(hex))
        .unwrap_or_else(|e| panic!("reading blob {digest} from {}: {e}", dir.display()));
    assert_eq!(
        sha256_digest(&bytes),
        digest,
        "blob file content does not match its name"
    );
    bytes
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| panic!("serialising JSON: {e}"))
}

/// Deterministic pseudo-random bytes (splitmix64).
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// An uncompressed layer: a directory `layer<i>/` with a text file and a `size`-byte data file.
fn layer_tar(seed: u64, architecture: &str, index: usize, size: usize) -> Vec<u8> {
    let dir = format!("layer{index}/");
    let text = format!("seed={seed} arch={architecture} layer={index} size={size}\n");
    let mix = seed
        .wrapping_mul(1_000_003)
        .wrapping_add(index as u64)
        .wrapping_add(architecture.bytes().map(u64::from).sum::<u64>() << 32);
    let mut tar = Vec::new();
    tar_entry(&mut tar, &dir, b'5', 0o755, &[]);
    tar_entry(
        &mut tar,
        &format!("{dir}info.txt"),
        b'0',
        0o644,
        text.as_bytes(),
    );
    tar_entry(
        &mut tar,
        &format!("{dir}data.bin"),
        b'0',
        0o644,
        &seeded_bytes(mix, size),
    );
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

/// A tar of `files`, each preceded by the directories on its path that came before.
fn files_tar(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for (path, content) in files {
        let mut prefix = String::new();
        for part in path
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            prefix.push_str(part);
            prefix.push('/');
            if dirs.insert(prefix.clone()) {
                tar_entry(&mut tar, &prefix, b'5', 0o755, &[]);
            }
        }
        tar_entry(&mut tar, path, b'0', 0o644, content);
    }
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

/// Appends one ustar entry (header and padded content).
fn tar_entry(tar: &mut Vec<u8>, name: &str, kind: u8, mode: u32, content: &[u8]) {
    assert!(name.len() < 100, "tar name too long: {name}");
    let mut header = [0u8; 512];
    let mut put = |offset: usize, value: &[u8]| {
        header[offset..offset + value.len()].copy_from_slice(value);
    };
    put(0, name.as_bytes());
    put(100, format!("{mode:07o}\0").as_bytes());
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", content.len()).as_bytes());
    put(136, format!("{MTIME:011o}\0").as_bytes());
    put(148, b"        ");
    put(156, &[kind]);
    put(257, b"ustar\0");
    put(263, b"00");
    put(265, b"root");
    put(297, b"root");
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(content);
    let pad = (512 - content.len() % 512) % 512;
    tar.extend(std::iter::repeat_n(0u8, pad));
}

/// gzip of `data` using uncompressed ("stored") deflate blocks, with a zero mtime.
pub fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, entry) in (0u32..).zip(table.iter_mut()) {
        let mut c = n;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *entry = c;
    }
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

// ---------------------------------------------------------------------------------------------------------
// Running client tools.

/// Panics unless `program` is on PATH: client tests must fail loudly, never skip, when a tool is missing.
pub fn require_tool(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is not installed (or not on PATH); the client tests need it — install it, do not skip"
    );
}

/// Runs `cmd` and returns its output; panics with both streams if it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let output = run(cmd);
    assert!(
        output.status.success(),
        "command failed ({}): {}\n--- stdout:\n{}\n--- stderr:\n{}",
        output.status,
        describe(cmd),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `cmd` and returns its output; panics with both streams if it succeeds.
pub fn run_fails(cmd: &mut Command) -> Output {
    let output = run(cmd);
    assert!(
        !output.status.success(),
        "command unexpectedly succeeded: {}\n--- stdout:\n{}\n--- stderr:\n{}",
        describe(cmd),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `cmd` (stdin closed) and collects its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", describe(cmd)))
}

/// Standard output as a trimmed string.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A command line for error messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let _ = write!(s, " {}", arg.to_string_lossy());
    }
    s
}

// ---------------------------------------------------------------------------------------------------------
// A minimal blocking HTTP/1.1 client over std TCP: tests that drive the real binary need to send exact requests
// (and to be cut off mid-body), which is simpler without an async runtime.

/// A parsed HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// `Authorization: Basic …` for `user:password`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Sends a request's head to `host` (`ip:port`) and returns the open connection, ready for `content_length`
/// bytes of body. Every request is sent with `Connection: close`.
pub fn http_begin(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
) -> std::net::TcpStream {
    use std::io::Write as _;
    let stream = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("connecting to {host} for {method} {path}: {e}"));
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .and_then(|()| stream.set_write_timeout(Some(std::time::Duration::from_secs(60))))
        .unwrap_or_else(|e| panic!("socket timeouts: {e}"));
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if let Some(len) = content_length {
        let _ = write!(head, "Content-Length: {len}\r\n");
    }
    head.push_str("\r\n");
    (&stream)
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("sending {method} {path}: {e}"));
    stream
}

/// Reads a whole response from a connection opened by [`http_begin`] (`HEAD` responses have no body).
pub fn http_finish(stream: std::net::TcpStream, head_request: bool) -> HttpResponse {
    use std::io::Read as _;
    let mut raw = Vec::new();
    (&stream)
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("reading response: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if head_request {
        body.clear();
    } else if chunked {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            panic!("truncated chunked body");
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .unwrap_or_else(|e| panic!("bad chunk size {size_text:?}: {e}"));
        data = &data[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// One complete request.
pub fn http(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    use std::io::Write as _;
    let with_body = !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH");
    let stream = http_begin(host, method, path, headers, with_body.then_some(body.len()));
    (&stream)
        .write_all(body)
        .unwrap_or_else(|e| panic!("sending body of {method} {path}: {e}"));
    http_finish(stream, method == "HEAD")
}

// ---------------------------------------------------------------------------------------------------------
// Self-checks of the fixtures.

#[test]
fn images_are_deterministic() {
    let a = MultiArch::build(7, &[10_000, 70_000]);
    let b = MultiArch::build(7, &[10_000, 70_000]);
    assert_eq!(a.index.digest, b.index.digest);
    assert_eq!(a.children[1].layers[1].bytes, b.children[1].layers[1].bytes);
    let c = MultiArch::build(8, &[10_000, 70_000]);
    assert_ne!(a.index.digest, c.index.digest);
    assert_ne!(a.children[0].manifest.digest, a.children[1].manifest.digest);
}

#[test]
fn layers_are_valid_gzip_tar() {
    require_tool("tar");
    let image = Image::build(9, "amd64", &[0, 1, 511, 512, 200_000]);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let config: Value =
        serde_json::from_slice(&image.config.bytes).unwrap_or_else(|e| panic!("{e}"));
    for (i, layer) in image.layers.iter().enumerate() {
        let file = dir.path().join(format!("layer{i}.tar.gz"));
        std::fs::write(&file, &layer.bytes).unwrap_or_else(|e| panic!("{e}"));
        let listing = stdout(&run_ok(
            Command::new("tar").env("TZ", "UTC").arg("-tzvf").arg(&file),
        ));
        assert!(listing.contains(&format!("layer{i}/data.bin")), "{listing}");
        assert!(listing.contains("2024-01-01"), "mtime: {listing}");
        let out = dir.path().join(format!("x{i}"));
        std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));
        run_ok(
            Command::new("tar")
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(&out),
        );
        let data =
            std::fs::read(out.join(format!("layer{i}/data.bin"))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(data.len(), [0, 1, 511, 512, 200_000][i]);
        // The config's diff_id is the digest of the uncompressed tar.
        let tar = run_ok(Command::new("gzip").arg("-dc").arg(&file)).stdout;
        assert_eq!(
            config["rootfs"]["diff_ids"][i],
            sha256_digest(&tar).as_str()
        );
    }
}
