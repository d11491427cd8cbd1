//! Where an upstream client may connect, and where it may send the endpoint's credential.
//!
//! The endpoint's own URL is the operator's choice and is always allowed. Everything else an upstream can make
//! Berth contact — a redirect, a token realm — is the upstream's choice, and is checked here:
//! - a **public** address is allowed;
//! - a **private** address (RFC 1918, unique-local, CGNAT, documentation and other reserved ranges) only when
//!   the endpoint itself is on one (an internal registry redirecting to an internal object store);
//! - a **machine-local** address (loopback, unspecified, link-local such as the cloud metadata service
//!   169.254.169.254, multicast) only when it is the endpoint's own address.
//!
//! Host names are checked on the address they resolve to, when the connection is made ([`GuardedResolver`]), so
//! a name that resolves to a private address is caught as well as a literal one (which the redirect policy
//! checks, since literals are never resolved). A redirect from `https` to plain `http` is refused.
//!
//! The credential goes only to the endpoint itself and to a token realm on the endpoint's site (the same host,
//! or a sibling under the endpoint's parent domain: `registry-1.docker.io` → `auth.docker.io`), never over plain
//! `http` when the endpoint is `https`. On a redirect to another host reqwest drops the `Authorization` header.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::{Attempt, Policy};

/// The most redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// What kind of network an address is on, for deciding whether an upstream may send Berth there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    /// Internal networks: RFC 1918, unique-local, CGNAT, documentation and reserved ranges.
    Private,
    /// This machine or this link: loopback, unspecified, link-local, multicast, broadcast.
    Local,
}

impl AddressClass {
    fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Private => "private",
            AddressClass::Local => "loopback or link-local",
        }
    }
}

