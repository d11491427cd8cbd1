//! Registry endpoints: checking what a request says about one, sealing its secret, turning a stored row into
//! the [`Endpoint`] the upstream client uses, and health checks.
//!
//! A request names fields to set ([`Draft`]); the rest keep what is stored (or the defaults, for a new one).
//! The credential is Basic only: an empty `access_key` means anonymous, and an `access_secret` of `*****`
//! (what the API shows) keeps the stored secret.

use std::str::FromStr;

use berth_api::registries::MASKED_SECRET;

use super::ServiceError;
use crate::config::ProxyConfig;
use crate::crypto::{SealError, SecretBox};
use crate::db::{Db, NewRegistry, RegistryRow, is_unique_violation};
use crate::proxy::{Credential, Endpoint, EndpointKind, Health, Upstream};
use crate::secret::Secret;

/// Why a stored endpoint could not be loaded for use.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("registry endpoint {id}: {reason}")]
    Unusable { id: i64, reason: String },
}

/// Fields a request sets; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct Draft<'a> {
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub insecure: Option<bool>,
    pub ca_certificate: Option<&'a str>,
    pub credential_type: Option<&'a str>,
    pub access_key: Option<&'a str>,
    pub access_secret: Option<&'a str>,
}

/// An endpoint's settings in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    name: String,
    kind: EndpointKind,
    url: String,
    description: String,
    insecure: bool,
    credential: Option<Credential>,
}

/// The endpoint of `row`, its secret opened.
pub fn to_endpoint(row: &RegistryRow, secrets: &SecretBox) -> Result<Endpoint, EndpointError> {
    let unusable = |reason: String| EndpointError::Unusable { id: row.id, reason };
    let kind = EndpointKind::from_str(&row.kind).map_err(|e| unusable(e.to_string()))?;
    let credential = match (&row.credential_type, &row.access_key) {
        (Some(_), Some(key)) if !key.is_empty() => {
            let secret = match &row.access_secret {
                Some(sealed) => secrets.open(sealed).map_err(|e| match e {
                    SealError::Open => unusable(
                        "its stored secret does not open with this server's key (was secret_key changed?)"
                            .to_owned(),
                    ),
                    other => unusable(other.to_string()),
                })?,
                None => Secret::new(""),
            };
            Some(Credential {
                username: key.clone(),
                secret,
            })
        }
        _ => None,
    };
    Ok(Endpoint {
        id: row.id,
        kind,
        url: row.url.clone(),
        insecure: row.insecure,
        credential,
    })
}

/// Stored endpoint `id` with its credential in clear, for the pull path; `None` if there is no such endpoint.
pub async fn endpoint(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
) -> Result<Option<Endpoint>, EndpointError> {
    match db.registry(id).await? {
        Some(row) => to_endpoint(&row, secrets).map(Some),
        None => Ok(None),
    }
}

/// Creates an endpoint; returns its id. `name` and `kind` are required; `url` defaults to the type's
/// well-known registry where it has one.
pub async fn create(db: &Db, secrets: &SecretBox, draft: &Draft<'_>) -> Result<i64, ServiceError> {
    let kind = parse_kind(draft.kind.unwrap_or_default())?;
    let blank = Settings {
        name: String::new(),
        kind,
        url: String::new(),
        description: String::new(),
        insecure: false,
        credential: None,
    };
    let settings = apply(blank, draft)?;
    let sealed = seal(secrets, &settings)?;
    db.create_registry(&new_registry(&settings, sealed.as_deref()))
        .await
        .map_err(|e| taken(e, &settings.name))
}

/// Changes endpoint `id`; returns its name. Its projects keep using it (they refer to it by id).
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    id: i64,
    draft: &Draft<'_>,
) -> Result<String, ServiceError> {
    let row = db.registry(id).await?.ok_or_else(|| not_found(id))?;
    let settings = apply(stored(&row, secrets)?, draft)?;
    let sealed = seal(secrets, &settings)?;
    if !db
        .update_registry(id, &new_registry(&settings, sealed.as_deref()))
        .await
        .map_err(|e| taken(e, &settings.name))?
    {
        return Err(not_found(id));
    }
    Ok(settings.name)
}

