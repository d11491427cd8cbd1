//! OpenID Connect sign-in (`oidc_auth`): the relying-party side of the authorization code flow.
//!
//! The rule of this module: it talks to the OpenID Provider and nothing else. It knows no users, sessions or HTTP
//! routes; the `/c/oidc/*` handlers store the [`PendingLogin`] between the redirect and the callback, and turn an
//! [`OidcIdentity`] into a Berth user.
//!
//! - Discovery ([OpenID Connect Discovery 1.0 §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)):
//!   `<oidc_endpoint>/.well-known/openid-configuration`, whose `issuer` must be the configured endpoint (a
//!   trailing slash aside), then the provider's JWKS.
//! - Authorization ([OIDC Core §3.1.2](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)): the
//!   code flow with PKCE S256 ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)), a random `state` (checked in
//!   constant time) and `nonce`.
//! - The code is exchanged with `client_secret_basic` ([RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1));
//!   the ID token is validated as [OIDC Core §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
//!   says (signature against the JWKS, `iss`, `aud`, `exp`, `nonce`, and `at_hash` when present); userinfo
//!   ([§5.3](https://openid.net/specs/openid-connect-core-1_0.html#UserInfo)) completes the claims.
//! - Every request goes through one reqwest client with redirects off (an endpoint must not bounce Berth to an
//!   internal address), timeouts, and `oidc_verify_cert` honoured.
//!
//! Errors say which provider and which check failed, never a secret or a token, and have an [`OidcErrorKind`]
//! so the HTTP layer can tell the user's fault from the provider's and from the settings'.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::url::Url;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpClientError, IdTokenFields, JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, UserInfoError,
};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::secret::{Secret, StoredSecret};

/// OIDC settings, with Harbor's configuration keys (`oidc_<field>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `oidc_name`: the provider's name, shown on the sign-in button.
    pub name: String,
    /// `oidc_endpoint`: the issuer URL (discovery at `/.well-known/openid-configuration`); empty when not
    /// configured.
    pub endpoint: String,
    /// `oidc_client_id`.
    pub client_id: String,
    /// `oidc_client_secret`.
    pub client_secret: StoredSecret,
    /// `oidc_groups_claim`: the claim listing the user's groups; empty for none.
    pub groups_claim: String,
    /// `oidc_admin_group`: members of this group are system admins; empty for none.
    pub admin_group: String,
    /// `oidc_group_filter`: a regular expression group names must match to count; empty for all.
    pub group_filter: String,
    /// `oidc_scope`: comma separated; must include `openid`.
    pub scope: String,
    /// `oidc_user_claim`: the claim holding the username; empty for the default.
    pub user_claim: String,
    /// `oidc_verify_cert`.
    pub verify_cert: bool,
    /// `oidc_auto_onboard`: create users at first sign-in without asking for a username.
    pub auto_onboard: bool,
    /// `oidc_extra_redirect_parms`: a JSON object of strings, as text (Harbor returns it so), added to the
    /// authorization request.
    pub extra_redirect_parms: String,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            name: String::new(),
            endpoint: String::new(),
            client_id: String::new(),
            client_secret: StoredSecret::Unset,
            groups_claim: String::new(),
            admin_group: String::new(),
            group_filter: String::new(),
            scope: String::new(),
            user_claim: String::new(),
            verify_cert: true,
            auto_onboard: false,
            extra_redirect_parms: "{}".to_owned(),
        }
    }
}

impl OidcSettings {
    /// Whether an issuer is configured at all.
    pub fn is_configured(&self) -> bool {
        !self.endpoint.trim().is_empty()
    }
}

/// The scopes requested when `oidc_scope` is empty.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// How long a sign-in may take between the redirect to the provider and the callback.
pub const MAX_LOGIN_AGE: Duration = Duration::from_secs(10 * 60);

/// Connect timeout for every request to the provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout for every request to the provider.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest discovery document or JWKS accepted.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Authorization request parameters Berth sets itself; `oidc_extra_redirect_parms` may not override them.
const RESERVED_PARAMETERS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// Why an OIDC operation failed, by whose fault; the HTTP layer picks its status from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcErrorKind {
    /// The sign-in itself is not acceptable: tampered `state`, wrong `nonce`, an expired, replayed or refused
    /// code or refresh token. The user should start again (400/401).
    Refused,
    /// The provider could not be reached or did not answer in time (503).
    Unavailable,
    /// The provider answered, but not as a conforming OpenID Provider does (502).
    Provider,
    /// Berth's OIDC settings cannot work (500 for a sign-in; the admin must fix the configuration).
    Settings,
}

