//! The online refresh's HTTP side: every download is bounded in size ([`Limits::max_bytes`], checked against
//! `Content-Length` and again while reading) and time (connect, idle read, and a whole-request deadline), goes
//! to `https://` (or `http://` only when the configured URL says so), and follows at most
//! [`MAX_REDIRECTS`] redirects, never from `https` down to `http`. Errors name the URL (without its password)
//! and say why, in words an operator can act on.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, ETAG, IF_NONE_MATCH};
use tokio::io::AsyncWriteExt as _;
use url::Url;

/// Redirects followed per request (a bucket behind a CDN may redirect once or twice).
pub const MAX_REDIRECTS: usize = 5;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest pause while reading a response.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole of one `modified_id.csv` read (it is read only down to the watermark).
pub const FEED_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The whole of one record's download.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole of one `all.zip` download (npm's, the largest, is a few hundred MB).
pub const DUMP_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// A download that failed, and why.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered 404 or 410.
    #[error("GET {url}: not found ({status})")]
    NotFound { url: String, status: StatusCode },
    #[error("GET {url}: {reason}")]
    Failed { url: String, reason: String },
}

/// The client of one refresh.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
    max_bytes: u64,
}

/// What a conditional download got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// 304: the `ETag` sent still names the file.
    NotModified,
    /// The file was written; its size and `ETag`.
    Saved { bytes: u64, etag: Option<String> },
}

/// The URL as it may be shown: without user name and password.
pub fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() || !url.username().is_empty() {
        // Both setters only fail for URLs that cannot have credentials, which have none to hide.
        let _ = url.set_password(None);
        let _ = url.set_username("");
    }
    url.to_string()
}

/// Why a request failed: the error chain without the URL (which may carry credentials), e.g. "error sending
/// request: client error (Connect): tcp connect error: Connection refused (os error 111)".
fn reason(error: reqwest::Error) -> String {
    let timeout = error.is_timeout();
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if timeout {
        text.push_str(" (timed out)");
    }
    text
}

impl Fetcher {
    /// A client for the mirror at `base`; `max_bytes` bounds every download.
    pub fn new(base: &Url, max_bytes: u64) -> anyhow::Result<Fetcher> {
        let allow_http = base.scheme() == "http";
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                let message = format!("more than {MAX_REDIRECTS} redirects");
                return attempt.error(message);
            }
            match attempt.url().scheme() {
                "https" => attempt.follow(),
                "http" if allow_http => attempt.follow(),
                other => {
                    let message = format!("a redirect to an {other}:// URL is refused");
                    attempt.error(message)
                }
            }
        });
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .redirect(policy)
            .https_only(!allow_http)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION"), " (vulndb)"))
            .build()?;
        Ok(Fetcher { http, max_bytes })
    }

    /// Sends a GET and checks its status: 2xx (or 304 when `etag` was sent) is an answer, 404/410 is
    /// [`FetchError::NotFound`], anything else an error.
    async fn get(
        &self,
        url: &Url,
        timeout: Duration,
        etag: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut request = self.http.get(url.clone()).timeout(timeout);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| FetchError::Failed {
            url: shown(url),
            reason: reason(e),
        })?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(FetchError::NotFound {
                url: shown(url),
                status,
            });
        }
        if !(status.is_success() || (etag.is_some() && status == StatusCode::NOT_MODIFIED)) {
            return Err(FetchError::Failed {
                url: shown(url),
                reason: format!("the server answered {status}"),
            });
        }
        if let Some(length) = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && length > self.max_bytes
        {
            return Err(self.too_large(url));
        }
        Ok(response)
    }

    fn too_large(&self, url: &Url) -> FetchError {
        FetchError::Failed {
            url: shown(url),
            reason: format!(
                "larger than {} bytes, the limit ([scan] vulndb_max_download_bytes)",
                self.max_bytes
            ),
        }
    }

    /// Reads `url` line by line (each at most `max_line` bytes), handing each to `line` until it says `false`
    /// or the body ends; the rest of the body is not downloaded.
    pub async fn lines(
        &self,
        url: &Url,
        max_line: usize,
        mut line: impl FnMut(&str) -> bool,
    ) -> Result<(), FetchError> {
        let response = self.get(url, FEED_TIMEOUT, None).await?;
        let failed = |reason: String| FetchError::Failed {
            url: shown(url),
            reason,
        };
        let mut stream = response.bytes_stream();
        let mut pending: Vec<u8> = Vec::new();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| failed(reason(e)))?;
            total += chunk.len() as u64;
            if total > self.max_bytes {
                return Err(self.too_large(url));
            }
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let text = String::from_utf8_lossy(&pending[..end]).into_owned();
                pending.drain(..=end);
                if !line(&text) {
                    return Ok(());
                }
            }
            if pending.len() > max_line {
                return Err(failed(format!("a line is longer than {max_line} bytes")));
            }
        }
        if !pending.is_empty() {
            line(&String::from_utf8_lossy(&pending));
        }
        Ok(())
    }

    /// Downloads `url` into memory, at most `max` bytes (and at most the download limit).
    pub async fn bytes(&self, url: &Url, max: u64) -> Result<Vec<u8>, FetchError> {
        let max = max.min(self.max_bytes);
        let response = self.get(url, RECORD_TIMEOUT, None).await?;
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FetchError::Failed {
                url: shown(url),
                reason: reason(e),
            })?;
            if (body.len() + chunk.len()) as u64 > max {
                return Err(FetchError::Failed {
                    url: shown(url),
                    reason: format!("larger than {max} bytes, the limit of one record"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Downloads `url` into the file `dest` (created or truncated), sending `If-None-Match: etag` when given.
    pub async fn download(
        &self,
        url: &Url,
        dest: &Path,
        etag: Option<&str>,
    ) -> Result<Download, FetchError> {
        let response = self.get(url, DUMP_TIMEOUT, etag).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Download::NotModified);
        }
        let failed = |reason: String| FetchError::Failed {
            url: shown(url),
            reason,
        };
        let new_etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 256)
            .map(str::to_owned);
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| failed(format!("cannot write {}: {e}", dest.display())))?;
        let mut stream = response.bytes_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| failed(reason(e)))?;
            total += chunk.len() as u64;
            if total > self.max_bytes {
                return Err(self.too_large(url));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| failed(format!("cannot write {}: {e}", dest.display())))?;
        }
        file.flush()
            .await
            .map_err(|e| failed(format!("cannot write {}: {e}", dest.display())))?;
        Ok(Download::Saved {
            bytes: total,
            etag: new_etag,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_credentials() -> Result<(), url::ParseError> {
        let url = Url::parse("https://me:secret@mirror.example/osv/")?;
        assert_eq!(shown(&url), "https://mirror.example/osv/");
        let plain = Url::parse("http://mirror.example/osv/Debian/all.zip")?;
        assert_eq!(shown(&plain), "http://mirror.example/osv/Debian/all.zip");
        Ok(())
    }
}