/// Checks an endpoint: stored endpoint `id` with the draft's fields replacing its own for this check, or
/// (without `id`) the unsaved endpoint the draft describes. A check of a stored endpoint as stored records
/// the result.
pub async fn ping(
    db: &Db,
    secrets: &SecretBox,
    config: &ProxyConfig,
    id: Option<i64>,
    draft: &Draft<'_>,
) -> Result<Health, ServiceError> {
    let (endpoint, record) = match id {
        Some(id) => {
            let row = db.registry(id).await?.ok_or_else(|| not_found(id))?;
            let before = stored(&row, secrets)?;
            let after = apply(before.clone(), draft)?;
            check_secret_resent(&before, &after, draft)?;
            let record = after == before;
            (endpoint_of(id, after), record)
        }
        None => {
            let kind = draft
                .kind
                .filter(|k| !k.is_empty())
                .ok_or_else(|| ServiceError::Invalid("type or url cannot be empty".to_owned()))
                .and_then(parse_kind)?;
            let blank = Settings {
                // A placeholder, so the name check passes: an unsaved endpoint needs no name.
                name: "ping".to_owned(),
                kind,
                url: String::new(),
                description: String::new(),
                insecure: false,
                credential: None,
            };
            (endpoint_of(0, apply(blank, draft)?), false)
        }
    };
    let health = match Upstream::new(endpoint, config) {
        Ok(upstream) => upstream.ping().await,
        Err(e) => Health {
            healthy: false,
            message: Some(e.to_string()),
            ratelimit_remaining: None,
        },
    };
    if let (Some(id), true) = (id, record) {
        db.record_registry_health(id, health.healthy, health.ratelimit_remaining.as_deref())
            .await?;
    }
    Ok(health)
}

/// A check of a stored endpoint sends its stored secret only where the endpoint itself would: to the same
/// type, URL and certificate checking, with the same access key. Otherwise the secret must come with the
/// request, or a check against another address would hand it the stored one.
fn check_secret_resent(
    before: &Settings,
    after: &Settings,
    draft: &Draft<'_>,
) -> Result<(), ServiceError> {
    let Some(credential) = &after.credential else {
        return Ok(());
    };
    let resent = draft.access_secret.is_some_and(|s| s != MASKED_SECRET);
    if resent || credential.secret.expose().is_empty() {
        return Ok(());
    }
    let mut moved = Vec::new();
    if after.kind != before.kind {
        moved.push("type");
    }
    if after.url != before.url {
        moved.push("url");
    }
    if after.insecure && !before.insecure {
        moved.push("insecure");
    }
    if before.credential.as_ref().map(|c| &c.username) != Some(&credential.username) {
        moved.push("access_key");
    }
    if moved.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Invalid(format!(
        "this check changes the endpoint's {}: send its access_secret too; the stored secret is only sent to \
         the endpoint as saved",
        moved.join(", ")
    )))
}

fn endpoint_of(id: i64, settings: Settings) -> Endpoint {
    Endpoint {
        id,
        kind: settings.kind,
        url: settings.url,
        insecure: settings.insecure,
        credential: settings.credential,
    }
}

/// The settings of a stored endpoint, in clear.
fn stored(row: &RegistryRow, secrets: &SecretBox) -> Result<Settings, ServiceError> {
    let endpoint = to_endpoint(row, secrets).map_err(|e| match e {
        EndpointError::Db(e) => ServiceError::Db(e),
        other @ EndpointError::Unusable { .. } => ServiceError::Invalid(other.to_string()),
    })?;
    Ok(Settings {
        name: row.name.clone(),
        kind: endpoint.kind,
        url: endpoint.url,
        description: row.description.clone(),
        insecure: endpoint.insecure,
        credential: endpoint.credential,
    })
}

/// `settings` with the draft's fields applied, checked.
fn apply(mut settings: Settings, draft: &Draft<'_>) -> Result<Settings, ServiceError> {
    if let Some(name) = draft.name {
        settings.name = name.trim().to_owned();
    }
    if let Some(kind) = draft.kind {
        settings.kind = parse_kind(kind)?;
    }
    if let Some(url) = draft.url {
        url.trim().clone_into(&mut settings.url);
    }
    if let Some(description) = draft.description {
        description.clone_into(&mut settings.description);
    }
    if let Some(insecure) = draft.insecure {
        settings.insecure = insecure;
    }
    if draft.ca_certificate.is_some_and(|ca| !ca.trim().is_empty()) {
        return Err(ServiceError::Invalid(
            "ca_certificate is not supported; use a certificate the system trusts, or insecure"
                .to_owned(),
        ));
    }
    if let Some(kind) = draft.credential_type.filter(|t| !t.is_empty())
        && kind != "basic"
    {
        return Err(ServiceError::Invalid(format!(
            "credential type {kind:?} is not supported; use \"basic\" (or no credential for anonymous access)"
        )));
    }
    if let Some(key) = draft.access_key {
        let key = key.trim();
        settings.credential = if key.is_empty() {
            None
        } else {
            let secret = settings
                .credential
                .take()
                .map_or_else(|| Secret::new(""), |c| c.secret);
            Some(Credential {
                username: key.to_owned(),
                secret,
            })
        };
    }
    if let Some(secret) = draft.access_secret.filter(|s| *s != MASKED_SECRET) {
        match &mut settings.credential {
            Some(credential) => credential.secret = Secret::new(secret),
            None if secret.is_empty() => {}
            None => {
                return Err(ServiceError::Invalid(
                    "an access_secret needs an access_key".to_owned(),
                ));
            }
        }
    }
    check_name(&settings.name)?;
    if settings.description.chars().count() > 1024 {
        return Err(ServiceError::Invalid(
            "description must have at most 1024 characters".to_owned(),
        ));
    }
    settings.url = check_url(settings.kind, &settings.url)?;
    Ok(settings)
}

