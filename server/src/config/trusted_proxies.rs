//! `trusted_proxies`: the reverse proxies whose `X-Forwarded-For` Berth believes.
//!
//! A request's client address is its TCP peer, unless that peer is one of these proxies: then it is the last
//! `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends the address it received the
//! request from, so entries further left were written by whoever sent the request and prove nothing). Anyone
//! else's `X-Forwarded-For` is ignored: a client could otherwise dodge its own sign-in throttle or pin its
//! failures, and its audit entries, on another address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr as _;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The trusted proxies, as CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. Empty by default.
///
/// In TOML a list (`trusted_proxies = ["10.0.0.0/8", "192.168.1.10"]`); in the environment a list or one
/// string with entries separated by commas or spaces (`BERTH_TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.10"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// At most this many `X-Forwarded-For` entries are read (from the right); a longer chain is not believed
/// beyond them.
const MAX_HOPS: usize = 16;

impl TrustedProxies {
    /// Parses entries such as `10.0.0.0/8` or `192.0.2.7`.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            let net = match IpNet::from_str(entry) {
                Ok(net) => net.trunc(),
                Err(_) => IpAddr::from_str(entry).map(IpNet::from).map_err(|_| {
                    format!("trusted_proxies: {entry:?} is neither an IP address nor a CIDR block")
                })?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is a trusted proxy. An IPv4-mapped IPv6 address counts as its IPv4 address.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client address of a request that came from `peer` with these `X-Forwarded-For` header values.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let entries: Vec<&str> = forwarded_for
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev().take(MAX_HOPS) {
            let Some(address) = parse_entry(entry) else {
                // Garbage where an address should be: believe nothing further left.
                return client;
            };
            client = address;
            if !self.contains(address) {
                return address;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an IP address, possibly with a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = IpAddr::from_str(entry) {
        return Some(canonical(address));
    }
    if let Ok(socket) = std::net::SocketAddr::from_str(entry) {
        return Some(canonical(socket.ip()));
    }
    None
}

/// `::ffff:192.0.2.1` as `192.0.2.1`, so one client is one address whichever way the socket reports it.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> Visitor<'de> for Entries {
            type Value = TrustedProxies;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of IP addresses or CIDR blocks, or one string of them separated by commas")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<TrustedProxies, E> {
                TrustedProxies::parse(value.split([',', ' '])).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TrustedProxies, A::Error> {
                let mut entries: Vec<String> = Vec::new();
                while let Some(entry) = seq.next_element::<String>()? {
                    entries.push(entry);
                }
                TrustedProxies::parse(entries.iter().map(String::as_str)).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!("{s}"))
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let xff = ["203.0.113.9, 10.0.0.2"];
        assert_eq!(
            none.client_address(ip("10.0.0.1"), xff.into_iter()),
            ip("10.0.0.1")
        );
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap_or_default();
        // Both proxies are trusted, so the first untrusted entry from the right is the client.
        assert_eq!(
            proxies.client_address(ip("10.0.0.1"), xff.into_iter()),
            ip("203.0.113.9")
        );
        // A client that forges entries to the left of its own address gains nothing.
        assert_eq!(
            proxies.client_address(
                ip("10.0.0.1"),
                ["1.2.3.4", "198.51.100.7, 10.0.0.3"].into_iter()
            ),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last believable hop.
        assert_eq!(
            proxies.client_address(ip("10.0.0.1"), ["nonsense, 10.0.0.5"].into_iter()),
            ip("10.0.0.5")
        );
        assert_eq!(
            proxies.client_address(ip("10.0.0.1"), ["[2001:db8::1]:4711"].into_iter()),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_address(ip("::ffff:10.0.0.1"), std::iter::empty()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn entries_parse_from_lists_and_strings() {
        let parsed = TrustedProxies::parse(["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32", ""]);
        assert_eq!(parsed.map(|p| p.0.len()), Ok(3));
        assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(["proxy.example"]).is_err());
        let from_str: Result<TrustedProxies, _> =
            serde_json::from_value(serde_json::json!("10.0.0.0/8, 127.0.0.1"));
        assert!(from_str.is_ok_and(|p| p.contains(ip("127.0.0.1"))));
    }
}
