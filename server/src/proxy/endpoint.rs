//! Registry endpoints: the upstream registries proxy-cache projects pull through.

use std::fmt;
use std::str::FromStr;

use crate::secret::Secret;

/// Harbor's registry types that Berth can proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKind {
    DockerHub,
    DockerRegistry,
    Harbor,
    GithubGhcr,
    Quay,
}

impl EndpointKind {
    pub const ALL: [EndpointKind; 5] = [
        EndpointKind::DockerHub,
        EndpointKind::DockerRegistry,
        EndpointKind::Harbor,
        EndpointKind::GithubGhcr,
        EndpointKind::Quay,
    ];

    /// Harbor's spelling, as stored and as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::DockerHub => "docker-hub",
            EndpointKind::DockerRegistry => "docker-registry",
            EndpointKind::Harbor => "harbor",
            EndpointKind::GithubGhcr => "github-ghcr",
            EndpointKind::Quay => "quay",
        }
    }

    /// The URL a new endpoint of this type gets when none is given.
    pub fn default_url(self) -> Option<&'static str> {
        match self {
            EndpointKind::DockerHub => Some("https://hub.docker.com"),
            EndpointKind::GithubGhcr => Some("https://ghcr.io"),
            EndpointKind::Quay => Some("https://quay.io"),
            EndpointKind::DockerRegistry | EndpointKind::Harbor => None,
        }
    }
}

impl fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown registry type.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unsupported registry type {0:?}; supported: docker-hub, docker-registry, harbor, github-ghcr, quay"
)]
pub struct UnknownKind(pub String);

impl FromStr for EndpointKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EndpointKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// A username and secret for an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub secret: Secret,
}

/// A registry endpoint with its credential decrypted, ready for the upstream client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub kind: EndpointKind,
    /// As configured, e.g. `https://hub.docker.com` or `http://127.0.0.1:5000`.
    pub url: String,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// `None` for anonymous access.
    pub credential: Option<Credential>,
}

impl Endpoint {
    /// The base URL of the upstream's `/v2` API. Docker Hub's web address is mapped to its registry host.
    pub fn api_base(&self) -> String {
        let url = self.url.trim_end_matches('/');
        if self.kind == EndpointKind::DockerHub {
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .unwrap_or(url);
            if matches!(
                host,
                "hub.docker.com" | "docker.io" | "index.docker.io" | "registry.hub.docker.com"
            ) {
                return "https://registry-1.docker.io".to_owned();
            }
        }
        url.to_owned()
    }

    /// The upstream repository for `path`, the part of a proxy repository name after the project. On Docker Hub
    /// a single-name image is an official one: `nginx` is `library/nginx`.
    pub fn upstream_repository(&self, path: &str) -> String {
        if self.kind == EndpointKind::DockerHub && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(kind: EndpointKind, url: &str) -> Endpoint {
        Endpoint {
            id: 1,
            kind,
            url: url.to_owned(),
            insecure: false,
            credential: None,
        }
    }

    #[test]
    fn docker_hub_maps_official_images_and_its_web_address() {
        let hub = endpoint(EndpointKind::DockerHub, "https://hub.docker.com/");
        assert_eq!(hub.api_base(), "https://registry-1.docker.io");
        assert_eq!(hub.upstream_repository("nginx"), "library/nginx");
        assert_eq!(hub.upstream_repository("library/nginx"), "library/nginx");
        assert_eq!(hub.upstream_repository("bitnami/redis"), "bitnami/redis");
        let other = endpoint(EndpointKind::DockerRegistry, "http://127.0.0.1:5000/");
        assert_eq!(other.api_base(), "http://127.0.0.1:5000");
        assert_eq!(other.upstream_repository("nginx"), "nginx");
    }

    #[test]
    fn kinds_round_trip() {
        for kind in EndpointKind::ALL {
            assert_eq!(kind.as_str().parse::<EndpointKind>().ok(), Some(kind));
        }
        assert!("gitlab".parse::<EndpointKind>().is_err());
    }
}
