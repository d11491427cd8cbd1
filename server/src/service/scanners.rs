//! Scanner registrations: checking what a request says about one (Harbor's `Registration.Validate` within
//! Berth's bounds), sealing its credential, asking an adapter for its metadata (Harbor's Pluggable Scanner API
//! v1.2, `GET <url>/api/v1/metadata`) and checking the answer as Harbor does, and Berth's own metadata for the
//! built-in registration.
//!
//! The adapter is asked only on a system administrator's request (ping, create, metadata). The request has a
//! connect and a total timeout, follows no redirect, reads at most [`MAX_METADATA_BYTES`] of the answer, and
//! an error never repeats what the adapter answered: only its status or what was wrong with it.

use std::time::Duration;

use base64::Engine;
use berth_api::scanners::{
    AUTH_TYPES, BUILT_IN_NAME, BUILT_IN_URL, KNOWN_REPORT_TYPES, MIME_DOCKER_MANIFEST,
    MIME_GENERIC_REPORT, MIME_NATIVE_REPORT, MIME_OCI_MANIFEST, MIME_SBOM_REPORT, Scanner,
    ScannerAdapterMetadata, ScannerCapability, ScannerRegistrationReq,
};
use futures_util::StreamExt;

use super::ServiceError;
use crate::crypto::SecretBox;
use crate::db::{Db, NewScanner, ScannerRow, is_unique_violation};
use crate::secret::Secret;

/// Harbor's column sizes: name 128, description 1024, URL 512, credential 512 characters.
pub const MAX_NAME: usize = 128;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_URL: usize = 512;
pub const MAX_CREDENTIAL: usize = 512;
/// The most of an adapter's metadata answer that is read.
pub const MAX_METADATA_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// What Harbor's client asks for (`src/pkg/scan/rest/v1/spec.go`).
const METADATA_ACCEPT: &str = "application/vnd.scanner.adapter.metadata+json; version=1.0";
/// Harbor's property naming when an adapter's vulnerability database was last updated (RFC 3339).
pub const PROPERTY_DB_UPDATED_AT: &str = "harbor.scanner-adapter/vulnerability-database-updated-at";
/// Berth's property naming the generation of its vulnerability database in force (each import makes one).
pub const PROPERTY_DB_GENERATION: &str = "berth/vulnerability-database-generation";

/// The vulnerability database in force, as the built-in scanner's metadata names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseState<'a> {
    /// RFC 3339.
    pub built_at: &'a str,
    pub generation: i64,
}

/// A registration's settings in clear, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub name: String,
    pub description: String,
    pub url: String,
    pub disabled: bool,
    pub auth: String,
    pub access_credential: Option<Secret>,
    pub skip_cert_verify: bool,
    pub use_internal_addr: bool,
}

/// Checks a name, URL, auth and credential as Harbor's `Registration.Validate` does, within Berth's bounds;
/// returns the URL without a trailing `/`.
pub fn check(
    name: &str,
    url: &str,
    auth: &str,
    credential: Option<&str>,
) -> Result<String, ServiceError> {
    let invalid = |m: String| Err(ServiceError::Invalid(m));
    if name.trim().is_empty() {
        return invalid("missing registration name".to_owned());
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return invalid(format!(
            "the registration name is at most {MAX_NAME} printable characters"
        ));
    }
    let url = check_url(url)?;
    if !AUTH_TYPES.contains(&auth) {
        return invalid(format!(
            "auth type {:?} is not supported: use \"\", Basic, Bearer or X-ScannerAdapter-API-Key",
            auth.chars().take(32).collect::<String>()
        ));
    }
    let credential = credential.unwrap_or_default();
    if !auth.is_empty() && credential.is_empty() {
        return invalid(format!(
            "access_credential is required for auth type {auth}"
        ));
    }
    if credential.chars().count() > MAX_CREDENTIAL || credential.chars().any(char::is_control) {
        return invalid(format!(
            "access_credential is at most {MAX_CREDENTIAL} printable characters"
        ));
    }
    Ok(url)
}