/// Which check of the ID token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenCheck {
    Missing,
    Signature,
    Issuer,
    Audience,
    Expiry,
    Nonce,
    AccessTokenHash,
    Other,
}

impl std::fmt::Display for IdTokenCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdTokenCheck::Missing => "presence",
            IdTokenCheck::Signature => "signature",
            IdTokenCheck::Issuer => "issuer (iss)",
            IdTokenCheck::Audience => "audience (aud)",
            IdTokenCheck::Expiry => "expiry (exp)",
            IdTokenCheck::Nonce => "nonce",
            IdTokenCheck::AccessTokenHash => "access token hash (at_hash)",
            IdTokenCheck::Other => "claims",
        })
    }
}

/// An OIDC failure. Messages name the provider and the check; they never contain secrets or tokens.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// `oidc_endpoint` is empty.
    #[error("OIDC is not configured: oidc_endpoint is empty")]
    NotConfigured,
    /// The settings cannot work (a scope list without `openid`, a bad regex, an unreadable client secret...).
    #[error("invalid OIDC settings: {0}")]
    InvalidSettings(String),
    /// The provider's discovery document names another issuer than the configured endpoint.
    #[error(
        "OIDC provider at {configured} says its issuer is {advertised}; set oidc_endpoint to the issuer URL exactly"
    )]
    IssuerMismatch {
        configured: String,
        advertised: String,
    },
    /// No connection, or no answer in time.
    #[error("OIDC provider {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The provider answered, but wrongly (an HTTP error, a redirect, a malformed document or response).
    #[error("OIDC provider {issuer}: {what}")]
    BadProvider { issuer: String, what: String },
    /// The token endpoint refused Berth's client authentication (`invalid_client`): the client id or secret is
    /// wrong.
    #[error(
        "OIDC provider {issuer} rejected Berth's client credentials (check oidc_client_id {client_id:?} and oidc_client_secret): {reason}"
    )]
    ClientRejected {
        issuer: String,
        client_id: String,
        reason: String,
    },
    /// The `state` returned to the callback is not the one this sign-in sent.
    #[error(
        "OIDC sign-in refused: the returned state does not match this sign-in (tampered, or another browser's)"
    )]
    StateMismatch,
    /// The sign-in started too long ago.
    #[error("OIDC sign-in refused: it started {age_seconds} s ago, longer than the {} s allowed", MAX_LOGIN_AGE.as_secs())]
    LoginExpired { age_seconds: i64 },
    /// The token endpoint refused the grant (`invalid_grant`): an expired, replayed or foreign code, or a revoked
    /// refresh token.
    #[error("OIDC provider {issuer} refused the {grant}: {reason}")]
    GrantRefused {
        issuer: String,
        grant: &'static str,
        reason: String,
    },
    /// The ID token failed a check.
    #[error("ID token from OIDC provider {issuer} failed the {check} check: {reason}")]
    IdTokenRejected {
        issuer: String,
        check: IdTokenCheck,
        reason: String,
    },
}

impl OidcError {
    /// Whose fault it is.
    pub fn kind(&self) -> OidcErrorKind {
        match self {
            OidcError::NotConfigured
            | OidcError::InvalidSettings(_)
            | OidcError::IssuerMismatch { .. }
            | OidcError::ClientRejected { .. } => OidcErrorKind::Settings,
            OidcError::Unreachable { .. } => OidcErrorKind::Unavailable,
            OidcError::BadProvider { .. } => OidcErrorKind::Provider,
            OidcError::StateMismatch
            | OidcError::LoginExpired { .. }
            | OidcError::GrantRefused { .. } => OidcErrorKind::Refused,
            OidcError::IdTokenRejected { check, .. } => match check {
                IdTokenCheck::Nonce => OidcErrorKind::Refused,
                _ => OidcErrorKind::Provider,
            },
        }
    }

