//! A real OpenID Provider for the OIDC tests: `playwright/fixtures/oidc-provider.mjs` (the npm package
//! `oidc-provider`) run by node on a free loopback port, killed on drop.
//!
//! Accounts (any password): `alice` (groups `developers`, `berth-admins`), `bob` (`qa`), `nameless` (no `name`
//! or `preferred_username`), `carol` (different groups in the ID token and in userinfo) and `dave` (the groups
//! claim as a single string). See the script for the details.
//!
//! [`OidcProvider::sign_in`] plays the browser: it follows the authorization request through the provider's
//! login and consent pages with a cookie-keeping reqwest client, and stops at the redirect back to the relying
//! party, whose `code` and `state` it returns.

#![allow(dead_code, reason = "not every test uses every fixture method")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use berth::auth::oidc::OidcSettings;
use berth::secret::{Secret, StoredSecret};
use reqwest::Url;
use tempfile::TempDir;

pub const CLIENT_ID: &str = "berth-tests";
pub const CLIENT_SECRET: &str = "berth-tests-secret";
/// A redirect URI nothing listens on: [`OidcProvider::sign_in`] stops before following it.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/c/oidc/callback";
/// How long node may take to load oidc-provider and listen. Seconds normally; the suite's parallel tests on two
/// cores can slow it a lot.
const START_TIMEOUT: Duration = Duration::from_secs(90);

fn playwright_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../playwright")
}

/// A running provider.
pub struct OidcProvider {
    issuer: String,
    child: Child,
    /// Holds the provider's stderr log.
    dir: TempDir,
}

impl OidcProvider {
    /// Starts a provider whose one client (`CLIENT_ID`/`CLIENT_SECRET`) may redirect to `redirect_uris`; returns
    /// once it listens.
    pub fn start(redirect_uris: &[&str]) -> OidcProvider {
        let playwright = playwright_dir();
        let script = playwright.join("fixtures/oidc-provider.mjs");
        assert!(
            playwright.join("node_modules/oidc-provider").is_dir(),
            "{} has no node_modules/oidc-provider: run `npm ci` in playwright/ (scripts/test.sh does); the OIDC tests need it",
            playwright.display()
        );
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let log_path = dir.path().join("oidc-provider.log");
        let log = std::fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("{}: {e}", log_path.display()));
        let mut command = Command::new("node");
        command.arg(&script).args([
            "--port",
            "0",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ]);
        for uri in redirect_uris {
            command.args(["--redirect-uri", uri]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("node {}: {e} (is Node.js installed?)", script.display()));

        // The first stdout line is `ready <issuer>`; read it on a thread so a hung start times out. The thread
        // then drains stdout until node exits: oidc-provider logs notices there, and dies of EPIPE if nobody
        // reads them.
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("node's stdout"));
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = sender.send(line);
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let started = std::time::Instant::now();
        let line = receiver.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let Some(issuer) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
            // Say whether node exited (and how) or was still starting when the wait ended.
            let state = match child.try_wait() {
                Ok(Some(status)) => format!("node exited ({status})"),
                _ => format!("node still starting after {:?}", started.elapsed()),
            };
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "oidc-provider did not start: {state}, stdout {line:?}; its log:\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        };
        OidcProvider { issuer, child, dir }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        CLIENT_ID
    }

    pub fn client_secret(&self) -> &str {
        CLIENT_SECRET
    }

    /// The provider's stderr so far (errors it reported, e.g. a refused grant).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("oidc-provider.log")).unwrap_or_default()
    }

    /// Settings for this provider: the groups scope and claim, admin group `berth-admins`, no filter.
    pub fn settings(&self) -> OidcSettings {
        OidcSettings {
            name: "Test IdP".to_owned(),
            endpoint: self.issuer.clone(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: StoredSecret::Set(Secret::new(CLIENT_SECRET)),
            groups_claim: "groups".to_owned(),
            admin_group: "berth-admins".to_owned(),
            scope: "openid,profile,email,groups".to_owned(),
            ..OidcSettings::default()
        }
    }

    /// Signs `login` in (any password) through the provider's login and consent pages, starting at
    /// `authorize_url`, and returns the `code` and `state` of the redirect back to the relying party.
    pub async fn sign_in(&self, authorize_url: &Url, login: &str) -> (String, String) {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_else(|e| panic!("browser client: {e}"));
        let mut response = browser
            .get(authorize_url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {authorize_url}: {e}"));
        for _ in 0..20 {
            let url = response.url().clone();
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_else(|| panic!("{status} from {url} without a Location"));
                let next = url
                    .join(location)
                    .unwrap_or_else(|e| panic!("Location {location:?}: {e}"));
                if !next.as_str().starts_with(&self.issuer) {
                    return callback_parameters(&next);
                }
                response =
                    browser.get(next.clone()).send().await.unwrap_or_else(|e| {
                        panic!("GET {next}: {e:?}\nprovider log:\n{}", self.log())
                    });
                continue;
            }
            let page = response.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "{status} from {url}:\n{page}\nprovider log:\n{}",
                self.log()
            );
            let action = form_action(&page).unwrap_or_else(|| panic!("no form on {url}:\n{page}"));
            let action = url
                .join(&action)
                .unwrap_or_else(|e| panic!("form action {action:?}: {e}"));
            let form: Vec<(&str, &str)> = if page.contains(r#"name="login""#) {
                vec![
                    ("prompt", "login"),
                    ("login", login),
                    ("password", "any password"),
                ]
            } else if page.contains(r#"value="consent""#) {
                vec![("prompt", "consent")]
            } else {
                panic!("neither a login nor a consent page at {url}:\n{page}");
            };
            response = browser
                .post(action.clone())
                .form(&form)
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {action}: {e:?}"));
        }
        panic!(
            "no redirect to the relying party after 20 steps; provider log:\n{}",
            self.log()
        );
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `code` and `state` of a redirect to the relying party; panics on an error response.
fn callback_parameters(url: &Url) -> (String, String) {
    let parameter = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = parameter("error") {
        panic!(
            "the provider redirected with error {error}: {}",
            parameter("error_description").unwrap_or_default()
        );
    }
    let code = parameter("code").unwrap_or_else(|| panic!("no code in {url}"));
    let state = parameter("state").unwrap_or_else(|| panic!("no state in {url}"));
    (code, state)
}

/// The `action` of the page's first form.
fn form_action(page: &str) -> Option<String> {
    let form = &page[page.find("<form")?..];
    let start = form.find(r#"action=""#)? + r#"action=""#.len();
    let end = start + form[start..].find('"')?;
    Some(form[start..end].replace("&amp;", "&"))
}