/// An adapter URL: `http` or `https` with a host, no credentials, query or fragment, at most [`MAX_URL`]
/// characters; returned without a trailing `/`.
fn check_url(text: &str) -> Result<String, ServiceError> {
    let invalid = |why: &str| Err(ServiceError::Invalid(format!("invalid scanner url: {why}")));
    if text.is_empty() {
        return invalid("the url is required");
    }
    if text.chars().count() > MAX_URL {
        return invalid(&format!("at most {MAX_URL} characters"));
    }
    let Ok(url) = url::Url::parse(text) else {
        return invalid("not a URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return invalid("the scheme must be http or https");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return invalid("a host is required");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid("credentials belong in auth and access_credential, not in the url");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return invalid("no query or fragment");
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// The settings of a new registration, checked.
pub fn settings_of(req: &ScannerRegistrationReq) -> Result<Settings, ServiceError> {
    let auth = req.auth.clone().unwrap_or_default();
    let url = check(&req.name, &req.url, &auth, req.access_credential.as_deref())?;
    let description = req.description.clone().unwrap_or_default();
    check_description(&description)?;
    Ok(Settings {
        name: req.name.trim().to_owned(),
        description,
        url,
        disabled: req.disabled.unwrap_or(false),
        access_credential: (!auth.is_empty())
            .then(|| Secret::new(req.access_credential.as_deref().unwrap_or_default())),
        auth,
        skip_cert_verify: req.skip_cert_verify.unwrap_or(false),
        use_internal_addr: req.use_internal_addr.unwrap_or(false),
    })
}

fn check_description(description: &str) -> Result<(), ServiceError> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::Invalid(format!(
            "the description is at most {MAX_DESCRIPTION} characters"
        )));
    }
    Ok(())
}

/// Harbor reserves its built-in scanner's name; Berth reserves its own.
fn check_not_reserved(name: &str) -> Result<(), ServiceError> {
    if name.eq_ignore_ascii_case(BUILT_IN_NAME) {
        return Err(ServiceError::Invalid(format!(
            "name \"{name}\" is reserved, please try a different name"
        )));
    }
    Ok(())
}

/// Registers an adapter after checking that it answers with valid metadata (as Harbor does); returns the
/// new registration's uuid. 409 for a taken name or URL.
pub async fn create(
    db: &Db,
    secrets: &SecretBox,
    req: &ScannerRegistrationReq,
) -> Result<String, ServiceError> {
    let settings = settings_of(req)?;
    check_not_reserved(&settings.name)?;
    fetch_metadata(&settings).await?;
    let uuid = uuid::Uuid::new_v4().to_string();
    let sealed = seal(secrets, &settings)?;
    db.create_scanner(&uuid, &new_scanner(&settings, sealed.as_deref()))
        .await
        .map_err(|e| taken(e, &settings))?;
    Ok(uuid)
}

/// Changes registration `row` (not the built-in one: the caller checks) with `req`. Harbor's rules: `name`
/// and `url` are required; an empty or absent `access_credential` keeps the stored one while `auth` still
/// needs one; the default registration cannot be disabled. Fields left out keep their stored values.
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    row: &ScannerRow,
    req: &ScannerRegistrationReq,
) -> Result<Settings, ServiceError> {
    let auth = req.auth.clone().unwrap_or_else(|| row.auth.clone());
    let sent = req.access_credential.clone().filter(|c| !c.is_empty());
    let credential = match (auth.is_empty(), sent) {
        (true, _) => None,
        (false, Some(sent)) => Some(sent),
        (false, None) => match &row.access_credential {
            Some(sealed) => Some(
                secrets
                    .open(sealed)
                    .map_err(|e| {
                        ServiceError::Invalid(format!(
                            "the stored access_credential cannot be used ({e}): send it again"
                        ))
                    })?
                    .expose()
                    .to_owned(),
            ),
            None => None,
        },
    };
    let url = check(&req.name, &req.url, &auth, credential.as_deref())?;
    let description = req
        .description
        .clone()
        .unwrap_or_else(|| row.description.clone());
    check_description(&description)?;
    let settings = Settings {
        name: req.name.trim().to_owned(),
        description,
        url,
        disabled: req.disabled.unwrap_or(row.disabled),
        auth,
        access_credential: credential.map(Secret::new),
        skip_cert_verify: req.skip_cert_verify.unwrap_or(row.skip_cert_verify),
        use_internal_addr: req.use_internal_addr.unwrap_or(row.use_internal_addr),
    };
    check_not_reserved(&settings.name)?;
    if row.is_default && settings.disabled {
        return Err(ServiceError::Invalid(format!(
            "default registration {} can not be marked to deactivated",
            row.name
        )));
    }
    let sealed = seal(secrets, &settings)?;
    if !db
        .update_scanner(&row.uuid, &new_scanner(&settings, sealed.as_deref()))
        .await
        .map_err(|e| taken(e, &settings))?
    {
        return Err(ServiceError::NotFound(format!(
            "scanner {} not found",
            row.uuid
        )));
    }
    Ok(settings)
}

/// The settings of stored registration `row`, its credential opened.
pub fn stored(row: &ScannerRow, secrets: &SecretBox) -> Result<Settings, ServiceError> {
    let access_credential = match &row.access_credential {
        Some(sealed) => Some(secrets.open(sealed).map_err(|e| {
            tracing::error!(scanner = %row.name, error = %e, "a scanner registration's credential does not open");
            ServiceError::Invalid(format!(
                "the stored access_credential of scanner {} cannot be opened (was secret_key changed?)",
                row.name
            ))
        })?),
        None => None,
    };
    Ok(Settings {
        name: row.name.clone(),
        description: row.description.clone(),
        url: row.url.clone(),
        disabled: row.disabled,
        auth: row.auth.clone(),
        access_credential,
        skip_cert_verify: row.skip_cert_verify,
        use_internal_addr: row.use_internal_addr,
    })
}