    /// The sign-in was refused because of what the browser sent (state, nonce, code, age): the user should try
    /// again, and nothing is wrong with Berth or the provider.
    pub fn is_user_error(&self) -> bool {
        self.kind() == OidcErrorKind::Refused
    }

    /// Logs the failure of `operation` at a level matching its kind.
    fn log(&self, operation: &str) {
        match self.kind() {
            OidcErrorKind::Refused => {
                tracing::info!(operation, error = %self, "OIDC {operation} refused")
            }
            OidcErrorKind::Unavailable => tracing::warn!(
                operation,
                error = %self,
                "OIDC {operation} failed: the provider is unreachable; check that it is up and reachable from Berth"
            ),
            OidcErrorKind::Provider => tracing::warn!(
                operation,
                error = %self,
                "OIDC {operation} failed: the provider answered wrongly"
            ),
            OidcErrorKind::Settings => tracing::error!(
                operation,
                error = %self,
                "OIDC {operation} failed: fix the OIDC settings (Administration > Configuration > Authentication)"
            ),
        }
    }
}

/// A sign-in between the redirect to the provider and the callback; kept in the browser's server-side session.
/// It is single-use: the caller removes it from the session before calling [`OidcClient::finish`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent to the provider; the callback must return it.
    pub state: String,
    /// The `nonce` sent to the provider; the ID token must carry it.
    pub nonce: Secret,
    /// The PKCE code verifier, sent with the code.
    pub pkce_verifier: Secret,
    /// When the sign-in started, in Unix seconds.
    pub created_at: i64,
}

impl PendingLogin {
    /// Seconds since the sign-in started.
    pub fn age_seconds(&self) -> i64 {
        chrono::Utc::now().timestamp() - self.created_at
    }
}

/// Who signed in, as the provider says. Serializable so that a new user's identity can wait in their session
/// while they choose a username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcIdentity {
    /// The ID token's `iss`.
    pub issuer: String,
    /// The ID token's `sub`: with `issuer`, the user's stable identity.
    pub subject: String,
    /// From `oidc_user_claim`, or by default the `name` claim, else `preferred_username`; `None` when absent
    /// (the user then chooses a username at first sign-in).
    pub username: Option<String>,
    pub email: Option<String>,
    /// The `name` claim.
    pub display_name: Option<String>,
    /// `oidc_groups_claim` from the ID token and userinfo together, de-duplicated, filtered by
    /// `oidc_group_filter`.
    pub groups: Vec<String>,
    /// `oidc_admin_group` is among the user's groups (before filtering, as in Harbor).
    pub is_admin: bool,
    /// Issued when `offline_access` was granted; lets Berth re-validate the user's session later.
    pub refresh_token: Option<Secret>,
}

/// Claims beyond the standard ones (the groups claim, a custom username claim), kept as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ExtraClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for ExtraClaims {}

type ProviderTokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// `openidconnect`'s client as built from discovery: authorization endpoint set, token and userinfo endpoints as
/// the provider advertises them.
type ProviderClient = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    ProviderTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type TokenError = RequestTokenError<
    HttpClientError<reqwest::Error>,
    StandardErrorResponse<CoreErrorResponseType>,
>;

/// A relying party for one provider, as configured; cheap to clone.
#[derive(Clone)]
pub struct OidcClient {
    inner: Arc<Configured>,
}

