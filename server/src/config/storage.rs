//! Where blobs live (`[storage]` in TOML, `BERTH_STORAGE__*` in the environment): the local filesystem under
//! `data_dir` (the default), or an S3-compatible object store (`kind = "s3"` and `[storage.s3]`).
//!
//! Rule: the values are only read here; what they mean is checked once, at start-up, by
//! [`StorageConfig::validate`], which names the offending key and its environment variable.

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Which backend holds the blobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under `<data_dir>/storage`.
    #[default]
    Filesystem,
    /// An S3-compatible object store (`[storage.s3]`).
    S3,
}

/// `[storage]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    pub kind: StorageKind,
    pub s3: S3Config,
}

/// `[storage.s3]`: an S3-compatible object store. Its `Debug` hides the secret key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Config {
    /// The store's base URL, e.g. `https://s3.example.com:9000`. Unset: AWS S3 in `region`.
    pub endpoint: Option<String>,
    /// The bucket (it must exist; Berth never creates one).
    pub bucket: Option<String>,
    /// The region requests are signed for (`us-east-1` unless set; most S3-compatible servers accept it).
    pub region: String,
    /// The access key id. With `secret_key`; with neither, the instance's role credentials (IMDS) are used.
    pub access_key: Option<String>,
    pub secret_key: Option<Secret>,
    /// Path-style addressing (`<endpoint>/<bucket>/<key>`) rather than virtual-hosted style
    /// (`<bucket>.<endpoint host>/<key>`). Default: path style with an `endpoint` (what S3-compatible servers
    /// expect), virtual-hosted style on AWS.
    pub path_style: Option<bool>,
    /// Allows an `http://` endpoint. Off, only `https://` is accepted, so credentials never cross the network
    /// in clear by accident.
    pub allow_http: bool,
    /// Blob downloads are answered with a `307` to a presigned URL of the object (valid 20 minutes), after
    /// Berth's own authorization checks, so the bytes come from the store rather than through Berth.
    pub redirect: bool,
    /// A key prefix inside the bucket under which Berth keeps everything (like distribution's
    /// `rootdirectory`), e.g. `registry/prod`. Empty: the bucket's root.
    pub prefix: String,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: None,
            bucket: None,
            region: "us-east-1".to_owned(),
            access_key: None,
            secret_key: None,
            path_style: None,
            allow_http: false,
            redirect: false,
            prefix: String::new(),
        }
    }
}

/// A storage setting that cannot work, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage.s3.{key} (BERTH_STORAGE__S3__{}): {problem}", key.to_uppercase())]
pub struct StorageConfigError {
    /// The key under `[storage.s3]`.
    pub key: &'static str,
    pub problem: String,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> StorageConfigError {
    StorageConfigError {
        key,
        problem: problem.into(),
    }
}

/// The checked S3 settings, as the blob store uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The base URL requests go to: `None` for AWS's own endpoint of the region. With virtual-hosted
    /// addressing on a custom endpoint, the bucket is already in its host.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// Both keys, or `None` for the instance's role credentials.
    pub credentials: Option<(String, Secret)>,
    pub path_style: bool,
    pub allow_http: bool,
    pub redirect: bool,
    /// Without leading or trailing slashes; empty for the bucket's root.
    pub prefix: String,
}

impl StorageConfig {
    /// Checks the settings of the selected backend: `Ok(None)` for the filesystem, the S3 settings otherwise.
    pub fn validate(&self) -> Result<Option<S3Settings>, StorageConfigError> {
        match self.kind {
            StorageKind::Filesystem => Ok(None),
            StorageKind::S3 => self.s3.validate().map(Some),
        }
    }
}