fn parse_kind(kind: &str) -> Result<EndpointKind, ServiceError> {
    kind.parse::<EndpointKind>()
        .map_err(|e| ServiceError::Invalid(e.to_string()))
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    if (1..=255).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(
            "name must have 1 to 255 characters and no control characters".to_owned(),
        ))
    }
}

/// The URL as stored: `http://` or `https://` with a host, no trailing slash; the type's well-known registry
/// when empty.
fn check_url(kind: EndpointKind, url: &str) -> Result<String, ServiceError> {
    let url = url.trim().trim_end_matches('/');
    let url = match (url.is_empty(), kind.default_url()) {
        (false, _) => url,
        (true, Some(default)) => default,
        (true, None) => {
            return Err(ServiceError::Invalid(format!(
                "url is required for a {kind} registry"
            )));
        }
    };
    let invalid = |why: &str| {
        ServiceError::Invalid(format!(
            "invalid url {url:?}: {why}; use http:// or https:// with a host, e.g. https://registry.example.com"
        ))
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("not http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("a query or fragment is not allowed"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "put the user name and secret in the credential, not the URL",
        ));
    }
    Ok(url.to_owned())
}

/// The sealed secret of the settings' credential, if it has a non-empty one.
fn seal(secrets: &SecretBox, settings: &Settings) -> Result<Option<Vec<u8>>, ServiceError> {
    match &settings.credential {
        Some(credential) if !credential.secret.expose().is_empty() => secrets
            .seal(credential.secret.expose())
            .map(Some)
            .map_err(|e| ServiceError::Invalid(e.to_string())),
        _ => Ok(None),
    }
}

fn new_registry<'a>(settings: &'a Settings, sealed: Option<&'a [u8]>) -> NewRegistry<'a> {
    NewRegistry {
        name: &settings.name,
        kind: settings.kind.as_str(),
        url: &settings.url,
        description: &settings.description,
        insecure: settings.insecure,
        credential: settings
            .credential
            .as_ref()
            .map(|c| (c.username.as_str(), sealed.unwrap_or_default())),
    }
}

fn taken(error: sqlx::Error, name: &str) -> ServiceError {
    if is_unique_violation(&error) {
        ServiceError::Conflict(format!("a registry named {name:?} already exists"))
    } else {
        error.into()
    }
}

fn not_found(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("registry {id} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_trimmed() {
        let ok = |kind, url: &str| check_url(kind, url).ok();
        assert_eq!(
            ok(EndpointKind::DockerRegistry, "http://127.0.0.1:5000/").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            ok(EndpointKind::DockerHub, "").as_deref(),
            Some("https://hub.docker.com")
        );
        assert!(ok(EndpointKind::Harbor, "").is_none());
        assert!(ok(EndpointKind::Harbor, "ftp://h").is_none());
        assert!(ok(EndpointKind::Harbor, "harbor.example.com").is_none());
        assert!(ok(EndpointKind::Harbor, "https://u:p@h").is_none());
        assert!(ok(EndpointKind::Harbor, "https://").is_none());
    }

    #[test]
    fn credentials_follow_harbor() {
        let base = Settings {
            name: "r".to_owned(),
            kind: EndpointKind::DockerRegistry,
            url: "http://h".to_owned(),
            description: String::new(),
            insecure: false,
            credential: Some(Credential {
                username: "u".to_owned(),
                secret: Secret::new("s"),
            }),
        };
        // The mask keeps the secret; a new key keeps it too; an empty key is anonymous.
        let masked = Draft {
            access_secret: Some(MASKED_SECRET),
            ..Draft::default()
        };
        assert_eq!(apply(base.clone(), &masked).ok(), Some(base.clone()));
        let renamed = apply(
            base.clone(),
            &Draft {
                access_key: Some("v"),
                ..Draft::default()
            },
        )
        .ok()
        .and_then(|s| s.credential);
        assert_eq!(renamed.as_ref().map(|c| c.username.as_str()), Some("v"));
        assert_eq!(renamed.map(|c| c.secret), Some(Secret::new("s")));
        let anonymous = apply(
            base.clone(),
            &Draft {
                access_key: Some(""),
                ..Draft::default()
            },
        );
        assert_eq!(anonymous.ok().map(|s| s.credential), Some(None));
        assert!(
            apply(
                base.clone(),
                &Draft {
                    credential_type: Some("oauth"),
                    ..Draft::default()
                }
            )
            .is_err()
        );
        assert!(
            apply(
                base,
                &Draft {
                    ca_certificate: Some("-----BEGIN"),
                    ..Draft::default()
                }
            )
            .is_err()
        );
    }
}