struct Configured {
    settings: OidcSettings,
    issuer: String,
    provider: ProviderClient,
    http: reqwest::Client,
    /// Requested scopes besides `openid`, which `openidconnect` adds itself.
    scopes: Vec<String>,
    extra_parameters: Vec<(String, String)>,
    group_filter: Option<Regex>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.inner.issuer)
            .field("client_id", &self.inner.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// Checks `settings`, then fetches the provider's discovery document and JWKS. `redirect_url` is Berth's
    /// callback, `<external base>/c/oidc/callback`, as registered with the provider.
    pub async fn discover(
        settings: &OidcSettings,
        redirect_url: &str,
    ) -> Result<OidcClient, OidcError> {
        let result = OidcClient::discover_inner(settings, redirect_url).await;
        match &result {
            Ok(client) => tracing::info!(
                issuer = %client.inner.issuer,
                client_id = %settings.client_id,
                userinfo = client.inner.provider.user_info_url().is_some(),
                "OIDC provider discovered"
            ),
            Err(e) => e.log("discovery"),
        }
        result
    }

    async fn discover_inner(
        settings: &OidcSettings,
        redirect_url: &str,
    ) -> Result<OidcClient, OidcError> {
        if !settings.is_configured() {
            return Err(OidcError::NotConfigured);
        }
        if settings.client_id.trim().is_empty() {
            return Err(OidcError::InvalidSettings(
                "oidc_client_id is empty".to_owned(),
            ));
        }
        let client_secret = match settings.client_secret.get() {
            Ok(Some(secret)) => ClientSecret::new(secret.expose().to_owned()),
            Ok(None) => {
                return Err(OidcError::InvalidSettings(
                    "oidc_client_secret is not set".to_owned(),
                ));
            }
            Err(_) => {
                return Err(OidcError::InvalidSettings(
                    "oidc_client_secret cannot be decrypted with the current secret key (was the key changed?); enter the secret again"
                        .to_owned(),
                ));
            }
        };
        let scopes = parse_scopes(&settings.scope)?;
        let extra_parameters = parse_extra_parameters(&settings.extra_redirect_parms)?;
        let group_filter = parse_group_filter(&settings.group_filter)?;
        let redirect_url = RedirectUrl::new(redirect_url.to_owned()).map_err(|e| {
            OidcError::InvalidSettings(format!("redirect URL {redirect_url:?} is not a URL: {e}"))
        })?;

        let http = http_client(settings.verify_cert)?;
        let metadata = discover_metadata(&http, &settings.endpoint).await?;
        let issuer = metadata.issuer().as_str().to_owned();
        if metadata.token_endpoint().is_none() {
            return Err(OidcError::BadProvider {
                issuer,
                what: "its discovery document has no token_endpoint".to_owned(),
            });
        }
        let provider = ProviderClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(client_secret),
        )
        .set_redirect_uri(redirect_url);
        Ok(OidcClient {
            inner: Arc::new(Configured {
                settings: settings.clone(),
                issuer,
                provider,
                http,
                scopes,
                extra_parameters,
                group_filter,
            }),
        })
    }

    /// The settings this client was built from (to tell whether a cached client is still current).
    pub fn settings(&self) -> &OidcSettings {
        &self.inner.settings
    }

    /// The issuer, as the provider's discovery document spells it.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The URL to send the browser to, and what to keep until the callback.
    pub fn authorize(&self) -> (Url, PendingLogin) {
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .inner
            .provider
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(pkce_challenge)
            .add_scopes(self.inner.scopes.iter().cloned().map(Scope::new));
        for (name, value) in &self.inner.extra_parameters {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: Secret::new(nonce.secret().clone()),
            pkce_verifier: Secret::new(pkce_verifier.secret().clone()),
            created_at: chrono::Utc::now().timestamp(),
        };
        tracing::debug!(issuer = %self.inner.issuer, "OIDC sign-in started");
        (url, pending)
    }

    /// Completes a sign-in at the callback: checks `returned_state` and the login's age, exchanges `code`,
    /// validates the ID token and reads userinfo.
    pub async fn finish(
        &self,
        pending: &PendingLogin,
        returned_state: &str,
        code: &str,
    ) -> Result<OidcIdentity, OidcError> {
        let result = self.finish_inner(pending, returned_state, code).await;
        match &result {
            Ok(identity) => tracing::info!(
                issuer = %identity.issuer,
                subject = %identity.subject,
                username = identity.username.as_deref().unwrap_or(""),
                groups = identity.groups.len(),
                admin = identity.is_admin,
                "OIDC sign-in verified"
            ),
            Err(e) => e.log("sign-in"),
        }
        result
    }

    async fn finish_inner(
        &self,
        pending: &PendingLogin,
        returned_state: &str,
        code: &str,
    ) -> Result<OidcIdentity, OidcError> {
        // Local checks first: a forged callback never reaches the provider.
        if !bool::from(pending.state.as_bytes().ct_eq(returned_state.as_bytes())) {
            return Err(OidcError::StateMismatch);
        }
        let age_seconds = pending.age_seconds();
        let max_age = i64::try_from(MAX_LOGIN_AGE.as_secs()).unwrap_or(i64::MAX);
        // A login "from the future" (beyond small clock steps) is as suspect as an old one.
        if age_seconds > max_age || age_seconds < -60 {
            return Err(OidcError::LoginExpired { age_seconds });
        }

        let issuer = &self.inner.issuer;
        let provider = &self.inner.provider;
        let token = provider
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| self.bad_provider(format!("cannot exchange the code: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(
                pending.pkce_verifier.expose().to_owned(),
            ))
            .request_async(&self.inner.http)
            .await
            .map_err(|e| self.token_error("authorization code", e))?;

        let id_token = token.id_token().ok_or_else(|| OidcError::IdTokenRejected {
            issuer: issuer.clone(),
            check: IdTokenCheck::Missing,
            reason: "the token response has no id_token".to_owned(),
        })?;
        let verifier = provider.id_token_verifier();
        let nonce = Nonce::new(pending.nonce.expose().to_owned());
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| self.id_token_error(&e))?;
        if let Some(expected) = claims.access_token_hash() {
            let actual = id_token
                .signing_alg()
                .and_then(|alg| id_token.signing_key(&verifier).map(|key| (alg, key)))
                .map_err(|e| self.id_token_rejected(IdTokenCheck::AccessTokenHash, error_chain(&e)))
                .and_then(|(alg, key)| {
                    AccessTokenHash::from_token(token.access_token(), alg, key).map_err(|e| {
                        self.id_token_rejected(IdTokenCheck::AccessTokenHash, error_chain(&e))
                    })
                })?;
            if actual != *expected {
                return Err(self.id_token_rejected(
                    IdTokenCheck::AccessTokenHash,
                    "at_hash does not match the access token".to_owned(),
                ));
            }
        }
        let subject = claims.subject().as_str().to_owned();
        let id_claims = claims_map(claims);

        let userinfo_claims = match provider
            .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        {
            // The provider has no userinfo endpoint: the ID token is all there is.
            Err(_) => Map::new(),
            Ok(request) => {
                let userinfo = request
                    .request_async::<ExtraClaims, _, CoreGenderClaim>(&self.inner.http)
                    .await
                    .map_err(|e| self.userinfo_error(e))?;
                claims_map(&userinfo)
            }
        };

        let identity = self.identity(
            claims.issuer().as_str().to_owned(),
            subject,
            &id_claims,
            &userinfo_claims,
            token
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
        );
        Ok(identity)
    }

    /// Builds the identity from the ID token's and userinfo's claims; userinfo wins where both have a claim.
    fn identity(
        &self,
        issuer: String,
        subject: String,
        id_claims: &Map<String, Value>,
        userinfo_claims: &Map<String, Value>,
        refresh_token: Option<Secret>,
    ) -> OidcIdentity {
        let settings = &self.inner.settings;
        let string_claim = |name: &str| {
            [userinfo_claims, id_claims]
                .into_iter()
                .find_map(|claims| claims.get(name).and_then(Value::as_str))
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let user_claim = settings.user_claim.trim();
        let username = if user_claim.is_empty() {
            string_claim("name").or_else(|| string_claim("preferred_username"))
        } else {
            string_claim(user_claim)
        };

        let groups_claim = settings.groups_claim.trim();
        let mut all_groups = Vec::new();
        if !groups_claim.is_empty() {
            let mut seen = HashSet::new();
            for claims in [id_claims, userinfo_claims] {
                for group in group_names(claims.get(groups_claim)) {
                    if seen.insert(group.clone()) {
                        all_groups.push(group);
                    }
                }
            }
        }
        let admin_group = settings.admin_group.trim();
        let is_admin = !admin_group.is_empty() && all_groups.iter().any(|g| g == admin_group);
        let groups = match &self.inner.group_filter {
            Some(filter) => all_groups
                .into_iter()
                .filter(|g| filter.is_match(g))
                .collect(),
            None => all_groups,
        };

        OidcIdentity {
            issuer,
            subject,
            username,
            email: string_claim("email"),
            display_name: string_claim("name"),
            groups,
            is_admin,
            refresh_token,
        }
    }

    /// Re-validates a user's OIDC session: exchanges `refresh_token` at the token endpoint. Returns the new
    /// refresh token when the provider rotated it (the old one may then be spent); `Refused` when the provider
    /// no longer honours the token (revoked, expired, user removed).
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Option<Secret>, OidcError> {
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let result = match self.inner.provider.exchange_refresh_token(&token) {
            Err(e) => Err(self.bad_provider(format!("cannot use a refresh token: {e}"))),
            Ok(request) => request
                .request_async(&self.inner.http)
                .await
                .map(|response| {
                    response
                        .refresh_token()
                        .map(|t| Secret::new(t.secret().clone()))
                })
                .map_err(|e| self.token_error("refresh token", e)),
        };
        match &result {
            Ok(_) => tracing::debug!(issuer = %self.inner.issuer, "OIDC session re-validated"),
            Err(e) => e.log("session re-validation"),
        }
        result
    }

    fn bad_provider(&self, what: String) -> OidcError {
        OidcError::BadProvider {
            issuer: self.inner.issuer.clone(),
            what,
        }
    }

    fn id_token_rejected(&self, check: IdTokenCheck, reason: String) -> OidcError {
        OidcError::IdTokenRejected {
            issuer: self.inner.issuer.clone(),
            check,
            reason,
        }
    }

    fn id_token_error(&self, error: &ClaimsVerificationError) -> OidcError {
        let check = match error {
            ClaimsVerificationError::SignatureVerification(_) => IdTokenCheck::Signature,
            ClaimsVerificationError::InvalidIssuer(_) => IdTokenCheck::Issuer,
            ClaimsVerificationError::InvalidAudience(_) => IdTokenCheck::Audience,
            ClaimsVerificationError::Expired(_) => IdTokenCheck::Expiry,
            ClaimsVerificationError::InvalidNonce(_) => IdTokenCheck::Nonce,
            _ => IdTokenCheck::Other,
        };
        let reason = match check {
            IdTokenCheck::Nonce => {
                "its nonce is not the one this sign-in sent (a replayed or injected ID token)"
                    .to_owned()
            }
            IdTokenCheck::Expiry => format!("{} (is Berth's clock right?)", error_chain(error)),
            _ => error_chain(error),
        };
        self.id_token_rejected(check, reason)
    }

    /// Maps a failed token request: `invalid_grant` is the user's (or an attacker's) problem, `invalid_client`
    /// the settings', anything else the provider's.
    fn token_error(&self, grant: &'static str, error: TokenError) -> OidcError {
        let issuer = self.inner.issuer.clone();
        match error {
            RequestTokenError::ServerResponse(response) => {
                let reason = match response.error_description() {
                    Some(description) => format!("{}: {}", response.error(), truncate(description)),
                    None => response.error().to_string(),
                };
                match response.error() {
                    CoreErrorResponseType::InvalidGrant => OidcError::GrantRefused {
                        issuer,
                        grant,
                        reason,
                    },
                    CoreErrorResponseType::InvalidClient
                    | CoreErrorResponseType::UnauthorizedClient => OidcError::ClientRejected {
                        issuer,
                        client_id: self.inner.settings.client_id.clone(),
                        reason,
                    },
                    _ => OidcError::BadProvider {
                        issuer,
                        what: format!("the token endpoint refused the {grant}: {reason}"),
                    },
                }
            }
            RequestTokenError::Request(e) => OidcError::Unreachable {
                url: self
                    .inner
                    .provider
                    .token_uri()
                    .map(|u| u.to_string())
                    .unwrap_or(issuer),
                reason: error_chain(&e),
            },
            // The body is not quoted: a half-parsed token response may hold tokens.
            RequestTokenError::Parse(e, _body) => OidcError::BadProvider {
                issuer,
                what: format!(
                    "the token endpoint's answer to the {grant} is not a token response: {e}"
                ),
            },
            RequestTokenError::Other(what) => OidcError::BadProvider {
                issuer,
                what: format!(
                    "the token endpoint's answer to the {grant}: {}",
                    truncate(&what)
                ),
            },
        }
    }

    fn userinfo_error(&self, error: UserInfoError<HttpClientError<reqwest::Error>>) -> OidcError {
        match error {
            UserInfoError::Request(e) => OidcError::Unreachable {
                url: self
                    .inner
                    .provider
                    .user_info_url()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| self.inner.issuer.clone()),
                reason: error_chain(&e),
            },
            UserInfoError::Response(status, _body, _) => {
                self.bad_provider(format!("the userinfo endpoint answered HTTP {status}"))
            }
            other => self.bad_provider(format!("userinfo: {}", error_chain(&other))),
        }
    }
}

