//! The client for one upstream registry: the distribution API with Basic or Bearer-token auth.
//!
//! Auth follows the Docker token flow (<https://distribution.github.io/distribution/spec/auth/token/>): a request
//! is sent with what worked last time; on `401` the `WWW-Authenticate` challenge says what to do. A `Basic`
//! challenge is answered with the endpoint's credential, and from then on it is sent up front. A `Bearer` challenge
//! names a realm (any URL) and scope; the token fetched there (with the credential, or anonymously) is kept per
//! scope until it expires, so a busy proxy logs in once per repository and token lifetime, not once per pull.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;

use super::egress::{Egress, GuardedResolver, origin};
use super::endpoint::Endpoint;
use crate::config::ProxyConfig;

/// Media types asked for when fetching manifests: every image manifest and index Berth stores.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5, \
application/vnd.oci.artifact.manifest.v1+json;q=0.5";

/// A token is dropped this long before its stated expiry, so it never expires in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);
/// The token lifetime assumed when the token service does not state one (the spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest an upstream token is kept, whatever `expires_in` the token service states.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Why the upstream could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// No connection, a reset, a TLS failure or a timeout.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// The upstream refused the credential (or anonymous access).
    #[error("upstream authentication failed: {0}")]
    Unauthorized(String),
    /// The endpoint is misconfigured (a bad URL).
    #[error("invalid upstream endpoint: {0}")]
    Invalid(String),
}

/// The body of a request to the upstream.
pub enum RequestBody {
    Empty,
    /// Bytes, sent again after an auth challenge.
    Bytes(bytes::Bytes),
    /// A stream, sent once.
    Stream(reqwest::Body),
}

impl RequestBody {
    /// The body of the first attempt and of the one after a challenge (none for a stream).
    fn split(self) -> (Option<reqwest::Body>, Option<reqwest::Body>) {
        match self {
            RequestBody::Empty => (None, None),
            RequestBody::Bytes(bytes) => (Some(bytes.clone().into()), Some(bytes.into())),
            RequestBody::Stream(body) => (Some(body), None),
        }
    }
}

/// How the last successful request was authorised.
#[derive(Debug, Default)]
struct AuthState {
    /// The upstream asked for Basic auth once; send it up front.
    basic: bool,
    /// Bearer tokens by scope (`""` for the base endpoint), with their expiry.
    tokens: HashMap<String, (String, Instant)>,
}

/// What a `GET /v2/` check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub healthy: bool,
    /// Why it is unhealthy, or `None`.
    pub message: Option<String>,
    /// The upstream's `ratelimit-remaining` header, when it sent one (Docker Hub does).
    pub ratelimit_remaining: Option<String>,
}

/// A client for one endpoint. Cheap to share; keeps the endpoint's auth state.
#[derive(Debug)]
pub struct Upstream {
    endpoint: Endpoint,
    base: String,
    /// Where this client may connect and send the credential (see [`super::egress`]).
    egress: Arc<Egress>,
    http: reqwest::Client,
    request_timeout: Duration,
    auth: Mutex<AuthState>,
    /// The last `ratelimit-remaining` seen.
    ratelimit: Mutex<Option<String>>,
}

/// One `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other,
}

#[derive(Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