impl S3Config {
    fn validate(&self) -> Result<S3Settings, StorageConfigError> {
        let bucket = self
            .bucket
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| invalid("bucket", "required when storage.kind = \"s3\""))?;
        check_bucket(bucket)?;
        let region = self.region.trim();
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "region",
                format!("{region:?} is not a region name (e.g. us-east-1)"),
            ));
        }
        let path_style = self.path_style.unwrap_or(self.endpoint.is_some());
        let endpoint = match self.endpoint.as_deref().map(str::trim) {
            None => None,
            Some(endpoint) => Some(self.check_endpoint(endpoint, bucket, path_style)?),
        };
        if endpoint.is_none() && self.allow_http {
            return Err(invalid(
                "allow_http",
                "only applies to a custom endpoint; AWS S3 is always reached over https",
            ));
        }
        let credentials = match (&self.access_key, &self.secret_key) {
            (Some(key), Some(secret)) if !key.trim().is_empty() && !secret.expose().is_empty() => {
                Some((key.trim().to_owned(), secret.clone()))
            }
            (None, None) => None,
            (Some(key), _) if key.trim().is_empty() => {
                return Err(invalid(
                    "access_key",
                    "is empty; set it with secret_key, or neither",
                ));
            }
            (Some(_), _) => {
                return Err(invalid(
                    "secret_key",
                    "is missing or empty while access_key is set; set both, or neither",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "access_key",
                    "is missing while secret_key is set; set both, or neither",
                ));
            }
        };
        Ok(S3Settings {
            endpoint,
            bucket: bucket.to_owned(),
            region: region.to_owned(),
            credentials,
            path_style,
            allow_http: self.allow_http,
            redirect: self.redirect,
            prefix: check_prefix(&self.prefix)?,
        })
    }

    /// The endpoint as requests use it (with the bucket in the host for virtual-hosted addressing).
    fn check_endpoint(
        &self,
        endpoint: &str,
        bucket: &str,
        path_style: bool,
    ) -> Result<String, StorageConfigError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| invalid("endpoint", format!("{endpoint:?} is not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(invalid(
                    "endpoint",
                    format!(
                        "{endpoint:?} is plain http, which sends requests unencrypted; use https, or set \
                         storage.s3.allow_http = true (BERTH_STORAGE__S3__ALLOW_HTTP=true) for a trusted network"
                    ),
                ));
            }
            other => {
                return Err(invalid(
                    "endpoint",
                    format!(
                        "{endpoint:?} has scheme {other:?}; use https:// (or http:// with allow_http)"
                    ),
                ));
            }
        }
        let Some(host) = url.host_str().map(str::to_owned) else {
            return Err(invalid("endpoint", format!("{endpoint:?} has no host")));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "endpoint",
                "must not hold credentials; use access_key and secret_key",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
            return Err(invalid(
                "endpoint",
                format!(
                    "{endpoint:?} must be a base URL (scheme, host, port) without a path or query; the bucket \
                     goes in storage.s3.bucket and a key prefix in storage.s3.prefix"
                ),
            ));
        }
        if !path_style {
            if url
                .host()
                .is_some_and(|h| !matches!(h, url::Host::Domain(_)))
            {
                return Err(invalid(
                    "path_style",
                    format!(
                        "virtual-hosted addressing needs a DNS name, and {endpoint:?} is an IP address; \
                         set storage.s3.path_style = true"
                    ),
                ));
            }
            url.set_host(Some(&format!("{bucket}.{host}")))
                .map_err(|e| invalid("endpoint", format!("{endpoint:?}: {e}")))?;
        }
        Ok(url.as_str().trim_end_matches('/').to_owned())
    }
}

/// S3's bucket naming rules (3-63 characters: lower-case letters, digits, dots and hyphens; starting and
/// ending with a letter or digit).
fn check_bucket(bucket: &str) -> Result<(), StorageConfigError> {
    let valid_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let edges = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if (3..=63).contains(&bucket.len())
        && valid_chars
        && edges(bucket.chars().next())
        && edges(bucket.chars().last())
    {
        Ok(())
    } else {
        Err(invalid(
            "bucket",
            format!(
                "{bucket:?} is not a bucket name (3-63 lower-case letters, digits, dots and hyphens, starting and \
                 ending with a letter or digit)"
            ),
        ))
    }
}