/// Checks an issuer URL for `POST /system/oidc/ping`: its discovery document and JWKS load, and the document's
/// `issuer` is `url` (a trailing slash aside).
pub async fn ping(url: &str, verify_cert: bool) -> Result<(), OidcError> {
    let result = async {
        let http = http_client(verify_cert)?;
        discover_metadata(&http, url).await.map(|_| ())
    }
    .await;
    match &result {
        Ok(()) => tracing::info!(issuer = url, "OIDC ping succeeded"),
        Err(e) => tracing::info!(issuer = url, error = %e, "OIDC ping failed"),
    }
    result
}

/// The reqwest client for one provider: no redirects (SSRF), timeouts, certificate checks per `verify_cert`.
fn http_client(verify_cert: bool) -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .danger_accept_invalid_certs(!verify_cert)
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            OidcError::InvalidSettings(format!("cannot build the HTTP client: {}", error_chain(&e)))
        })
}

/// Fetches and checks the discovery document at `endpoint`, then its JWKS.
async fn discover_metadata(
    http: &reqwest::Client,
    endpoint: &str,
) -> Result<CoreProviderMetadata, OidcError> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(OidcError::NotConfigured);
    }
    let base = Url::parse(endpoint).map_err(|e| {
        OidcError::InvalidSettings(format!("oidc_endpoint {endpoint:?} is not a URL: {e}"))
    })?;
    if !matches!(base.scheme(), "https" | "http")
        || base.query().is_some()
        || base.fragment().is_some()
    {
        return Err(OidcError::InvalidSettings(format!(
            "oidc_endpoint {endpoint:?} must be an http(s) URL without query or fragment"
        )));
    }
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        endpoint.trim_end_matches('/')
    );
    let metadata: CoreProviderMetadata =
        fetch_json(http, endpoint, &discovery_url, "the discovery document").await?;
    let advertised = metadata.issuer().as_str();
    if advertised.trim_end_matches('/') != endpoint.trim_end_matches('/') {
        return Err(OidcError::IssuerMismatch {
            configured: endpoint.to_owned(),
            advertised: advertised.to_owned(),
        });
    }
    let jwks_url = metadata.jwks_uri().url().as_str().to_owned();
    let jwks: JsonWebKeySet<CoreJsonWebKey> =
        fetch_json(http, advertised, &jwks_url, "the JWKS").await?;
    if jwks.keys().is_empty() {
        return Err(OidcError::BadProvider {
            issuer: advertised.to_owned(),
            what: format!("the JWKS at {jwks_url} has no keys"),
        });
    }
    Ok(metadata.set_jwks(jwks))
}

