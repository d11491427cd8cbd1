//! Real registry clients against the real `berth` binary: skopeo, podman, and the Docker CLI with a private
//! dockerd. Every test has its own data directory, server and client state, and fails loudly when a client
//! tool is missing. Test images are built in-process (see `images`), so nothing touches the network.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::images::{
    Image, Layout, MultiArch, layout_blob, layout_ref, require_tool, run, run_fails, run_ok,
    sha256_digest, stdout,
};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer};

/// Upper bound for any single client command; `timeout` kills a hung client so a test fails, not hangs.
const COMMAND_TIMEOUT_SECS: &str = "240";

/// A temporary directory under `/tmp` with a short path (unix socket paths are limited to ~107 bytes).
pub fn short_tempdir(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap_or_else(|e| panic!("tempdir: {e}"))
}

/// Isolated client state: its own HOME, XDG dirs, auth file, Docker config, signature policy and
/// registries.conf, so neither the machine's nor another test's credentials leak in.
pub struct ClientEnv {
    pub dir: TempDir,
}

impl ClientEnv {
    pub fn new() -> ClientEnv {
        require_tool("timeout");
        let dir = short_tempdir("bc");
        for sub in ["home", "config", "data", "runtime", "docker", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub))
                .unwrap_or_else(|e| panic!("creating {sub}: {e}"));
        }
        std::fs::write(
            dir.path().join("policy.json"),
            br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap_or_else(|e| panic!("policy.json: {e}"));
        std::fs::write(dir.path().join("registries.conf"), b"")
            .unwrap_or_else(|e| panic!("registries.conf: {e}"));
        ClientEnv { dir }
    }

    pub fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// `program` under `timeout`, with this environment.
    pub fn cmd(&self, program: &str) -> Command {
        require_tool(program);
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "10", COMMAND_TIMEOUT_SECS, program])
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("runtime"))
            .env("REGISTRY_AUTH_FILE", self.path("auth.json"))
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("CONTAINERS_REGISTRIES_CONF", self.path("registries.conf"))
            .env("TMPDIR", self.path("tmp"));
        cmd
    }

    /// `skopeo` with this environment's permissive signature policy.
    pub fn skopeo(&self) -> Command {
        let mut cmd = self.cmd("skopeo");
        cmd.arg("--policy").arg(self.path("policy.json"));
        cmd
    }

    /// `skopeo login` to `host` over plain HTTP as `user`; on success the credentials serve this environment's
    /// later skopeo commands.
    pub fn skopeo_login(&self, host: &str, user: &str, password: &str) -> Command {
        let mut cmd = self.skopeo();
        cmd.args([
            "login",
            "--tls-verify=false",
            "-u",
            user,
            "-p",
            password,
            host,
        ]);
        cmd
    }

    /// `podman` with private storage, as MACHINE.md prescribes.
    pub fn podman(&self) -> Command {
        let mut cmd = self.cmd("podman");
        cmd.arg("--root")
            .arg(self.path("podman/root"))
            .arg("--runroot")
            .arg(self.path("podman/run"))
            .arg("--tmpdir")
            .arg(self.path("podman/tmp"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ]);
        cmd
    }
}

/// `--creds` value for the admin user.
pub fn admin_creds() -> String {
    format!("{ADMIN_USER}:{ADMIN_PASSWORD}")
}

/// Copies `src` to `dest` with skopeo (plain HTTP on the registry side), using `creds` if given.
pub fn skopeo_copy(env: &ClientEnv, src: &str, dest: &str, creds: Option<&str>, all: bool) {
    run_ok(&mut skopeo_copy_cmd(env, src, dest, creds, all));
}

pub fn skopeo_copy_cmd(
    env: &ClientEnv,
    src: &str,
    dest: &str,
    creds: Option<&str>,
    all: bool,
) -> Command {
    let mut cmd = env.skopeo();
    cmd.args(["copy", "--src-tls-verify=false", "--dest-tls-verify=false"]);
    if all {
        cmd.arg("--all");
    }
    if let Some(creds) = creds {
        if src.starts_with("docker://") {
            cmd.args(["--src-creds", creds]);
        }
        if dest.starts_with("docker://") {
            cmd.args(["--dest-creds", creds]);
        }
    }
    cmd.args([src, dest]);
    cmd
}