impl Upstream {
    pub fn new(endpoint: Endpoint, config: &ProxyConfig) -> Result<Upstream, UpstreamError> {
        let base = endpoint.api_base();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| UpstreamError::Invalid(format!("{base}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(UpstreamError::Invalid(format!(
                "{base}: the URL must be http:// or https:// with a host"
            )));
        }
        let egress = Arc::new(Egress::new(&parsed));
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .read_timeout(config.read_timeout())
            .danger_accept_invalid_certs(endpoint.insecure)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .redirect(egress.redirect_policy(endpoint.id))
            .dns_resolver(Arc::new(GuardedResolver {
                egress: egress.clone(),
                endpoint_id: endpoint.id,
            }))
            .build()
            .map_err(|e| UpstreamError::Invalid(e.to_string()))?;
        Ok(Upstream {
            endpoint,
            base,
            egress,
            http,
            request_timeout: config.request_timeout(),
            auth: Mutex::new(AuthState::default()),
            ratelimit: Mutex::new(None),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The last `ratelimit-remaining` header the upstream sent.
    pub fn ratelimit_remaining(&self) -> Option<String> {
        lock(&self.ratelimit).clone()
    }

    /// Checks that the upstream answers `/v2/` and accepts the credential. On Docker Hub it also reads the pull
    /// limit left, with a `HEAD` of the image Docker documents for that (a `HEAD` does not count as a pull).
    pub async fn ping(&self) -> Health {
        match self.send(Method::HEAD, "/v2/", "", None).await {
            Ok(response) if response.status().is_success() => {
                if self.endpoint.kind == super::EndpointKind::DockerHub {
                    let probe = "ratelimitpreview/test";
                    let path = format!("/v2/{probe}/manifests/latest");
                    if let Err(e) = self
                        .request(Method::HEAD, probe, &path, Some(MANIFEST_ACCEPT))
                        .await
                    {
                        tracing::debug!(error = %e, "Docker Hub rate-limit probe failed");
                    }
                }
                Health {
                    healthy: true,
                    message: None,
                    ratelimit_remaining: self.ratelimit_remaining(),
                }
            }
            Ok(response) => Health {
                healthy: false,
                message: Some(format!("/v2/ answered {}", response.status())),
                ratelimit_remaining: self.ratelimit_remaining(),
            },
            Err(e) => Health {
                healthy: false,
                message: Some(e.to_string()),
                ratelimit_remaining: None,
            },
        }
    }

    /// Sends `method` to `path` of repository `repository` (for the token scope), with `accept` if given, and
    /// answers the auth challenge if one comes. The whole exchange up to the response headers must finish within
    /// the request timeout; the body is read by the caller.
    pub async fn request(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Response, UpstreamError> {
        let scope = format!("repository:{repository}:pull");
        self.send(method, path, &scope, accept).await
    }

    /// Sends `method` to `path` with `headers` and `body`, authorised for `actions` (e.g. `pull,push`) on
    /// `repository` (`None`: the registry's catalog). A [`RequestBody::Stream`] is sent once, with the auth an
    /// earlier request of the same scope earned: a challenge then is an error, since the body is gone.
    pub async fn exchange(
        &self,
        method: Method,
        repository: Option<&str>,
        actions: &str,
        path: &str,
        headers: HeaderMap,
        body: RequestBody,
    ) -> Result<Response, UpstreamError> {
        let scope = match repository {
            Some(repository) => format!("repository:{repository}:{actions}"),
            None => "registry:catalog:*".to_owned(),
        };
        self.send_full(method, path, &scope, headers, body).await
    }

    /// Sends a request to the registry's own REST API (Harbor's `/api/v2.0`) with the endpoint's credential
    /// up front (Basic), as Harbor's API expects; a JSON `body` if given.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, UpstreamError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(header::ACCEPT, "application/json");
        if let Some(basic) = self.basic_header() {
            request = request.header(header::AUTHORIZATION, basic);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        tokio::time::timeout(self.request_timeout, request.send())
            .await
            .map_err(|_| UpstreamError::Unreachable("no answer in time".to_owned()))?
            .map_err(|e| unreachable(&e))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        accept: Option<&str>,
    ) -> Result<Response, UpstreamError> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept.and_then(|a| HeaderValue::from_str(a).ok()) {
            headers.insert(header::ACCEPT, accept);
        }
        self.send_full(method, path, scope, headers, RequestBody::Empty)
            .await
    }

    async fn send_full(
        &self,
        method: Method,
        path: &str,
        scope: &str,
        headers: HeaderMap,
        body: RequestBody,
    ) -> Result<Response, UpstreamError> {
        let streamed = matches!(body, RequestBody::Stream(_));
        let (first, again) = body.split();
        let exchange = async {
            let response = self
                .send_once(&method, path, &headers, first, self.saved_auth(scope))
                .await?;
            if response.status() == StatusCode::UNAUTHORIZED && streamed {
                return Err(UpstreamError::Unauthorized(
                    "the upstream asked for credentials during a streamed upload".to_owned(),
                ));
            }
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            // A challenge is the endpoint's to make: one from a host a redirect led to is not answered.
            if let Some(reason) = self.foreign_challenge(response.url()) {
                tracing::warn!(endpoint = self.endpoint.id, %reason, "proxy: ignored an auth challenge from another host");
                return Err(UpstreamError::Unauthorized(reason));
            }
            let challenge = parse_challenge(response.headers());
            let auth = match challenge {
                Challenge::Basic => {
                    let Some(basic) = self.basic_header() else {
                        return Ok(response);
                    };
                    lock(&self.auth).basic = true;
                    basic
                }
                Challenge::Bearer {
                    realm,
                    service,
                    scope: challenged,
                } => {
                    let wanted = challenged.unwrap_or_else(|| scope.to_owned());
                    let token = self
                        .fetch_token(&realm, service.as_deref(), &wanted, scope)
                        .await?;
                    HeaderValue::from_str(&format!("Bearer {token}"))
                        .map_err(|_| UpstreamError::Unauthorized("malformed token".to_owned()))?
                }
                Challenge::Other => return Ok(response),
            };
            let response = self
                .send_once(&method, path, &headers, again, Some(auth))
                .await?;
            if response.status() == StatusCode::UNAUTHORIZED {
                // A token that stopped working (revoked, or the credential changed upstream): forget it.
                lock(&self.auth).tokens.remove(scope);
                let reason = if self.endpoint.credential.is_some() {
                    "the upstream refused the endpoint's credential"
                } else {
                    "the upstream requires a credential"
                };
                return Err(UpstreamError::Unauthorized(reason.to_owned()));
            }
            Ok(response)
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| {
                UpstreamError::Unreachable(format!(
                    "no answer within {} ms",
                    self.request_timeout.as_millis()
                ))
            })?
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: Option<reqwest::Body>,
        auth: Option<HeaderValue>,
    ) -> Result<Response, UpstreamError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .headers(headers.clone());
        if let Some(body) = body {
            request = request.body(body);
        }
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let response = request.send().await.map_err(|e| unreachable(&e))?;
        if let Some(remaining) = response
            .headers()
            .get("ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
        {
            *lock(&self.ratelimit) = Some(remaining.to_owned());
        }
        Ok(response)
    }

    /// Why a `401` from `url` is not the endpoint's own challenge (it came from another host or port, where a
    /// redirect led), or `None` if it is.
    fn foreign_challenge(&self, url: &reqwest::Url) -> Option<String> {
        let endpoint = reqwest::Url::parse(&self.base).ok()?;
        let same = url
            .host_str()
            .unwrap_or_default()
            .eq_ignore_ascii_case(endpoint.host_str().unwrap_or_default())
            && url.port_or_known_default() == endpoint.port_or_known_default();
        (!same).then(|| {
            format!(
                "the upstream redirected to {}, which asked for credentials; Berth sends them only to the endpoint",
                origin(url)
            )
        })
    }

    /// What to send up front for `scope`: a live token, else Basic if the upstream wanted it.
    fn saved_auth(&self, scope: &str) -> Option<HeaderValue> {
        let mut auth = lock(&self.auth);
        if let Some((token, expires)) = auth.tokens.get(scope) {
            if *expires > Instant::now() {
                return HeaderValue::from_str(&format!("Bearer {token}")).ok();
            }
            auth.tokens.remove(scope);
        }
        let basic = auth.basic;
        drop(auth);
        basic.then(|| self.basic_header()).flatten()
    }

    fn basic_header(&self) -> Option<HeaderValue> {
        use base64::Engine as _;
        let credential = self.endpoint.credential.as_ref()?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            credential.username,
            credential.secret.expose()
        ));
        HeaderValue::from_str(&format!("Basic {encoded}")).ok()
    }

    /// Fetches a token for `scope` from `realm` and keeps it under `key` (the scope Berth asks for, which the
    /// challenge may spell differently) until it expires.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        key: &str,
    ) -> Result<String, UpstreamError> {
        let mut url = reqwest::Url::parse(realm)
            .map_err(|e| UpstreamError::Unauthorized(format!("token realm {realm:?}: {e}")))?;
        let service_origin = origin(&url);
        if let Some(reason) = self.egress.url_refusal(&url, false) {
            tracing::warn!(endpoint = self.endpoint.id, realm = %service_origin, %reason, "proxy: refused the upstream's token service");
            return Err(UpstreamError::Unauthorized(format!(
                "refused the upstream's token service {service_origin}: {reason}"
            )));
        }
        let credential = match self.basic_header() {
            Some(basic) => match self.egress.credential_refusal(&url) {
                None => Some(basic),
                Some(reason) => {
                    tracing::warn!(endpoint = self.endpoint.id, realm = %service_origin, %reason, "proxy: refused to send the endpoint's credential to the upstream's token service");
                    return Err(UpstreamError::Unauthorized(format!(
                        "Berth does not send the endpoint's credential there: {reason}"
                    )));
                }
            },
            None => None,
        };
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            if !scope.is_empty() {
                query.append_pair("scope", scope);
            }
        }
        let mut request = self.http.get(url);
        let sent_credential = credential.is_some();
        if let Some(basic) = credential {
            request = request.header(header::AUTHORIZATION, basic);
        }
        let response = request.send().await.map_err(|e| unreachable(&e))?;
        let status = response.status();
        if !status.is_success() {
            let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            return Err(UpstreamError::Unauthorized(
                match (refused, sent_credential) {
                    (true, true) => format!(
                        "the token service at {service_origin} refused the endpoint's credential ({status})"
                    ),
                    (true, false) => format!(
                        "the token service at {service_origin} answered {status}: the endpoint has no credential"
                    ),
                    (false, _) => {
                        format!("the token service at {service_origin} answered {status}")
                    }
                },
            ));
        }
        let body = read_token_response(response).await?;
        let token = body
            .token
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                UpstreamError::Unauthorized("the token response has no token".to_owned())
            })?;
        // The upstream says how long; Berth keeps it within [DEFAULT, MAX] whatever it says.
        let lifetime = body
            .expires_in
            .map_or(DEFAULT_TOKEN_LIFETIME, Duration::from_secs)
            .clamp(DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME);
        let expires = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
        tracing::debug!(endpoint = self.endpoint.id, scope, "upstream token issued");
        lock(&self.auth)
            .tokens
            .insert(key.to_owned(), (token.clone(), expires));
        Ok(token)
    }
}

