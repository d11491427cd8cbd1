//! Where a delivery may go. A policy's address is a project admin's choice, so unless the operator allows it
//! (`webhooks.allow_local_targets`), Berth does not post to this machine or its link: loopback, link-local
//! (the cloud metadata service 169.254.169.254), unspecified and multicast addresses, and `localhost`. Private
//! networks are allowed: receivers there are the usual case.
//!
//! A literal address or `localhost` is refused when the policy is saved ([`refusal`]); a host name is checked
//! on the addresses it resolves to when the delivery connects ([`LocalGuard`]), so a name that points at the
//! loopback is caught too. Deliveries never follow redirects.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::proxy::egress::{AddressClass, classify};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A receiver that takes longer than this fails the attempt (Harbor's default client timeout is 3 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why Berth will not post to `url`'s host, if it will not.
pub fn refusal(url: &url::Url, allow_local: bool) -> Option<String> {
    if allow_local {
        return None;
    }
    let local = match url.host()? {
        url::Host::Domain(name) => {
            let name = name.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => classify(ip.into()) == AddressClass::Local,
        url::Host::Ipv6(ip) => classify(ip.into()) == AddressClass::Local,
    };
    local.then(|| {
        format!(
            "{} is on this machine or its link (loopback, link-local); webhooks may not target it unless \
             the operator sets webhooks.allow_local_targets",
            url.host_str().unwrap_or_default()
        )
    })
}

/// Resolves with the system resolver and drops loopback and link-local addresses (unless allowed).
#[derive(Debug, Clone, Copy)]
pub struct LocalGuard {
    pub allow_local: bool,
}

/// A name that resolved to no address a delivery may use.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to loopback or link-local addresses, which webhooks may not target")]
struct LocalOnly(String);

impl Resolve for LocalGuard {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_local = self.allow_local;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_local || classify(a.ip()) != AddressClass::Local)
                .collect();
            if resolved.is_empty() {
                return Err(Box::new(LocalOnly(name)) as Box<_>);
            }
            let addrs: Addrs = Box::new(resolved.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP clients deliveries use: one checking certificates, one not (`skip_cert_verify`); both without
/// redirects, with timeouts, resolving through [`LocalGuard`].
#[derive(Debug, Clone)]
pub struct Clients {
    verifying: reqwest::Client,
    trusting: reqwest::Client,
    pub allow_local: bool,
}

impl Clients {
    pub fn new(allow_local: bool) -> Result<Clients, reqwest::Error> {
        let build = |skip_cert_verify: bool| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .danger_accept_invalid_certs(skip_cert_verify)
                .dns_resolver(Arc::new(LocalGuard { allow_local }))
                .user_agent(concat!("Berth-Webhook/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Clients {
            verifying: build(false)?,
            trusting: build(true)?,
            allow_local,
        })
    }

    pub fn get(&self, skip_cert_verify: bool) -> &reqwest::Client {
        if skip_cert_verify {
            &self.trusting
        } else {
            &self.verifying
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Result<url::Url, url::ParseError> {
        url::Url::parse(text)
    }

    #[test]
    fn local_hosts_are_refused_unless_allowed() -> Result<(), url::ParseError> {
        for local in [
            "http://127.0.0.1:8080/x",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://localhost:9000/",
            "http://api.LOCALHOST/",
            "http://0.0.0.0/",
        ] {
            assert!(refusal(&url(local)?, false).is_some(), "{local}");
            assert!(refusal(&url(local)?, true).is_none(), "{local}");
        }
        for fine in [
            "http://10.0.0.5/hook",
            "https://ci.example/hook",
            "http://192.168.1.2/",
        ] {
            assert!(refusal(&url(fine)?, false).is_none(), "{fine}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn names_resolving_to_the_loopback_are_dropped_at_connect() -> Result<(), String> {
        let name = || "localhost".parse::<Name>().map_err(|e| format!("{e:?}"));
        let refused = LocalGuard { allow_local: false }.resolve(name()?).await;
        assert!(refused.is_err(), "localhost resolved to an allowed address");
        let allowed = LocalGuard { allow_local: true }
            .resolve(name()?)
            .await
            .map_err(|e| e.to_string())?;
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
        Ok(())
    }
}