/// `skopeo inspect --raw`: the manifest bytes the registry serves for `reference`.
pub fn skopeo_raw(env: &ClientEnv, reference: &str, creds: Option<&str>) -> Vec<u8> {
    let mut cmd = env.skopeo();
    cmd.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(creds) = creds {
        cmd.args(["--creds", creds]);
    }
    run_ok(cmd.arg(reference)).stdout
}

/// `skopeo list-tags`, sorted.
fn skopeo_tags(env: &ClientEnv, repository: &str, creds: Option<&str>) -> Vec<String> {
    let mut cmd = env.skopeo();
    cmd.args(["list-tags", "--tls-verify=false"]);
    if let Some(creds) = creds {
        cmd.args(["--creds", creds]);
    }
    let out: Value = serde_json::from_slice(&run_ok(cmd.arg(repository)).stdout)
        .unwrap_or_else(|e| panic!("list-tags output: {e}"));
    let mut tags: Vec<String> = out["Tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no Tags in {out}"))
        .iter()
        .map(|t| t.as_str().unwrap_or_default().to_owned())
        .collect();
    tags.sort();
    tags
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Checks that the OCI layout at `dir` holds `image` under `tag`, byte for byte.
pub fn assert_layout_has_image(dir: &Path, tag: &str, image: &Image) {
    let desc = layout_ref(dir, tag);
    assert_eq!(
        desc["digest"],
        image.manifest.digest.as_str(),
        "manifest digest in {}",
        dir.display()
    );
    assert_eq!(
        layout_blob(dir, &image.manifest.digest),
        image.manifest.bytes
    );
    for blob in image.referenced_blobs() {
        assert_eq!(
            layout_blob(dir, &blob.digest),
            blob.bytes,
            "blob {}",
            blob.digest
        );
    }
}

fn start_server(tmp: &TempDir) -> BinaryServer {
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("data dir: {e}"));
    BinaryServer::start(&data)
}