/// The metadata of registration `row`: Berth's own for the built-in one (naming the vulnerability database in
/// force, `database`), else what its adapter answers.
pub async fn metadata(
    row: &ScannerRow,
    secrets: &SecretBox,
    database: Option<DatabaseState<'_>>,
) -> Result<ScannerAdapterMetadata, ServiceError> {
    if row.immutable && row.url == BUILT_IN_URL {
        return Ok(built_in_metadata(database));
    }
    fetch_metadata(&stored(row, secrets)?).await
}

/// The vulnerability database in force as `(generation, built_at)`, for the built-in scanner's metadata; `None`
/// before the first import or when it cannot be read (logged).
pub async fn database_in_force(state: &crate::app::AppState) -> Option<(i64, String)> {
    match state.vulndb.in_force().await {
        Ok(database) => database,
        Err(e) => {
            tracing::warn!(error = %e, "scanner metadata: reading the vulnerability database in force");
            None
        }
    }
}

fn seal(secrets: &SecretBox, settings: &Settings) -> Result<Option<Vec<u8>>, ServiceError> {
    settings
        .access_credential
        .as_ref()
        .map(|c| secrets.seal(c.expose()))
        .transpose()
        .map_err(|e| {
            tracing::error!(error = %e, "sealing a scanner credential");
            ServiceError::Invalid("the access_credential could not be stored".to_owned())
        })
}

fn new_scanner<'a>(settings: &'a Settings, sealed: Option<&'a [u8]>) -> NewScanner<'a> {
    NewScanner {
        name: &settings.name,
        description: &settings.description,
        url: &settings.url,
        disabled: settings.disabled,
        auth: &settings.auth,
        access_credential: sealed,
        skip_cert_verify: settings.skip_cert_verify,
        use_internal_addr: settings.use_internal_addr,
    }
}

fn taken(error: sqlx::Error, settings: &Settings) -> ServiceError {
    if is_unique_violation(&error) {
        ServiceError::Conflict(format!(
            "a scanner registration with the name {} or the url {} already exists",
            settings.name, settings.url
        ))
    } else {
        ServiceError::Db(error)
    }
}

/// Asks the adapter of `settings` for its metadata and checks it as Harbor does. Every failure is a 400 that
/// says what went wrong without repeating the adapter's answer.
pub async fn fetch_metadata(settings: &Settings) -> Result<ScannerAdapterMetadata, ServiceError> {
    let failed = |why: String| {
        ServiceError::Invalid(format!(
            "the scanner adapter at {} failed: {why}",
            settings.url
        ))
    };
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(settings.skip_cert_verify)
        .build()
        .map_err(|e| failed(format!("no HTTP client: {e}")))?;
    let request = with_auth(
        client
            .get(format!("{}/api/v1/metadata", settings.url))
            .header(reqwest::header::ACCEPT, METADATA_ACCEPT),
        settings,
    );
    let response = request.send().await.map_err(|e| {
        let why = if e.is_timeout() {
            "it did not answer in time".to_owned()
        } else if e.is_connect() {
            "it could not be reached".to_owned()
        } else {
            "the request failed".to_owned()
        };
        tracing::info!(url = %settings.url, error = %e, "scanner adapter metadata request failed");
        failed(why)
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("it answered {status}")));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| failed("its answer broke off".to_owned()))?;
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(failed(format!(
                "its metadata is larger than {MAX_METADATA_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let metadata: ScannerAdapterMetadata = serde_json::from_slice(&body)
        .map_err(|_| failed("its metadata is not the adapter API's JSON".to_owned()))?;
    validate_metadata(&metadata).map_err(failed)?;
    Ok(metadata)
}

/// `request` with the registration's credential, as Harbor sends it: `Basic`, `Bearer` or
/// `X-ScannerAdapter-API-Key`.
pub fn with_auth(request: reqwest::RequestBuilder, settings: &Settings) -> reqwest::RequestBuilder {
    let credential = settings
        .access_credential
        .as_ref()
        .map(|c| c.expose().to_owned())
        .unwrap_or_default();
    match settings.auth.as_str() {
        "Basic" => request.header(
            reqwest::header::AUTHORIZATION,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credential)
            ),
        ),
        "Bearer" => request.header(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {credential}"),
        ),
        "X-ScannerAdapter-API-Key" => request.header("X-ScannerAdapter-API-Key", credential),
        _ => request,
    }
}