/// GETs a JSON document from the provider.
async fn fetch_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    issuer: &str,
    url: &str,
    what: &str,
) -> Result<T, OidcError> {
    let bad = |problem: String| OidcError::BadProvider {
        issuer: issuer.to_owned(),
        what: format!("{what} at {url} {problem}"),
    };
    let response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| OidcError::Unreachable {
            url: url.to_owned(),
            reason: error_chain(&e.without_url()),
        })?;
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("?");
        return Err(bad(format!(
            "answered HTTP {status}, a redirect to {location}, which Berth does not follow; configure the final URL"
        )));
    }
    if !status.is_success() {
        return Err(bad(format!(
            "answered HTTP {status}; is this an OpenID Provider's issuer URL?"
        )));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(bad(format!("is larger than {MAX_DOCUMENT_BYTES} bytes")));
    }
    let body = response.bytes().await.map_err(|e| OidcError::Unreachable {
        url: url.to_owned(),
        reason: error_chain(&e.without_url()),
    })?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(bad(format!("is larger than {MAX_DOCUMENT_BYTES} bytes")));
    }
    serde_json::from_slice(&body).map_err(|e| bad(format!("is not valid: {e}")))
}

/// `oidc_scope` as requested, without `openid` (which `openidconnect` adds).
fn parse_scopes(setting: &str) -> Result<Vec<String>, OidcError> {
    let configured: Vec<&str> = setting
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let scopes = if configured.is_empty() {
        DEFAULT_SCOPES.to_vec()
    } else {
        configured
    };
    if !scopes.contains(&"openid") {
        return Err(OidcError::InvalidSettings(format!(
            "oidc_scope {setting:?} must include openid"
        )));
    }
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    if let Some(bad) = scopes.iter().find(|s| {
        !s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    }) {
        return Err(OidcError::InvalidSettings(format!(
            "oidc_scope has an invalid scope {bad:?}"
        )));
    }
    let mut seen = HashSet::new();
    Ok(scopes
        .into_iter()
        .filter(|s| *s != "openid" && seen.insert(*s))
        .map(str::to_owned)
        .collect())
}

