//! The S3 backend of the blob store: `object_store`'s S3 client (its `aws-base` code, SigV4 signing with
//! `ring`) over Berth's own HTTP client (reqwest 0.12 with rustls), so S3 adds no second HTTP or TLS stack.
//!
//! Rule: the HTTP client follows no redirects, goes through no proxy from the environment, and refuses plain
//! `http://` unless the store's settings allow it (`storage.s3.allow_http`); a connection that stalls fails
//! after a read timeout rather than a total one, so a large blob may take as long as it needs.

use std::error::Error as _;
use std::time::Duration;

use http_body_util::BodyExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpResponseBody, HttpService,
};
use object_store::{ClientConfigKey, ClientOptions, RetryConfig};

use crate::config::S3Settings;

/// Connecting to the store (TCP and TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause while waiting for or reading a response.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections to the store are kept this long for reuse.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens the S3 store `settings` name. Nothing is sent until the first request.
pub fn open(settings: &S3Settings) -> object_store::Result<AmazonS3> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&settings.bucket)
        .with_region(&settings.region)
        // Virtual-hosted style: the endpoint already names the bucket in its host (see
        // `S3Config::validate`), or `object_store` builds AWS's `https://<bucket>.s3.<region>.amazonaws.com`.
        .with_virtual_hosted_style_request(!settings.path_style)
        .with_allow_http(settings.allow_http)
        .with_client_options(ClientOptions::new().with_allow_http(settings.allow_http))
        .with_retry(RetryConfig {
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        })
        .with_http_connector(ReqwestConnector);
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some((access_key, secret_key)) = &settings.credentials {
        builder = builder
            .with_access_key_id(access_key)
            .with_secret_access_key(secret_key.expose());
    }
    builder.build()
}

/// Makes the HTTP clients of the S3 store: Berth's reqwest.
#[derive(Debug, Clone, Copy)]
struct ReqwestConnector;

impl HttpConnector for ReqwestConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        // The store's own setting: false for the S3 endpoint unless `allow_http`, true for the instance
        // metadata endpoint that hands out role credentials (it is only reachable over http).
        let allow_http = options
            .get_config_value(&ClientConfigKey::AllowHttp)
            .is_some_and(|v| v == "true");
        let client = reqwest::Client::builder()
            .no_proxy()
            .https_only(!allow_http)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .http1_only()
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        Ok(HttpClient::new(ReqwestService(client)))
    }
}

/// One request through reqwest: `object_store`'s request in, its response out, bodies streamed both ways.
#[derive(Debug)]
struct ReqwestService(reqwest::Client);

#[async_trait::async_trait]
impl HttpService for ReqwestService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|e| HttpError::new(HttpErrorKind::Unknown, e))?;
        let mut outgoing = reqwest::Request::new(parts.method, url);
        *outgoing.headers_mut() = parts.headers;
        *outgoing.body_mut() = Some(reqwest::Body::wrap(body));
        let response = self.0.execute(outgoing).await.map_err(http_error)?;
        let (parts, body) = axum::http::Response::<reqwest::Body>::from(response).into_parts();
        Ok(HttpResponse::from_parts(
            parts,
            HttpResponseBody::new(body.map_err(http_error)),
        ))
    }
}

/// Classifies a reqwest failure so `object_store` retries what can be retried (connection failures,
/// connections reset or closed mid-request, timeouts) and nothing else. The URL is left out: the store's own
/// error names the object.
fn http_error(e: reqwest::Error) -> HttpError {
    let mut kind = if e.is_timeout() {
        HttpErrorKind::Timeout
    } else if e.is_connect() {
        HttpErrorKind::Connect
    } else if e.is_decode() {
        HttpErrorKind::Decode
    } else {
        HttpErrorKind::Unknown
    };
    let mut source = e.source();
    while kind == HttpErrorKind::Unknown {
        let Some(cause) = source else { break };
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_closed() || hyper.is_incomplete_message() || hyper.is_body_write_aborted() {
                kind = HttpErrorKind::Request;
            } else if hyper.is_timeout() {
                kind = HttpErrorKind::Timeout;
            }
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            kind = match io.kind() {
                std::io::ErrorKind::TimedOut => HttpErrorKind::Timeout,
                std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => HttpErrorKind::Interrupted,
                _ => kind,
            };
        }
        source = cause.source();
    }
    HttpError::new(kind, e.without_url())
}