#[test]
fn skopeo_push_pull_list_multiarch_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_server(&tmp);
    let host = server.host();
    let env = ClientEnv::new();

    let app1 = Image::build(1, "amd64", &[300_000, 1_000_000, 40_000]);
    let app2 = Image::build(2, "amd64", &[200_000, 10_000]);
    let multi = MultiArch::build(3, &[150_000, 20_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &app1);
    src.add_image("v2", &app2);
    src.add_multi_arch("multi", &multi);

    // Login stores credentials that every later command uses.
    run_ok(&mut env.skopeo_login(&host, ADMIN_USER, ADMIN_PASSWORD));

    // Push a multi-layer OCI image; the registry must serve exactly the manifest we built.
    let app = format!("docker://{host}/library/app");
    skopeo_copy(&env, &src.reference("v1"), &format!("{app}:1"), None, false);
    skopeo_copy(&env, &src.reference("v2"), &format!("{app}:2"), None, false);
    let raw = skopeo_raw(&env, &format!("{app}:1"), None);
    assert_eq!(
        sha256_digest(&raw),
        app1.manifest.digest,
        "served manifest digest"
    );
    assert_eq!(raw, app1.manifest.bytes, "served manifest bytes");
    let raw = skopeo_raw(&env, &format!("{app}@{}", app1.manifest.digest), None);
    assert_eq!(raw, app1.manifest.bytes, "manifest by digest");

    // Pull it back into a fresh layout: same manifest, same blobs.
    let out = tmp.path().join("out");
    skopeo_copy(
        &env,
        &format!("{app}:1"),
        &format!("oci:{}:1", out.display()),
        None,
        false,
    );
    assert_layout_has_image(&out, "1", &app1);

    // `skopeo inspect` (non-raw) sees the config: architecture and the layer digests.
    let inspect: Value = serde_json::from_slice(
        &run_ok(
            env.skopeo()
                .args(["inspect", "--tls-verify=false", &format!("{app}:1")]),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(inspect["Digest"], app1.manifest.digest.as_str());
    assert_eq!(inspect["Architecture"], "amd64");
    let layers: Vec<&str> = app1.layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(inspect["Layers"], serde_json::json!(layers));

    assert_eq!(skopeo_tags(&env, &app, None), ["1", "2"]);

    // Multi-arch: copy the index with --all, and back.
    let multi_ref = format!("docker://{host}/library/multi:1");
    skopeo_copy(&env, &src.reference("multi"), &multi_ref, None, true);
    let raw = skopeo_raw(&env, &multi_ref, None);
    assert_eq!(
        sha256_digest(&raw),
        multi.index.digest,
        "served index digest"
    );
    for child in &multi.children {
        let raw = skopeo_raw(
            &env,
            &format!("docker://{host}/library/multi@{}", child.manifest.digest),
            None,
        );
        assert_eq!(
            raw, child.manifest.bytes,
            "child manifest {}",
            child.architecture
        );
        // Platform selection through the index, as a client on that architecture would do.
        let inspect: Value = serde_json::from_slice(
            &run_ok(env.skopeo().args([
                "--override-arch",
                &child.architecture,
                "--override-os",
                "linux",
                "inspect",
                "--tls-verify=false",
                &multi_ref,
            ]))
            .stdout,
        )
        .unwrap();
        // skopeo 1.9 reports the index's digest here, and the chosen platform's config and layers.
        assert_eq!(inspect["Architecture"], child.architecture.as_str());
        let layers: Vec<&str> = child.layers.iter().map(|l| l.digest.as_str()).collect();
        assert_eq!(inspect["Layers"], serde_json::json!(layers), "{inspect}");
    }
    let out_multi = tmp.path().join("out-multi");
    skopeo_copy(
        &env,
        &multi_ref,
        &format!("oci:{}:multi", out_multi.display()),
        None,
        true,
    );
    let desc = layout_ref(&out_multi, "multi");
    assert_eq!(
        desc["digest"],
        multi.index.digest.as_str(),
        "pulled index digest"
    );
    assert_eq!(
        layout_blob(&out_multi, &multi.index.digest),
        multi.index.bytes
    );
    for child in &multi.children {
        assert_eq!(
            layout_blob(&out_multi, &child.manifest.digest),
            child.manifest.bytes
        );
        for blob in child.referenced_blobs() {
            assert_eq!(layout_blob(&out_multi, &blob.digest), blob.bytes);
        }
    }

    // Delete tag 2 (skopeo deletes the manifest it points to); tag 1 must survive.
    run_ok(
        env.skopeo()
            .args(["delete", "--tls-verify=false", &format!("{app}:2")]),
    );
    assert_eq!(skopeo_tags(&env, &app, None), ["1"]);
    let gone = run_fails(env.skopeo().args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{app}:2"),
    ]));
    assert!(
        stderr(&gone).contains("manifest unknown") || stderr(&gone).contains("not found"),
        "unexpected error for a deleted tag: {}",
        stderr(&gone)
    );
    let auth = crate::images::basic_auth(ADMIN_USER, ADMIN_PASSWORD);
    for path in [
        "/v2/library/app/manifests/2".to_owned(),
        format!("/v2/library/app/manifests/{}", app2.manifest.digest),
    ] {
        let response = crate::images::http(&host, "GET", &path, &[("Authorization", &auth)], &[]);
        assert_eq!(
            response.status, 404,
            "GET {path} after delete: {:?}",
            response
        );
    }
    assert_eq!(
        skopeo_raw(&env, &format!("{app}:1"), None),
        app1.manifest.bytes
    );

    // Logging out removes the credentials: pushing is then refused.
    run_ok(env.skopeo().args(["logout", &host]));
    let denied = run(&mut skopeo_copy_cmd(
        &env,
        &src.reference("v2"),
        &format!("{app}:3"),
        None,
        false,
    ));
    assert!(
        !denied.status.success(),
        "anonymous push to library succeeded"
    );
}