/// Harbor's `ScannerAdapterMetadata.Validate` (`src/pkg/scan/rest/v1/models.go`): a scanner with a name,
/// vendor and version; at least one capability; each consuming the Docker v2 manifest type and producing a
/// report type Harbor knows.
pub fn validate_metadata(metadata: &ScannerAdapterMetadata) -> Result<(), String> {
    match &metadata.scanner {
        Some(s) if !s.name.is_empty() && !s.vendor.is_empty() && !s.version.is_empty() => {}
        _ => {
            return Err(
                "invalid scanner in metadata: name, vendor and version are required".to_owned(),
            );
        }
    }
    if metadata.capabilities.is_empty() {
        return Err("invalid capabilities in metadata".to_owned());
    }
    for capability in &metadata.capabilities {
        if !capability
            .consumes_mime_types
            .iter()
            .any(|m| m == MIME_DOCKER_MANIFEST)
        {
            return Err(format!(
                "missing {MIME_DOCKER_MANIFEST} in consumes_mime_types"
            ));
        }
        if !capability
            .produces_mime_types
            .iter()
            .any(|m| KNOWN_REPORT_TYPES.contains(&m.as_str()))
        {
            return Err(format!(
                "missing {MIME_NATIVE_REPORT} or {MIME_GENERIC_REPORT} in produces_mime_types"
            ));
        }
    }
    Ok(())
}

/// Berth's own adapter metadata (design §5.6): name and vendor Berth, this binary's version, a
/// vulnerability and an SBOM capability; `db_updated_at` is when the vulnerability database was built.
pub fn built_in_metadata(database: Option<DatabaseState<'_>>) -> ScannerAdapterMetadata {
    let consumes = vec![
        MIME_DOCKER_MANIFEST.to_owned(),
        MIME_OCI_MANIFEST.to_owned(),
    ];
    let mut properties = std::collections::BTreeMap::from([
        (
            "harbor.scanner-adapter/scanner-type".to_owned(),
            "os-package-vulnerability".to_owned(),
        ),
        (
            "harbor.scanner-adapter/registry-authorization-type".to_owned(),
            "Bearer".to_owned(),
        ),
    ]);
    if let Some(database) = database {
        properties.insert(
            PROPERTY_DB_UPDATED_AT.to_owned(),
            database.built_at.to_owned(),
        );
        properties.insert(
            PROPERTY_DB_GENERATION.to_owned(),
            database.generation.to_string(),
        );
    }
    ScannerAdapterMetadata {
        scanner: Some(Scanner {
            name: BUILT_IN_NAME.to_owned(),
            vendor: BUILT_IN_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
        capabilities: vec![
            ScannerCapability {
                capability_type: "vulnerability".to_owned(),
                consumes_mime_types: consumes.clone(),
                produces_mime_types: vec![
                    MIME_GENERIC_REPORT.to_owned(),
                    MIME_NATIVE_REPORT.to_owned(),
                ],
            },
            ScannerCapability {
                capability_type: "sbom".to_owned(),
                consumes_mime_types: consumes,
                produces_mime_types: vec![MIME_SBOM_REPORT.to_owned()],
            },
        ],
        properties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host() {
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://u:p@x",
            "http://x/?a=1",
            "berth://built-in",
            "x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_url("https://adapter:8080/").ok().as_deref(),
            Some("https://adapter:8080")
        );
    }

    #[test]
    fn auth_needs_a_credential_and_a_known_type() {
        assert!(check("a", "http://x", "Basic", None).is_err());
        assert!(check("a", "http://x", "Digest", Some("c")).is_err());
        assert!(check("a", "http://x", "Bearer", Some("t")).is_ok());
        assert!(check("", "http://x", "", None).is_err());
        let long = "c".repeat(MAX_CREDENTIAL + 1);
        assert!(check("a", "http://x", "Bearer", Some(&long)).is_err());
    }

    #[test]
    fn berths_own_metadata_passes_harbors_checks() {
        let database = DatabaseState {
            built_at: "2026-12-06T12:00:00Z",
            generation: 3,
        };
        let metadata = built_in_metadata(Some(database));
        assert_eq!(validate_metadata(&metadata), Ok(()));
        assert_eq!(
            metadata
                .properties
                .get(PROPERTY_DB_UPDATED_AT)
                .map(String::as_str),
            Some("2026-12-06T12:00:00Z")
        );
        assert_eq!(
            metadata
                .properties
                .get(PROPERTY_DB_GENERATION)
                .map(String::as_str),
            Some("3")
        );
        assert!(
            !built_in_metadata(None)
                .properties
                .contains_key(PROPERTY_DB_GENERATION)
        );
        let mut bad = built_in_metadata(None);
        bad.capabilities[1].consumes_mime_types = vec![MIME_OCI_MANIFEST.to_owned()];
        assert!(validate_metadata(&bad).is_err());
    }
}