/// The largest token response read: Docker Hub's are a few KiB.
const MAX_TOKEN_RESPONSE: usize = 256 * 1024;

/// Reads a token response of at most [`MAX_TOKEN_RESPONSE`] bytes.
async fn read_token_response(response: Response) -> Result<TokenResponse, UpstreamError> {
    use futures_util::StreamExt as _;
    let too_large = || {
        UpstreamError::Unauthorized(format!(
            "the token response is larger than {MAX_TOKEN_RESPONSE} bytes"
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_TOKEN_RESPONSE as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| unreachable(&e))?;
        if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::Unauthorized(format!("unreadable token response: {e}")))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Describes a transport error without the URL's query (which may carry a scope, never a secret, but is noise).
fn unreachable(error: &reqwest::Error) -> UpstreamError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() {
        UpstreamError::Unreachable(kind.to_owned())
    } else {
        UpstreamError::Unreachable(format!("{kind}: {detail}"))
    }
}

/// Parses the first challenge of a `WWW-Authenticate` header.
pub fn parse_challenge(headers: &HeaderMap) -> Challenge {
    let Some(value) = headers
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
    else {
        return Challenge::Other;
    };
    let value = value.trim();
    let (scheme, params) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Challenge::Basic;
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Challenge::Other;
    }
    let params = parse_params(params);
    match params.get("realm") {
        Some(realm) => Challenge::Bearer {
            realm: realm.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        },
        None => Challenge::Other,
    }
}

/// `key="value", key=value` pairs; quoted values may hold commas (scopes do).
fn parse_params(input: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(key, value.to_owned());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(value: &str) -> Challenge {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
        );
        parse_challenge(&headers)
    }

    #[test]
    fn challenges() {
        assert_eq!(challenge("Basic realm=\"x\""), Challenge::Basic);
        assert_eq!(
            challenge(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull,push\""
            ),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".to_owned(),
                service: Some("registry.docker.io".to_owned()),
                scope: Some("repository:library/nginx:pull,push".to_owned()),
            }
        );
        assert_eq!(
            challenge("Bearer realm=http://h/t, service=s"),
            Challenge::Bearer {
                realm: "http://h/t".to_owned(),
                service: Some("s".to_owned()),
                scope: None,
            }
        );
        assert_eq!(challenge("Bearer service=s"), Challenge::Other);
        assert_eq!(challenge("Negotiate"), Challenge::Other);
    }
}