#[test]
fn skopeo_login_and_anonymous_access() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_server(&tmp);
    let host = server.host();
    let creds = admin_creds();

    let created = server.cli(&["project", "create", "secret"]);
    assert!(created.status.success(), "project create: {created:?}");

    let image = Image::build(10, "amd64", &[100_000, 30_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);

    // Wrong password: login fails, and leaves no credentials behind.
    let bad = ClientEnv::new();
    let out = run_fails(&mut bad.skopeo_login(&host, ADMIN_USER, "not-the-password"));
    let message = stderr(&out).to_lowercase();
    assert!(
        message.contains("unauthorized") || message.contains("401") || message.contains("invalid"),
        "unexpected login failure message: {message}"
    );
    let unknown = run_fails(&mut bad.skopeo_login(&host, "nobody", ADMIN_PASSWORD));
    assert!(!unknown.status.success());
    // Correct password works.
    let good = ClientEnv::new();
    run_ok(&mut good.skopeo_login(&host, ADMIN_USER, ADMIN_PASSWORD));

    let public_ref = format!("docker://{host}/library/pub:1");
    let private_ref = format!("docker://{host}/secret/app:1");
    skopeo_copy(&good, &src.reference("v1"), &public_ref, None, false);
    skopeo_copy(
        &good,
        &src.reference("v1"),
        &private_ref,
        Some(&creds),
        false,
    );

    // Anonymous: a client with no credentials anywhere.
    let anon = ClientEnv::new();
    assert_eq!(skopeo_raw(&anon, &public_ref, None), image.manifest.bytes);
    let out = tmp.path().join("anon-out");
    skopeo_copy(
        &anon,
        &public_ref,
        &format!("oci:{}:1", out.display()),
        None,
        false,
    );
    assert_layout_has_image(&out, "1", &image);
    assert_eq!(
        skopeo_tags(&anon, &format!("docker://{host}/library/pub"), None),
        ["1"]
    );

    let denied =
        run_fails(
            anon.skopeo()
                .args(["inspect", "--raw", "--tls-verify=false", &private_ref]),
        );
    let message = stderr(&denied).to_lowercase();
    assert!(
        message.contains("unauthorized")
            || message.contains("denied")
            || message.contains("authentication required"),
        "unexpected anonymous pull failure: {message}"
    );
    let denied_out = tmp.path().join("denied-out");
    run_fails(&mut skopeo_copy_cmd(
        &anon,
        &private_ref,
        &format!("oci:{}:1", denied_out.display()),
        None,
        false,
    ));
    run_fails(anon.skopeo().args([
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{host}/secret/app"),
    ]));
    // Anonymous push, even to the public project, is refused.
    run_fails(&mut skopeo_copy_cmd(
        &anon,
        &src.reference("v1"),
        &format!("docker://{host}/library/anon:1"),
        None,
        false,
    ));
    // The wrong password does not open the private project either.
    run_fails(anon.skopeo().args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &format!("{ADMIN_USER}:wrong"),
        &private_ref,
    ]));

    // The admin can pull the private image.
    assert_eq!(
        skopeo_raw(&anon, &private_ref, Some(&creds)),
        image.manifest.bytes
    );
}