/// The class of `ip`. IPv4-mapped and NAT64 IPv6 addresses are classed by the IPv4 address they carry.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback()
        || ip.is_unspecified()
        || a == 0
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
    {
        return AddressClass::Local;
    }
    let private = ip.is_private()
        || (a == 100 && (64..128).contains(&b)) // CGNAT, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 240; // reserved
    if private {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (RFC 6052): the last 32 bits are an IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return classify_v4(v4);
    }
    if ip.is_loopback() || ip.is_unspecified() || ip.is_unicast_link_local() || ip.is_multicast() {
        return AddressClass::Local;
    }
    let private = (segments[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (segments[0] & 0xffc0) == 0xfec0 // site local (deprecated), fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0064 && segments[1] == 0xff9b && segments[2] == 1) // local-use NAT64
        || segments[..4] == [0x0100, 0, 0, 0]; // discard
    if private {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

/// The egress rules of one upstream client: its endpoint, and the addresses that endpoint resolved to.
#[derive(Debug)]
pub struct Egress {
    /// The endpoint's host, lower case, without IPv6 brackets.
    endpoint_host: String,
    endpoint_https: bool,
    /// Names resolved without checks: the endpoint's host and the outbound HTTP proxies from the environment.
    trusted_names: HashSet<String>,
    /// The endpoint's addresses: its literal address, or what its name resolved to.
    endpoint_addresses: RwLock<HashSet<IpAddr>>,
}

/// A URL's host as compared here: lower case, without the brackets of an IPv6 literal.
fn host_of(url: &Url) -> Option<String> {
    url.host_str().map(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase()
    })
}

/// The hosts of the outbound proxies reqwest takes from the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
/// `ALL_PROXY`, either case): they are the operator's, like the endpoint.
fn proxy_hosts() -> impl Iterator<Item = String> {
    [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .into_iter()
    .filter_map(|name| std::env::var(name).ok())
    .filter_map(|value| {
        let value = value.trim().to_owned();
        let with_scheme = if value.contains("://") {
            value
        } else {
            format!("http://{value}")
        };
        Url::parse(&with_scheme).ok().as_ref().and_then(host_of)
    })
}

impl Egress {
    /// The rules for an endpoint whose API is at `base` (an `http`/`https` URL with a host).
    pub fn new(base: &Url) -> Egress {
        let endpoint_host = host_of(base).unwrap_or_default();
        let mut endpoint_addresses = HashSet::new();
        if let Ok(ip) = endpoint_host.parse::<IpAddr>() {
            endpoint_addresses.insert(ip);
        }
        let mut trusted_names: HashSet<String> = proxy_hosts().collect();
        trusted_names.insert(endpoint_host.clone());
        Egress {
            endpoint_https: base.scheme() == "https",
            endpoint_host,
            trusted_names,
            endpoint_addresses: RwLock::new(endpoint_addresses),
        }
    }

    fn endpoint_addresses(&self) -> std::sync::RwLockReadGuard<'_, HashSet<IpAddr>> {
        self.endpoint_addresses
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Why an upstream may not send Berth to `ip`, or `None` if it may.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        let class = classify(ip);
        let allowed = match class {
            AddressClass::Public => true,
            AddressClass::Private => self
                .endpoint_addresses()
                .iter()
                .any(|a| classify(*a) != AddressClass::Public),
            AddressClass::Local => self.endpoint_addresses().contains(&ip),
        };
        (!allowed).then(|| {
            format!(
                "{ip} is a {} address, and the endpoint {} is not",
                class.describe(),
                self.endpoint_host
            )
        })
    }

    /// Why `url` (a redirect target or a token realm) may not be contacted, judged on its scheme and, for an
    /// address literal, its address. Names are judged when they resolve.
    pub fn url_refusal(&self, url: &Url, from_https: bool) -> Option<String> {
        match url.scheme() {
            "https" => {}
            "http" if !from_https => {}
            "http" => {
                return Some(format!(
                    "{} would downgrade https to plain http",
                    origin(url)
                ));
            }
            other => return Some(format!("the scheme {other:?} is not http or https")),
        }
        let host = host_of(url)?;
        let ip = host.parse::<IpAddr>().ok()?;
        self.refusal(ip)
    }

    /// The redirect policy: at most [`MAX_REDIRECTS`], never from `https` to `http`, never to an address
    /// [`Egress::refusal`] refuses.
    pub fn redirect_policy(self: &Arc<Self>, endpoint_id: i64) -> Policy {
        let egress = self.clone();
        Policy::custom(move |attempt: Attempt<'_>| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            let from_https = attempt.previous().iter().any(|u| u.scheme() == "https");
            match egress.url_refusal(attempt.url(), from_https) {
                None => attempt.follow(),
                Some(reason) => {
                    let target = origin(attempt.url());
                    tracing::warn!(endpoint = endpoint_id, %target, %reason, "proxy: refused an upstream redirect");
                    attempt.error(format!(
                        "refused the upstream's redirect to {target}: {reason}"
                    ))
                }
            }
        })
    }

    /// Why the endpoint's credential may not be sent to token realm `realm`, or `None` if it may.
    pub fn credential_refusal(&self, realm: &Url) -> Option<String> {
        if self.endpoint_https && realm.scheme() != "https" {
            return Some(format!(
                "the token service {} is plain http and the endpoint is https",
                origin(realm)
            ));
        }
        let host = host_of(realm).unwrap_or_default();
        (!same_site(&self.endpoint_host, &host)).then(|| {
            format!(
                "the token service {} is not on the endpoint's host {}",
                origin(realm),
                self.endpoint_host
            )
        })
    }
}

/// `scheme://host:port` of `url`, for messages (never the path or query).
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether `other` is `endpoint`'s host or a sibling under its parent domain (`registry-1.docker.io` and
/// `auth.docker.io`; `registry.gitlab.com` and `gitlab.com`). An address, or a name directly under a top-level
/// domain, has no siblings.
pub fn same_site(endpoint: &str, other: &str) -> bool {
    if endpoint.eq_ignore_ascii_case(other) {
        return true;
    }
    if endpoint.parse::<IpAddr>().is_ok() || other.parse::<IpAddr>().is_ok() {
        return false;
    }
    let Some((_, parent)) = endpoint.split_once('.') else {
        return false;
    };
    if !parent.contains('.') {
        return false;
    }
    let other = other.to_ascii_lowercase();
    let parent = parent.to_ascii_lowercase();
    other == parent || other.ends_with(&format!(".{parent}"))
}

/// Resolves names with the system resolver, then keeps only the addresses [`Egress::refusal`] allows, unless
/// the name is the endpoint's own (whose addresses are recorded) or an outbound proxy's.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub egress: Arc<Egress>,
    pub endpoint_id: i64,
}

/// A name that resolved to no address Berth may connect to.
#[derive(Debug, thiserror::Error)]
#[error("refused to connect to {name}: {reason}")]
struct Refused {
    name: String,
    reason: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress.clone();
        let endpoint_id = self.endpoint_id;
        let name = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if egress.trusted_names.contains(&name) {
                if name == egress.endpoint_host {
                    let mut known = egress
                        .endpoint_addresses
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    known.extend(resolved.iter().map(SocketAddr::ip));
                }
                let addrs: Addrs = Box::new(resolved.into_iter());
                return Ok(addrs);
            }
            let mut reasons = Vec::new();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match egress.refusal(addr.ip()) {
                    None => true,
                    Some(reason) => {
                        reasons.push(reason);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let reason = if reasons.is_empty() {
                    "it has no address".to_owned()
                } else {
                    reasons.join("; ")
                };
                tracing::warn!(endpoint = endpoint_id, host = %name, %reason, "proxy: refused to connect where the upstream sent Berth");
                return Err(Box::new(Refused { name, reason }) as Box<_>);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|_| unreachable!("{s}"))
    }