/// `oidc_extra_redirect_parms`: a JSON object of strings.
fn parse_extra_parameters(setting: &str) -> Result<Vec<(String, String)>, OidcError> {
    if setting.trim().is_empty() {
        return Ok(Vec::new());
    }
    let object: Map<String, Value> = serde_json::from_str(setting).map_err(|e| {
        OidcError::InvalidSettings(format!(
            "oidc_extra_redirect_parms is not a JSON object of strings: {e}"
        ))
    })?;
    object
        .into_iter()
        .map(|(name, value)| {
            if RESERVED_PARAMETERS.contains(&name.as_str()) {
                return Err(OidcError::InvalidSettings(format!(
                    "oidc_extra_redirect_parms sets {name:?}, which Berth sets itself"
                )));
            }
            match value {
                Value::String(value) => Ok((name, value)),
                other => Err(OidcError::InvalidSettings(format!(
                    "oidc_extra_redirect_parms: the value of {name:?} must be a string, not {other}"
                ))),
            }
        })
        .collect()
}

fn parse_group_filter(setting: &str) -> Result<Option<Regex>, OidcError> {
    if setting.is_empty() {
        return Ok(None);
    }
    Regex::new(setting).map(Some).map_err(|e| {
        // regex's message spans lines (it draws a caret under the error); keep log lines single.
        let reason = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        OidcError::InvalidSettings(format!(
            "oidc_group_filter {setting:?} is not a valid regular expression: {reason}"
        ))
    })
}