/// The prefix without surrounding slashes; each segment must be a plain name (letters, digits, `-`, `_`,
/// `.`; not `.` or `..`).
fn check_prefix(prefix: &str) -> Result<String, StorageConfigError> {
    let trimmed = prefix.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed.len() > 512 {
        return Err(invalid("prefix", "is longer than 512 characters"));
    }
    for segment in trimmed.split('/') {
        let plain = segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if segment.is_empty() || segment == "." || segment == ".." || !plain {
            return Err(invalid(
                "prefix",
                format!(
                    "{prefix:?} is not a key prefix: segments between slashes must be non-empty names of letters, \
                     digits, '-', '_' and '.'"
                ),
            ));
        }
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn s3(configure: impl FnOnce(&mut S3Config)) -> StorageConfig {
        let mut s3 = S3Config {
            endpoint: Some("https://s3.example.com".to_owned()),
            bucket: Some("berth".to_owned()),
            access_key: Some("AK".to_owned()),
            secret_key: Some(Secret::new("SK")),
            ..S3Config::default()
        };
        configure(&mut s3);
        StorageConfig {
            kind: StorageKind::S3,
            s3,
        }
    }

    fn problem(config: &StorageConfig) -> Result<StorageConfigError, String> {
        match config.validate() {
            Err(e) => Ok(e),
            Ok(settings) => Err(format!("accepted: {settings:?}")),
        }
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn reads_toml_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.storage.kind, StorageKind::Filesystem);
            assert_eq!(config.storage.validate(), Ok(None));
            jail.create_file(
                "s3.toml",
                "[storage]\nkind = \"s3\"\n[storage.s3]\nendpoint = \"http://127.0.0.1:38333\"\nbucket = \"berth\"\n\
                 access_key = \"AK\"\nsecret_key = \"topsecret\"\nallow_http = true\nprefix = \"/team/a/\"\n",
            )?;
            let config = Config::load(Some(Path::new("s3.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.storage.kind, StorageKind::S3);
            let settings = config
                .storage
                .validate()
                .map_err(|e| e.to_string())?
                .ok_or("no S3 settings")?;
            assert_eq!(settings.endpoint.as_deref(), Some("http://127.0.0.1:38333"));
            assert_eq!(settings.bucket, "berth");
            assert_eq!(settings.region, "us-east-1");
            assert!(settings.path_style, "an endpoint defaults to path style");
            assert!(!settings.redirect);
            assert_eq!(settings.prefix, "team/a");
            assert!(
                !format!("{config:?}").contains("topsecret"),
                "the secret key stays out of Debug"
            );
            jail.set_env("BERTH_STORAGE__S3__REDIRECT", "true");
            jail.set_env("BERTH_STORAGE__S3__REGION", "eu-west-3");
            jail.set_env("BERTH_STORAGE__S3__SECRET_KEY", "other");
            jail.set_env("BERTH_STORAGE__S3__PATH_STYLE", "false");
            jail.set_env("BERTH_STORAGE__S3__ENDPOINT", "https://objects.example.com");
            let config = Config::load(Some(Path::new("s3.toml"))).map_err(|e| e.to_string())?;
            let settings = config
                .storage
                .validate()
                .map_err(|e| e.to_string())?
                .ok_or("no S3 settings")?;
            assert!(settings.redirect);
            assert_eq!(settings.region, "eu-west-3");
            assert!(!settings.path_style);
            assert_eq!(
                settings.endpoint.as_deref(),
                Some("https://berth.objects.example.com"),
                "virtual-hosted style puts the bucket in the host"
            );
            assert_eq!(
                settings
                    .credentials
                    .as_ref()
                    .map(|(k, s)| (k.as_str(), s.expose())),
                Some(("AK", "other"))
            );
            jail.set_env("BERTH_STORAGE__KIND", "filesystem");
            let config = Config::load(Some(Path::new("s3.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.storage.validate(), Ok(None));
            jail.set_env("BERTH_STORAGE__KIND", "gcs");
            assert!(Config::load(Some(Path::new("s3.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn aws_defaults_to_virtual_hosted_style_over_https() -> Result<(), String> {
        let settings = s3(|c| c.endpoint = None)
            .validate()
            .map_err(|e| e.to_string())?
            .ok_or("no S3 settings")?;
        assert_eq!(settings.endpoint, None);
        assert!(!settings.path_style);
        let problem = problem(&s3(|c| {
            c.endpoint = None;
            c.allow_http = true;
        }))?;
        assert_eq!(problem.key, "allow_http");
        Ok(())
    }

    #[test]
    fn start_up_names_the_setting_that_cannot_work() -> Result<(), String> {
        let missing = problem(&s3(|c| c.bucket = None))?;
        assert_eq!(missing.key, "bucket");
        assert_eq!(
            missing.to_string(),
            "storage.s3.bucket (BERTH_STORAGE__S3__BUCKET): required when storage.kind = \"s3\""
        );
        for bucket in ["ab", "Berth", "-berth", "ber_th", &"b".repeat(64)] {
            assert_eq!(
                problem(&s3(|c| c.bucket = Some(bucket.to_owned())))?.key,
                "bucket"
            );
        }
        let http = problem(&s3(|c| {
            c.endpoint = Some("http://127.0.0.1:9000".to_owned())
        }))?;
        assert_eq!(http.key, "endpoint");
        assert!(http.problem.contains("allow_http"), "{http}");
        for endpoint in [
            "127.0.0.1:9000",
            "ftp://s3.example.com",
            "https://s3.example.com/bucket",
            "https://s3.example.com/?x=1",
            "https://me:pw@s3.example.com",
        ] {
            assert_eq!(
                problem(&s3(|c| c.endpoint = Some(endpoint.to_owned())))?.key,
                "endpoint",
                "{endpoint}"
            );
        }
        let ip_virtual_hosted = problem(&s3(|c| {
            c.endpoint = Some("https://10.0.0.1".to_owned());
            c.path_style = Some(false);
        }))?;
        assert_eq!(ip_virtual_hosted.key, "path_style");
        assert_eq!(problem(&s3(|c| c.secret_key = None))?.key, "secret_key");
        assert_eq!(problem(&s3(|c| c.access_key = None))?.key, "access_key");
        assert_eq!(
            problem(&s3(|c| c.region = "us east".to_owned()))?.key,
            "region"
        );
        for prefix in ["a//b", "a/../b", "a b", "ü"] {
            assert_eq!(
                problem(&s3(|c| c.prefix = prefix.to_owned()))?.key,
                "prefix"
            );
        }
        let no_keys = s3(|c| {
            c.access_key = None;
            c.secret_key = None;
        })
        .validate()
        .map_err(|e| e.to_string())?
        .ok_or("no S3 settings")?;
        assert_eq!(no_keys.credentials, None, "instance credentials");
        Ok(())
    }
}