    #[test]
    fn addresses_are_classed() {
        use AddressClass::*;
        for (address, class) in [
            ("8.8.8.8", Public),
            ("104.18.0.1", Public),
            ("2606:4700::1", Public),
            ("127.0.0.1", Local),
            ("127.0.0.2", Local),
            ("0.0.0.0", Local),
            ("169.254.169.254", Local),
            ("::1", Local),
            ("::", Local),
            ("fe80::1", Local),
            ("::ffff:127.0.0.1", Local),
            ("::ffff:169.254.169.254", Local),
            ("64:ff9b::a9fe:a9fe", Local),
            ("224.0.0.1", Local),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", Private),
            ("192.0.2.2", Private),
            ("198.18.0.1", Private),
            ("240.0.0.1", Private),
            ("fd00::2", Private),
            ("::ffff:10.0.0.1", Private),
            ("64:ff9b::808:808", Public),
        ] {
            assert_eq!(classify(ip(address)), class, "{address}");
        }
    }

    #[test]
    fn a_public_endpoint_may_send_berth_only_to_public_addresses() {
        let egress = Egress::new(&url("https://8.8.4.4"));
        assert!(egress.refusal(ip("1.1.1.1")).is_none());
        for refused in ["127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "fd00::1"] {
            assert!(egress.refusal(ip(refused)).is_some(), "{refused}");
        }
        // Downgrades and other schemes.
        assert!(egress.url_refusal(&url("http://1.1.1.1/x"), true).is_some());
        assert!(
            egress
                .url_refusal(&url("https://1.1.1.1/x"), true)
                .is_none()
        );
        assert!(egress.url_refusal(&url("ftp://1.1.1.1/x"), false).is_some());
        assert!(
            egress
                .url_refusal(&url("https://[::ffff:127.0.0.1]/x"), false)
                .is_some()
        );
        assert!(
            egress
                .url_refusal(&url("https://cdn.example.com/x"), true)
                .is_none(),
            "names are judged when they resolve"
        );
    }

    #[test]
    fn an_internal_endpoint_may_redirect_inside_but_not_to_other_local_addresses() {
        let internal = Egress::new(&url("http://10.0.0.4:5000"));
        assert!(internal.refusal(ip("10.0.0.5")).is_none());
        assert!(internal.refusal(ip("192.168.0.9")).is_none());
        assert!(internal.refusal(ip("127.0.0.1")).is_some());
        assert!(internal.refusal(ip("169.254.169.254")).is_some());
        let local = Egress::new(&url("http://127.0.0.1:5000"));
        assert!(local.refusal(ip("127.0.0.1")).is_none(), "its own address");
        assert!(local.refusal(ip("127.0.0.2")).is_some());
        assert!(local.refusal(ip("10.0.0.1")).is_none());
    }

    #[test]
    fn credentials_stay_on_the_endpoints_site() {
        let hub = Egress::new(&url("https://registry-1.docker.io"));
        assert!(
            hub.credential_refusal(&url("https://auth.docker.io/token"))
                .is_none()
        );
        assert!(
            hub.credential_refusal(&url("http://auth.docker.io/token"))
                .is_some(),
            "not over plain http"
        );
        assert!(
            hub.credential_refusal(&url("https://auth.evil.example/token"))
                .is_some()
        );
        assert!(
            hub.credential_refusal(&url("https://docker.io.evil.example/token"))
                .is_some()
        );
        let ghcr = Egress::new(&url("https://ghcr.io"));
        assert!(
            ghcr.credential_refusal(&url("https://ghcr.io/token"))
                .is_none()
        );
        assert!(
            ghcr.credential_refusal(&url("https://evil.io/token"))
                .is_some()
        );
        let local = Egress::new(&url("http://127.0.0.1:5000"));
        assert!(
            local
                .credential_refusal(&url("http://127.0.0.1:5001/token"))
                .is_none(),
            "another port of the same host"
        );
        assert!(
            local
                .credential_refusal(&url("http://localhost:5001/token"))
                .is_some()
        );
        assert!(same_site("registry.gitlab.com", "gitlab.com"));
        assert!(!same_site("gitlab.com", "evil.com"));
    }
}