/// The claims as a JSON object (standard and extra claims alike).
fn claims_map(claims: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A groups claim's names: an array of strings, or a single string.
fn group_names(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::String(group)) => vec![group.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// An error with its sources, `outer: inner: innermost`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// Provider-supplied text, cut to a length fit for a log line.
fn truncate(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing test panics")]
mod tests {
    use super::*;

    #[test]
    fn scopes_default_and_require_openid() {
        assert_eq!(parse_scopes("").unwrap(), vec!["profile", "email"]);
        assert_eq!(
            parse_scopes("openid, offline_access,groups,groups").unwrap(),
            vec!["offline_access", "groups"]
        );
        assert!(matches!(
            parse_scopes("profile,email"),
            Err(OidcError::InvalidSettings(_))
        ));
        assert!(matches!(
            parse_scopes("openid,bad scope"),
            Err(OidcError::InvalidSettings(_))
        ));
    }

    #[test]
    fn extra_parameters_are_strings_and_not_reserved() {
        assert_eq!(
            parse_extra_parameters(r#"{"prompt":"consent"}"#).unwrap(),
            vec![("prompt".to_owned(), "consent".to_owned())]
        );
        assert!(parse_extra_parameters("{}").unwrap().is_empty());
        assert!(parse_extra_parameters("").unwrap().is_empty());
        assert!(parse_extra_parameters(r#"{"state":"x"}"#).is_err());
        assert!(parse_extra_parameters(r#"{"max_age":5}"#).is_err());
        assert!(parse_extra_parameters("[1]").is_err());
    }

    #[test]
    fn group_claims_are_arrays_or_strings() {
        assert_eq!(
            group_names(Some(&serde_json::json!(["a", 1, "b"]))),
            vec!["a", "b"]
        );
        assert_eq!(group_names(Some(&serde_json::json!("a"))), vec!["a"]);
        assert!(group_names(Some(&serde_json::json!({"a": 1}))).is_empty());
        assert!(group_names(None).is_empty());
    }

    #[test]
    fn invalid_group_filter_is_a_settings_error() {
        let error = parse_group_filter("(unclosed").unwrap_err();
        assert_eq!(error.kind(), OidcErrorKind::Settings);
        assert!(parse_group_filter("").unwrap().is_none());
    }
}