#[test]
fn podman_login_pull_push() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_server(&tmp);
    let host = server.host();
    let creds = admin_creds();
    let env = ClientEnv::new();

    let image = Image::build(20, "amd64", &[400_000, 100_000, 5_000]);
    let multi = MultiArch::build(21, &[100_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    src.add_multi_arch("multi", &multi);
    skopeo_copy(
        &env,
        &src.reference("v1"),
        &format!("docker://{host}/library/app:1"),
        Some(&creds),
        false,
    );
    skopeo_copy(
        &env,
        &src.reference("multi"),
        &format!("docker://{host}/library/multi:1"),
        Some(&creds),
        true,
    );

    let bad = run_fails(env.podman().args([
        "login",
        "--tls-verify=false",
        "-u",
        ADMIN_USER,
        "-p",
        "wrong-password",
        &host,
    ]));
    assert!(!bad.status.success());
    run_ok(env.podman().args([
        "login",
        "--tls-verify=false",
        "-u",
        ADMIN_USER,
        "-p",
        ADMIN_PASSWORD,
        &host,
    ]));

    let app = format!("{host}/library/app:1");
    run_ok(env.podman().args(["pull", "--tls-verify=false", &app]));
    let inspect: Value =
        serde_json::from_slice(&run_ok(env.podman().args(["image", "inspect", &app])).stdout)
            .unwrap();
    let inspect = &inspect[0];
    assert_eq!(
        inspect["Id"],
        image.image_id().as_str(),
        "podman image id: {inspect}"
    );
    assert_eq!(
        inspect["Digest"],
        image.manifest.digest.as_str(),
        "podman digest: {inspect}"
    );
    let repo_digest = format!("{host}/library/app@{}", image.manifest.digest);
    assert!(
        inspect["RepoDigests"]
            .as_array()
            .is_some_and(|d| d.iter().any(|v| v == repo_digest.as_str())),
        "RepoDigests lacks {repo_digest}: {inspect}"
    );
    let diff_ids: Vec<Value> =
        serde_json::from_slice::<Value>(&image.config.bytes).unwrap()["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .clone();
    assert_eq!(inspect["RootFS"]["Layers"], Value::Array(diff_ids));

    // Platform selection from a multi-arch index.
    for child in &multi.children {
        let reference = format!("{host}/library/multi:1");
        run_ok(env.podman().args([
            "pull",
            "--tls-verify=false",
            "--platform",
            &format!("linux/{}", child.architecture),
            &reference,
        ]));
        let id = stdout(&run_ok(
            env.podman()
                .args(["image", "inspect", "--format", "{{.Id}}", &reference]),
        ));
        assert_eq!(
            id,
            child.image_id(),
            "podman pull --platform linux/{}",
            child.architecture
        );
    }

    // podman push of the pulled image into another repository: the config (image id) is unchanged.
    let copy = format!("{host}/library/podman-copy:1");
    run_ok(env.podman().args(["tag", &app, &copy]));
    run_ok(env.podman().args(["push", "--tls-verify=false", &copy]));
    let served_config = run_ok(env.skopeo().args([
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{copy}"),
    ]))
    .stdout;
    assert_eq!(
        sha256_digest(&served_config),
        image.config.digest,
        "config after podman push"
    );
}

/// A private dockerd; stopped (TERM, then KILL) when dropped, even if the test fails.
struct Dockerd {
    dir: TempDir,
    child: Option<Child>,
}

impl Dockerd {
    fn start() -> Dockerd {
        require_tool("dockerd");
        require_tool("docker");
        let dir = short_tempdir("bd");
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("root"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .arg("-H")
            .arg(format!("unix://{}", d.join("docker.sock").display()))
            .args([
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--ip-forward=false",
                "--ip-masq=false",
                "--userland-proxy=false",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn dockerd: {e}"));
        let mut daemon = Dockerd {
            dir,
            child: Some(child),
        };
        daemon.wait_ready();
        daemon
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let probe_env = ClientEnv::new();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("dockerd exited early ({status}):\n{}", self.log());
            }
            let mut probe = self.docker(&probe_env);
            if run(probe.arg("info")).status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd not ready after 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The docker CLI, pointed at this daemon with `env`'s config directory.
    fn docker(&self, env: &ClientEnv) -> Command {
        let mut cmd = env.cmd("docker");
        cmd.env("DOCKER_HOST", format!("unix://{}", self.socket().display()));
        cmd
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = std::fs::read_to_string(self.dir.path().join("dockerd.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .unwrap_or_else(|| child.id());
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !matches!(child.try_wait(), Ok(Some(_))) {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
        // dockerd bind-mounts its data root; a clean shutdown undoes that, a KILL does not.
        let root = self.dir.path().join("root");
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        if mounts.contains(&format!(" {} ", root.display())) {
            let _ = Command::new("umount").arg("-l").arg(&root).status();
        }
    }
}

/// The `digest: sha256:… size: N` line of `docker push` output.
fn pushed_digest(push_output: &str) -> String {
    push_output
        .lines()
        .find_map(|l| l.split("digest: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no digest in docker push output:\n{push_output}"))
        .to_owned()
}

#[test]
fn docker_push_pull() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start_server(&tmp);
    let host = server.host();
    let creds = admin_creds();
    let env = ClientEnv::new();
    let dockerd = Dockerd::start();
    let docker = || dockerd.docker(&env);

    let image = Image::build(30, "amd64", &[500_000, 200_000, 8_000]);
    let multi = MultiArch::build(31, &[120_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    src.add_multi_arch("multi", &multi);

    // Load the test image into dockerd without any registry: OCI layout -> docker-archive -> docker load.
    let archive = tmp.path().join("app.tar");
    skopeo_copy(
        &env,
        &src.reference("v1"),
        &format!("docker-archive:{}:berth-test/app:v1", archive.display()),
        None,
        false,
    );
    let loaded = stdout(&run_ok(docker().arg("load").arg("-i").arg(&archive)));
    assert!(
        loaded.contains("berth-test/app:v1"),
        "docker load: {loaded}"
    );
    let local_id = stdout(&run_ok(docker().args([
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        "berth-test/app:v1",
    ])));
    assert_eq!(local_id, image.config.digest, "image id after docker load");

    let denied =
        run_fails(docker().args(["login", "-u", ADMIN_USER, "-p", "wrong-password", &host]));
    assert!(!denied.status.success());
    run_ok(docker().args(["login", "-u", ADMIN_USER, "-p", ADMIN_PASSWORD, &host]));

    let app = format!("{host}/library/app:1");
    run_ok(docker().args(["tag", "berth-test/app:v1", &app]));
    let push = run_ok(docker().args(["push", &app]));
    let digest = pushed_digest(&String::from_utf8_lossy(&push.stdout));

    // What the registry serves for the tag is what docker says it pushed.
    let raw = skopeo_raw(&env, &format!("docker://{app}"), Some(&creds));
    assert_eq!(
        sha256_digest(&raw),
        digest,
        "served manifest vs docker push digest"
    );
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["config"]["digest"],
        image.config.digest.as_str(),
        "{manifest}"
    );
    assert_eq!(
        manifest["layers"].as_array().map(Vec::len),
        Some(image.layers.len())
    );
    let served_config = run_ok(env.skopeo().args([
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        "--creds",
        &creds,
        &format!("docker://{app}"),
    ]))
    .stdout;
    assert_eq!(served_config, image.config.bytes);

    // Pushing the same image to a second repository (blobs may be mounted across repositories).
    let other = format!("{host}/library/other:1");
    run_ok(docker().args(["tag", "berth-test/app:v1", &other]));
    let push = run_ok(docker().args(["push", &other]));
    assert_eq!(
        pushed_digest(&String::from_utf8_lossy(&push.stdout)),
        digest
    );

    // Remove every local copy, pull it back: same image id, and the repo digest matches the registry's.
    run_ok(docker().args(["rmi", "berth-test/app:v1", &app, &other]));
    let gone = run(docker().args(["image", "inspect", &app]));
    assert!(!gone.status.success(), "image still present after rmi");
    let pull = stdout(&run_ok(docker().args(["pull", &app])));
    assert!(
        pull.contains(&digest),
        "docker pull output lacks {digest}:\n{pull}"
    );
    let pulled_id = stdout(&run_ok(
        docker().args(["image", "inspect", "--format", "{{.Id}}", &app]),
    ));
    assert_eq!(pulled_id, image.config.digest, "image id after pull");
    let repo_digests: Value = serde_json::from_str(&stdout(&run_ok(docker().args([
        "image",
        "inspect",
        "--format",
        "{{json .RepoDigests}}",
        &app,
    ]))))
    .unwrap();
    let expected = format!("{host}/library/app@{digest}");
    assert!(
        repo_digests
            .as_array()
            .is_some_and(|d| d.iter().any(|v| v == expected.as_str())),
        "RepoDigests {repo_digests} lacks {expected}"
    );
    let served = skopeo_raw(&env, &format!("docker://{app}"), Some(&creds));
    assert_eq!(sha256_digest(&served), digest);

    // Pulling by digest works too.
    run_ok(docker().args(["pull", &format!("{host}/library/app@{digest}")]));

    // A multi-arch OCI index pushed by skopeo: docker picks linux/amd64.
    skopeo_copy(
        &env,
        &src.reference("multi"),
        &format!("docker://{host}/library/multi:1"),
        Some(&creds),
        true,
    );
    let multi_ref = format!("{host}/library/multi:1");
    run_ok(docker().args(["pull", "--platform", "linux/amd64", &multi_ref]));
    let id = stdout(&run_ok(
        docker().args(["image", "inspect", "--format", "{{.Id}}", &multi_ref]),
    ));
    let amd64 = multi
        .children
        .iter()
        .find(|c| c.architecture == "amd64")
        .unwrap();
    assert_eq!(id, amd64.config.digest, "docker pull of a multi-arch index");

    run_ok(docker().args(["logout", &host]));
    drop(dockerd);
}
