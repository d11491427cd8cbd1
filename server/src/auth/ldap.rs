//! The LDAP client behind `ldap_auth`: a search bind finds the user, a bind as the user checks the password.
//!
//! Rules this module keeps:
//! - Every value put into a search filter goes through [`ldap_escape`] (RFC 4515 §3,
//!   <https://www.rfc-editor.org/rfc/rfc4515#section-3>), so a username like `*)(uid=*` is a literal, never filter
//!   syntax. The administrator's own filters (`filter`, `group_search_filter`) are trusted configuration.
//! - An empty password is refused before any bind: RFC 4513 §5.1.2 makes a bind with a DN and no password an
//!   "unauthenticated bind" that many servers answer with success.
//! - The service account's connections are pooled (a few idle, already bound); a user's bind always uses a fresh
//!   connection that is closed afterwards, so a pooled connection never carries a user's identity.
//! - Every connect and every operation has the configured timeout; errors say what failed, against which server
//!   and DN, and never contain a password.
//! - Group memberships found at sign-in are kept in a [`GroupCache`] for `group_cache_seconds`, so registry
//!   requests do not query LDAP each time.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapResult, Scope, SearchEntry, SearchOptions,
    SearchResult, ldap_escape,
};

use crate::secret::StoredSecret;

/// Idle service-account connections kept for reuse.
const POOL_IDLE_MAX: usize = 4;
/// At most this many entries are asked for by `search_users` / `search_groups`.
const SEARCH_LIMIT: i32 = 200;
/// Group DNs per `(|(member=..)..)` filter when following nested groups.
const NESTED_BATCH: usize = 50;
/// Base-object reads run at once when resolving groups in `memberOf` mode.
const READ_CONCURRENCY: usize = 4;
/// The cache drops expired entries once it holds this many.
const CACHE_PRUNE_AT: usize = 10_000;

/// The search scope, numbered as Harbor's `ldap_scope` and `ldap_group_search_scope` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapScope {
    /// 0: only the base DN itself.
    Base,
    /// 1: the entries directly below the base DN.
    OneLevel,
    /// 2: the base DN and everything below it.
    Subtree,
}

impl LdapScope {
    /// Harbor's number (0 base, 1 one level, 2 subtree), or `None` for any other.
    pub fn from_harbor(number: i64) -> Option<LdapScope> {
        match number {
            0 => Some(LdapScope::Base),
            1 => Some(LdapScope::OneLevel),
            2 => Some(LdapScope::Subtree),
            _ => None,
        }
    }

    pub fn harbor_number(self) -> i64 {
        match self {
            LdapScope::Base => 0,
            LdapScope::OneLevel => 1,
            LdapScope::Subtree => 2,
        }
    }

    fn to_ldap3(self) -> Scope {
        match self {
            LdapScope::Base => Scope::Base,
            LdapScope::OneLevel => Scope::OneLevel,
            LdapScope::Subtree => Scope::Subtree,
        }
    }
}

/// LDAP settings, with Harbor's configuration keys (`ldap_<field>`) unless marked as a Berth extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapSettings {
    /// `ldap_url`: `ldap://host[:port]` or `ldaps://host[:port]`.
    pub url: String,
    /// Berth extension: upgrade an `ldap://` connection with StartTLS (RFC 4511 §4.14).
    pub starttls: bool,
    /// `ldap_search_dn`: the service account that searches; empty for an anonymous search.
    pub search_dn: String,
    /// `ldap_search_password`.
    pub search_password: StoredSecret,
    /// `ldap_base_dn`: where users are searched.
    pub base_dn: String,
    /// `ldap_filter`: an extra filter users must match, e.g. `(objectClass=person)`; empty for none.
    pub filter: String,
    /// `ldap_uid`: the attribute holding the username.
    pub uid: String,
    /// `ldap_scope`.
    pub scope: LdapScope,
    /// `ldap_timeout`, in seconds: for connecting and for each operation.
    pub timeout: u64,
    /// `ldap_verify_cert`: verify the server's TLS certificate against the system's roots.
    pub verify_cert: bool,
    /// `ldap_group_base_dn`: where groups are searched; empty means `base_dn`.
    pub group_base_dn: String,
    /// `ldap_group_search_filter`: an extra filter groups must match; empty for none.
    pub group_search_filter: String,
    /// `ldap_group_attribute_name`: the attribute holding a group's name.
    pub group_attribute_name: String,
    /// `ldap_group_admin_dn`: members of this group are system admins; empty for none.
    pub group_admin_dn: String,
    /// `ldap_group_membership_attribute`: `memberOf` (read from the user's entry; any attribute whose name ends
    /// in `memberOf`, such as `isMemberOf`, works the same) or `member` / `uniqueMember` (groups are searched
    /// for the user's DN in this attribute).
    pub group_membership_attribute: String,
    /// `ldap_group_search_scope`.
    pub group_search_scope: LdapScope,
    /// Berth extension: also count groups that contain the user's groups (groups of groups).
    pub nested_groups: bool,
    /// Berth extension: how long, in seconds, following nested groups may take; what was found by then counts.
    pub nested_groups_timeout: u64,
    /// Berth extension: the attribute holding the email address.
    pub email_attribute: String,
    /// Berth extension: the attribute holding the display name (`cn` is used when it is absent).
    pub display_name_attribute: String,
    /// Berth extension: how long, in seconds, group memberships found at sign-in are reused; 0 disables the cache.
    pub group_cache_seconds: u64,
}

impl Default for LdapSettings {
    fn default() -> Self {
        LdapSettings {
            url: String::new(),
            starttls: false,
            search_dn: String::new(),
            search_password: StoredSecret::Unset,
            base_dn: String::new(),
            filter: String::new(),
            uid: "cn".to_owned(),
            scope: LdapScope::Subtree,
            timeout: 5,
            verify_cert: true,
            group_base_dn: String::new(),
            group_search_filter: String::new(),
            group_attribute_name: "cn".to_owned(),
            group_admin_dn: String::new(),
            group_membership_attribute: "memberof".to_owned(),
            group_search_scope: LdapScope::Subtree,
            nested_groups: false,
            nested_groups_timeout: 5,
            email_attribute: "mail".to_owned(),
            display_name_attribute: "displayName".to_owned(),
            group_cache_seconds: 60,
        }
    }
}

impl LdapSettings {
    /// Checks what can be checked without a server.
    pub fn validate(&self) -> Result<(), LdapError> {
        let invalid = |m: String| Err(LdapError::InvalidSettings(m));
        let lower = self.url.to_ascii_lowercase();
        let secure = if lower.starts_with("ldaps://") {
            true
        } else if lower.starts_with("ldap://") {
            false
        } else {
            return invalid(format!(
                "ldap_url {:?} must start with ldap:// or ldaps://",
                self.url
            ));
        };
        if secure && self.starttls {
            return invalid(
                "StartTLS is for ldap:// URLs; an ldaps:// URL is already TLS".to_owned(),
            );
        }
        if self.base_dn.trim().is_empty() {
            return invalid("ldap_base_dn is empty".to_owned());
        }
        if !is_attribute_name(&self.uid) {
            return invalid(format!("ldap_uid {:?} is not an attribute name", self.uid));
        }
        for (key, value) in [
            ("ldap_group_attribute_name", &self.group_attribute_name),
            (
                "ldap_group_membership_attribute",
                &self.group_membership_attribute,
            ),
            ("email attribute", &self.email_attribute),
            ("display name attribute", &self.display_name_attribute),
        ] {
            if !is_attribute_name(value) {
                return invalid(format!("{key} {value:?} is not an attribute name"));
            }
        }
        for (key, value) in [
            ("ldap_filter", &self.filter),
            ("ldap_group_search_filter", &self.group_search_filter),
        ] {
            if let Some(filter) = normalize_filter(value)
                && ldap3::parse_filter(&filter).is_err()
            {
                return invalid(format!("{key} {value:?} is not a valid LDAP filter"));
            }
        }
        if self.timeout == 0 {
            return invalid("ldap_timeout must be at least 1 second".to_owned());
        }
        Ok(())
    }

    fn op_timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.max(1))
    }

    fn group_base(&self) -> &str {
        if self.group_base_dn.trim().is_empty() {
            &self.base_dn
        } else {
            &self.group_base_dn
        }
    }

    fn membership(&self) -> Membership<'_> {
        let attribute = self.group_membership_attribute.as_str();
        if attribute.to_ascii_lowercase().ends_with("memberof") {
            Membership::OnUser(attribute)
        } else {
            Membership::OnGroup(attribute)
        }
    }
}

/// Where memberships are recorded.
#[derive(Debug, Clone, Copy)]
enum Membership<'a> {
    /// The user's entry lists its groups' DNs (`memberOf`).
    OnUser(&'a str),
    /// Each group lists its members' DNs (`member`, `uniqueMember`).
    OnGroup(&'a str),
}

/// Why an LDAP operation failed. Messages name the server, DN or user involved, never a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdapError {
    /// The settings cannot work (bad URL scheme, empty base DN, malformed filter).
    #[error("invalid LDAP settings: {0}")]
    InvalidSettings(String),
    /// No connection: refused, no route, DNS, or no answer within the connect timeout.
    #[error("LDAP server {url} unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The TLS handshake (ldaps:// or StartTLS) failed, e.g. an untrusted certificate.
    #[error("TLS with LDAP server {url} failed: {reason}")]
    Tls { url: String, reason: String },
    /// The service account (`ldap_search_dn`) could not bind.
    #[error("LDAP bind as the search DN {dn:?} failed: {reason}")]
    ServiceBindFailed { dn: String, reason: String },
    /// The user exists but the password is wrong (or empty).
    #[error("invalid LDAP credentials for user {username:?}")]
    InvalidCredentials { username: String },
    /// No entry matches the username.
    #[error("no LDAP user {username:?} under {base_dn:?} matching the user filter")]
    UnknownUser { username: String, base_dn: String },
    /// More than one entry matches the username: the uid attribute or filter is not specific enough.
    #[error(
        "LDAP username {username:?} is ambiguous: several entries match ({}); make ldap_uid or ldap_filter specific enough to match one",
        dns.join("; ")
    )]
    Ambiguous { username: String, dns: Vec<String> },
    /// The server did not answer an operation in time.
    #[error("LDAP server {url} did not answer {operation} within {seconds} s")]
    Timeout {
        url: String,
        operation: String,
        seconds: u64,
    },
    /// The server answered with an error, or the connection broke mid-operation.
    #[error("LDAP error: {0}")]
    Protocol(String),
}

/// A group, by DN and name (`group_attribute_name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LdapGroup {
    pub dn: String,
    pub name: String,
}

/// A user entry as found by a search, without memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapUserEntry {
    pub dn: String,
    /// The uid attribute's value, as the directory spells it.
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
}

/// A signed-in (or looked-up) user with memberships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapUser {
    pub dn: String,
    /// The uid attribute's value, as the directory spells it.
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// Direct groups, plus groups of groups when `nested_groups` is on; sorted by name.
    pub groups: Vec<LdapGroup>,
    /// A member of `group_admin_dn`.
    pub is_admin: bool,
}

/// A user's groups, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembership {
    pub groups: Vec<LdapGroup>,
    pub is_admin: bool,
}

#[derive(Debug)]
struct CachedMembership {
    membership: GroupMembership,
    fetched: Instant,
}

#[derive(Debug, Default)]
struct CacheMaps {
    /// By normalized user DN.
    by_dn: HashMap<String, CachedMembership>,
    /// Lower-cased username to normalized DN.
    dn_of: HashMap<String, String>,
}

/// Users' group memberships, by user DN, for a time-to-live. Sign-in refreshes an entry; readers get it only while
/// fresh.
#[derive(Debug)]
pub struct GroupCache {
    ttl: Duration,
    maps: Mutex<CacheMaps>,
}

impl GroupCache {
    pub fn new(ttl: Duration) -> GroupCache {
        GroupCache {
            ttl,
            maps: Mutex::new(CacheMaps::default()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The memberships of the user with this DN, if cached less than the TTL ago.
    pub fn get(&self, user_dn: &str) -> Option<GroupMembership> {
        let maps = lock(&self.maps);
        let entry = maps.by_dn.get(&normalize_dn(user_dn))?;
        (entry.fetched.elapsed() < self.ttl).then(|| entry.membership.clone())
    }

    /// The memberships of the user with this username (case-insensitive), if cached less than the TTL ago.
    pub fn get_by_username(&self, username: &str) -> Option<(String, GroupMembership)> {
        let maps = lock(&self.maps);
        let dn = maps.dn_of.get(&username.to_lowercase())?;
        let entry = maps.by_dn.get(dn)?;
        (entry.fetched.elapsed() < self.ttl).then(|| (dn.clone(), entry.membership.clone()))
    }

    /// Records fresh memberships (a no-op when the TTL is zero).
    pub fn insert(&self, user_dn: &str, username: &str, membership: GroupMembership) {
        if self.ttl.is_zero() {
            return;
        }
        let mut maps = lock(&self.maps);
        if maps.by_dn.len() >= CACHE_PRUNE_AT {
            let ttl = self.ttl;
            maps.by_dn.retain(|_, e| e.fetched.elapsed() < ttl);
            let CacheMaps { by_dn, dn_of } = &mut *maps;
            dn_of.retain(|_, dn| by_dn.contains_key(dn));
        }
        let dn = normalize_dn(user_dn);
        maps.dn_of.insert(username.to_lowercase(), dn.clone());
        maps.by_dn.insert(
            dn,
            CachedMembership {
                membership,
                fetched: Instant::now(),
            },
        );
    }

    /// Forgets one user's memberships.
    pub fn invalidate(&self, user_dn: &str) {
        let mut maps = lock(&self.maps);
        let dn = normalize_dn(user_dn);
        maps.by_dn.remove(&dn);
        maps.dn_of.retain(|_, d| *d != dn);
    }
}

/// How many connections and searches a client made (for tests and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LdapStats {
    pub connections: u64,
    pub searches: u64,
}

/// The LDAP client. Cheap to clone; clones share the connection pool and the group cache.
#[derive(Clone)]
pub struct LdapClient {
    inner: Arc<Inner>,
}

struct Inner {
    settings: LdapSettings,
    /// Idle connections bound as the service account.
    idle: Mutex<Vec<Ldap>>,
    cache: GroupCache,
    connections: AtomicU64,
    searches: AtomicU64,
}

impl std::fmt::Debug for LdapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapClient")
            .field("settings", &self.inner.settings)
            .field("idle", &lock(&self.inner.idle).len())
            .finish_non_exhaustive()
    }
}

/// A search's parameters.
struct Search<'a> {
    base: &'a str,
    scope: LdapScope,
    filter: String,
    attrs: Vec<&'a str>,
    /// 0 for the server's limit.
    limit: i32,
    /// For error messages: what was being looked for.
    purpose: &'a str,
}

impl LdapClient {
    /// A client for these settings; no connection is made until first use.
    pub fn new(settings: LdapSettings) -> Result<LdapClient, LdapError> {
        settings.validate()?;
        let cache = GroupCache::new(Duration::from_secs(settings.group_cache_seconds));
        Ok(LdapClient {
            inner: Arc::new(Inner {
                settings,
                idle: Mutex::new(Vec::new()),
                cache,
                connections: AtomicU64::new(0),
                searches: AtomicU64::new(0),
            }),
        })
    }

    pub fn settings(&self) -> &LdapSettings {
        &self.inner.settings
    }

    pub fn group_cache(&self) -> &GroupCache {
        &self.inner.cache
    }

    pub fn stats(&self) -> LdapStats {
        LdapStats {
            connections: self.inner.connections.load(Ordering::Relaxed),
            searches: self.inner.searches.load(Ordering::Relaxed),
        }
    }

    /// Checks the server answers, the service account binds, and the base DN exists (Harbor's `/ldap/ping`).
    pub async fn ping(&self) -> Result<(), LdapError> {
        let settings = &self.inner.settings;
        // A fresh connection, so the bind is really tried now.
        let mut ldap = self.connect().await?;
        self.bind_service(&mut ldap).await?;
        self.release(ldap);
        self.search(Search {
            base: &settings.base_dn,
            scope: LdapScope::Base,
            filter: "(objectClass=*)".to_owned(),
            attrs: vec!["1.1"],
            limit: 1,
            purpose: "the base DN",
        })
        .await?;
        Ok(())
    }

    /// Signs a user in: finds their entry with the service account, binds as it with `password`, and reads their
    /// groups (refreshing the group cache).
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LdapUser, LdapError> {
        if password.is_empty() {
            // RFC 4513 §5.1.2: a bind with a DN and an empty password is an unauthenticated bind, which servers
            // may answer with success. Never send one.
            tracing::debug!(username, "LDAP sign-in refused: empty password");
            return Err(LdapError::InvalidCredentials {
                username: username.to_owned(),
            });
        }
        let entry = self.lookup_user(username).await?;
        self.bind_as_user(&entry.dn, username, password).await?;
        self.complete_user(entry).await
    }

    /// Looks a user up by username, with memberships (refreshing the group cache); no password involved.
    pub async fn find_user(&self, username: &str) -> Result<LdapUser, LdapError> {
        let entry = self.lookup_user(username).await?;
        self.complete_user(entry).await
    }

    /// Users whose uid attribute contains `name` (all users for an empty `name`), at most 200.
    pub async fn search_users(&self, name: &str) -> Result<Vec<LdapUserEntry>, LdapError> {
        let settings = &self.inner.settings;
        let assertion = format!("({}={})", settings.uid, substring(name));
        let entries = self
            .search(Search {
                base: &settings.base_dn,
                scope: settings.scope,
                filter: and_filter(&settings.filter, &assertion),
                attrs: self.user_attributes(),
                limit: SEARCH_LIMIT,
                purpose: "users",
            })
            .await?;
        let mut users: Vec<LdapUserEntry> = entries
            .into_iter()
            .map(|e| self.user_entry(e, name))
            .collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// Groups whose name attribute contains `name` (all groups for an empty `name`), at most 200.
    pub async fn search_groups(&self, name: &str) -> Result<Vec<LdapGroup>, LdapError> {
        let settings = &self.inner.settings;
        let attribute = settings.group_attribute_name.as_str();
        let assertion = format!("({attribute}={})", substring(name));
        let entries = self
            .search(Search {
                base: settings.group_base(),
                scope: settings.group_search_scope,
                filter: and_filter(&settings.group_search_filter, &assertion),
                attrs: vec![attribute],
                limit: SEARCH_LIMIT,
                purpose: "groups",
            })
            .await?;
        let mut groups: Vec<LdapGroup> = entries.into_iter().map(|e| self.group_of(e)).collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.dn.cmp(&b.dn)));
        Ok(groups)
    }

    /// The group with this DN, if it exists and matches the group filter (Harbor's `groupdn` search).
    pub async fn find_group(&self, dn: &str) -> Result<Option<LdapGroup>, LdapError> {
        let settings = &self.inner.settings;
        let attribute = settings.group_attribute_name.as_str();
        let result = self
            .search_existing(Search {
                base: dn,
                scope: LdapScope::Base,
                filter: and_filter(&settings.group_search_filter, "(objectClass=*)"),
                attrs: vec![attribute],
                limit: 1,
                purpose: "the group",
            })
            .await;
        Ok(result?
            .and_then(|entries| entries.into_iter().next())
            .map(|e| self.group_of(e)))
    }

    /// The groups of the user with this DN: from the cache while fresh, otherwise from the server (and cached).
    pub async fn groups(&self, user_dn: &str) -> Result<GroupMembership, LdapError> {
        if let Some(cached) = self.inner.cache.get(user_dn) {
            return Ok(cached);
        }
        let settings = &self.inner.settings;
        let attrs = self.user_attributes();
        let entry = self
            .search(Search {
                base: user_dn,
                scope: LdapScope::Base,
                filter: and_filter(&settings.filter, "(objectClass=*)"),
                attrs,
                limit: 1,
                purpose: "the user",
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| LdapError::UnknownUser {
                username: user_dn.to_owned(),
                base_dn: settings.base_dn.clone(),
            })?;
        let user = self.complete_user(entry).await?;
        Ok(GroupMembership {
            groups: user.groups,
            is_admin: user.is_admin,
        })
    }

    // --- users ---

    fn user_attributes(&self) -> Vec<&str> {
        let s = &self.inner.settings;
        let mut attrs = vec![
            s.uid.as_str(),
            s.email_attribute.as_str(),
            s.display_name_attribute.as_str(),
            "cn",
        ];
        if let Membership::OnUser(attribute) = s.membership() {
            attrs.push(attribute);
        }
        attrs
    }

    /// The one entry for `username`.
    async fn lookup_user(&self, username: &str) -> Result<SearchEntry, LdapError> {
        let settings = &self.inner.settings;
        let unknown = || LdapError::UnknownUser {
            username: username.to_owned(),
            base_dn: settings.base_dn.clone(),
        };
        if username.is_empty() {
            return Err(unknown());
        }
        let mut entries = self
            .search(Search {
                base: &settings.base_dn,
                scope: settings.scope,
                filter: user_filter(settings, username),
                attrs: self.user_attributes(),
                // Two are enough to tell "one" from "several".
                limit: 2,
                purpose: "the user",
            })
            .await?;
        match entries.len() {
            0 => Err(unknown()),
            1 => Ok(entries.remove(0)),
            _ => Err(LdapError::Ambiguous {
                username: username.to_owned(),
                dns: entries.into_iter().map(|e| e.dn).collect(),
            }),
        }
    }

    fn user_entry(&self, entry: SearchEntry, fallback_username: &str) -> LdapUserEntry {
        let s = &self.inner.settings;
        let username = first_value(&entry, &s.uid).unwrap_or_else(|| fallback_username.to_owned());
        let email = first_value(&entry, &s.email_attribute);
        let display_name =
            first_value(&entry, &s.display_name_attribute).or_else(|| first_value(&entry, "cn"));
        LdapUserEntry {
            dn: entry.dn,
            username,
            email,
            display_name,
        }
    }

    /// Adds memberships to a user entry and refreshes the cache.
    async fn complete_user(&self, entry: SearchEntry) -> Result<LdapUser, LdapError> {
        let membership = self.read_membership(&entry).await?;
        let user = self.user_entry(entry, "");
        self.inner
            .cache
            .insert(&user.dn, &user.username, membership.clone());
        Ok(LdapUser {
            dn: user.dn,
            username: user.username,
            email: user.email,
            display_name: user.display_name,
            groups: membership.groups,
            is_admin: membership.is_admin,
        })
    }

    /// Binds as `dn` on a fresh connection, then closes it.
    async fn bind_as_user(
        &self,
        dn: &str,
        username: &str,
        password: &str,
    ) -> Result<(), LdapError> {
        let settings = &self.inner.settings;
        let mut ldap = self.connect().await?;
        let result = ldap
            .with_timeout(settings.op_timeout())
            .simple_bind(dn, password)
            .await;
        // Best effort: the connection is dropped either way.
        let _ = ldap.with_timeout(settings.op_timeout()).unbind().await;
        match result {
            Ok(r) if r.rc == 0 => Ok(()),
            Ok(r) if r.rc == 49 => Err(LdapError::InvalidCredentials {
                username: username.to_owned(),
            }),
            Ok(r) => Err(LdapError::Protocol(format!(
                "bind as user {dn:?} refused: {}",
                describe(&r)
            ))),
            Err(e) => Err(self.operation_error(e, &format!("the bind as user {dn:?}"))),
        }
    }

    // --- groups ---

    async fn read_membership(&self, user: &SearchEntry) -> Result<GroupMembership, LdapError> {
        let settings = &self.inner.settings;
        let membership = settings.membership();
        // Normalized DN → group (name empty until known).
        let mut found: HashMap<String, LdapGroup> = HashMap::new();
        match membership {
            Membership::OnUser(attribute) => {
                for dn in values(user, attribute) {
                    let name = name_from_dn(dn, &settings.group_attribute_name).unwrap_or_default();
                    found.insert(
                        normalize_dn(dn),
                        LdapGroup {
                            dn: dn.clone(),
                            name,
                        },
                    );
                }
            }
            Membership::OnGroup(attribute) => {
                let assertion = format!("({attribute}={})", ldap_escape(user.dn.as_str()));
                for group in self.group_search(&assertion).await? {
                    found.insert(normalize_dn(&group.dn), group);
                }
            }
        }

        if settings.nested_groups && !found.is_empty() {
            let limit = Duration::from_secs(settings.nested_groups_timeout.max(1));
            let started = Instant::now();
            let expansion = tokio::time::timeout(limit, self.expand_nested(membership, &mut found));
            match expansion.await {
                Ok(result) => result?,
                Err(_) => tracing::warn!(
                    user = %user.dn,
                    seconds = started.elapsed().as_secs(),
                    groups = found.len(),
                    "LDAP nested-group lookup hit its timeout; using the groups found so far"
                ),
            }
        }

        self.fill_group_names(&mut found).await?;

        let admin = normalize_dn(&settings.group_admin_dn);
        let is_admin = !settings.group_admin_dn.trim().is_empty() && found.contains_key(&admin);
        let mut groups: Vec<LdapGroup> = found.into_values().collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.dn.cmp(&b.dn)));
        Ok(GroupMembership { groups, is_admin })
    }

    /// Groups matching the group filter and `assertion`, under the group base.
    async fn group_search(&self, assertion: &str) -> Result<Vec<LdapGroup>, LdapError> {
        let settings = &self.inner.settings;
        let entries = self
            .search(Search {
                base: settings.group_base(),
                scope: settings.group_search_scope,
                filter: and_filter(&settings.group_search_filter, assertion),
                attrs: vec![settings.group_attribute_name.as_str()],
                limit: 0,
                purpose: "the user's groups",
            })
            .await?;
        Ok(entries.into_iter().map(|e| self.group_of(e)).collect())
    }

    /// Follows groups of groups breadth-first; a group seen before is not followed again (cycles end).
    async fn expand_nested(
        &self,
        membership: Membership<'_>,
        found: &mut HashMap<String, LdapGroup>,
    ) -> Result<(), LdapError> {
        let settings = &self.inner.settings;
        let mut frontier: Vec<String> = found.values().map(|g| g.dn.clone()).collect();
        while !frontier.is_empty() {
            let mut parents: Vec<LdapGroup> = Vec::new();
            match membership {
                Membership::OnGroup(attribute) => {
                    for batch in frontier.chunks(NESTED_BATCH) {
                        let any: String = batch
                            .iter()
                            .map(|dn| format!("({attribute}={})", ldap_escape(dn.as_str())))
                            .collect();
                        parents.extend(self.group_search(&format!("(|{any})")).await?);
                    }
                }
                Membership::OnUser(attribute) => {
                    // Collected first: a lazy `map` in the stream's type trips the compiler's `Send` check
                    // (rust-lang/rust#100013).
                    let reads: Vec<_> = frontier
                        .iter()
                        .map(|dn| self.read_group(dn, Some(attribute)))
                        .collect();
                    let mut results =
                        futures_util::stream::iter(reads).buffer_unordered(READ_CONCURRENCY);
                    while let Some(result) = results.next().await {
                        let Some((group, member_of)) = result? else {
                            continue;
                        };
                        if let Some(known) = found.get_mut(&normalize_dn(&group.dn))
                            && known.name.is_empty()
                        {
                            known.name = group.name;
                        }
                        for dn in member_of {
                            let name = name_from_dn(&dn, &settings.group_attribute_name)
                                .unwrap_or_default();
                            parents.push(LdapGroup { dn, name });
                        }
                    }
                }
            }
            frontier.clear();
            for group in parents {
                let key = normalize_dn(&group.dn);
                if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(key) {
                    frontier.push(group.dn.clone());
                    slot.insert(group);
                }
            }
        }
        Ok(())
    }

    /// Reads one group entry: its name, and the values of `member_of` when given. `None` if it does not exist.
    async fn read_group(
        &self,
        dn: &str,
        member_of: Option<&str>,
    ) -> Result<Option<(LdapGroup, Vec<String>)>, LdapError> {
        let settings = &self.inner.settings;
        let mut attrs = vec![settings.group_attribute_name.as_str()];
        attrs.extend(member_of);
        // `None` for a dangling memberOf value: skipped.
        let entry = self
            .search_existing(Search {
                base: dn,
                scope: LdapScope::Base,
                filter: "(objectClass=*)".to_owned(),
                attrs,
                limit: 1,
                purpose: "a group",
            })
            .await?
            .and_then(|entries| entries.into_iter().next());
        Ok(entry.map(|e| {
            let parents = member_of
                .map(|a| values(&e, a).to_vec())
                .unwrap_or_default();
            (self.group_of(e), parents)
        }))
    }

    /// Looks up the names of groups whose DN did not give it (its first RDN is another attribute).
    async fn fill_group_names(
        &self,
        found: &mut HashMap<String, LdapGroup>,
    ) -> Result<(), LdapError> {
        let missing: Vec<String> = found
            .values()
            .filter(|g| g.name.is_empty())
            .map(|g| g.dn.clone())
            .collect();
        let reads: Vec<_> = missing.iter().map(|dn| self.read_group(dn, None)).collect();
        let mut results = futures_util::stream::iter(reads).buffer_unordered(READ_CONCURRENCY);
        while let Some(result) = results.next().await {
            if let Some((group, _)) = result?
                && let Some(known) = found.get_mut(&normalize_dn(&group.dn))
            {
                known.name = group.name;
            }
        }
        // Still nameless (no such attribute): fall back to the DN's first RDN value.
        for group in found.values_mut().filter(|g| g.name.is_empty()) {
            group.name = first_rdn_value(&group.dn).unwrap_or_else(|| group.dn.clone());
        }
        Ok(())
    }

    fn group_of(&self, entry: SearchEntry) -> LdapGroup {
        let attribute = &self.inner.settings.group_attribute_name;
        let name = first_value(&entry, attribute)
            .or_else(|| name_from_dn(&entry.dn, attribute))
            .or_else(|| first_rdn_value(&entry.dn))
            .unwrap_or_else(|| entry.dn.clone());
        LdapGroup { dn: entry.dn, name }
    }

    // --- connections ---

    /// Opens a connection (and StartTLS when configured), without binding.
    async fn connect(&self) -> Result<Ldap, LdapError> {
        let settings = &self.inner.settings;
        let conn_settings = LdapConnSettings::new()
            .set_conn_timeout(settings.op_timeout())
            .set_starttls(settings.starttls)
            .set_no_tls_verify(!settings.verify_cert);
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        let (conn, ldap) = LdapConnAsync::with_settings(conn_settings, &settings.url)
            .await
            .map_err(|e| self.connect_error(e))?;
        let url = settings.url.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(%url, error = %e, "LDAP connection ended");
            }
        });
        Ok(ldap)
    }

    /// Binds as the service account (or stays anonymous when no search DN is set).
    async fn bind_service(&self, ldap: &mut Ldap) -> Result<(), LdapError> {
        let settings = &self.inner.settings;
        if settings.search_dn.trim().is_empty() {
            return Ok(());
        }
        let failed = |reason: String| LdapError::ServiceBindFailed {
            dn: settings.search_dn.clone(),
            reason,
        };
        let password = match settings.search_password.get() {
            Ok(Some(password)) if !password.expose().is_empty() => password.expose(),
            Ok(_) => {
                return Err(failed(
                    "ldap_search_password is empty (that would be an unauthenticated bind, RFC 4513 §5.1.2)"
                        .to_owned(),
                ));
            }
            Err(_) => {
                return Err(failed(
                    "the stored ldap_search_password does not open with the current secret_key; set it again"
                        .to_owned(),
                ));
            }
        };
        let result = ldap
            .with_timeout(settings.op_timeout())
            .simple_bind(&settings.search_dn, password)
            .await;
        match result {
            Ok(r) if r.rc == 0 => Ok(()),
            Ok(r) if r.rc == 49 => Err(failed(format!("wrong DN or password ({})", describe(&r)))),
            Ok(r) => Err(failed(describe(&r))),
            Err(e) => Err(self.operation_error(e, "the bind as the search DN")),
        }
    }

    /// A service connection: an idle pooled one, or a new bound one. The flag tells whether it came from the pool.
    async fn service_connection(&self) -> Result<(Ldap, bool), LdapError> {
        loop {
            let pooled = lock(&self.inner.idle).pop();
            match pooled {
                Some(mut ldap) => {
                    if !ldap.is_closed() {
                        return Ok((ldap, true));
                    }
                }
                None => break,
            }
        }
        let mut ldap = self.connect().await?;
        self.bind_service(&mut ldap).await?;
        Ok((ldap, false))
    }

    /// Returns a healthy service connection to the pool (or drops it when the pool is full).
    fn release(&self, mut ldap: Ldap) {
        if ldap.is_closed() {
            return;
        }
        let mut idle = lock(&self.inner.idle);
        if idle.len() < POOL_IDLE_MAX {
            idle.push(ldap);
        }
    }

    /// Runs a search as the service account; a missing base DN is an error that says so.
    async fn search(&self, search: Search<'_>) -> Result<Vec<SearchEntry>, LdapError> {
        let (base, purpose) = (search.base.to_owned(), search.purpose.to_owned());
        self.search_existing(search).await?.ok_or_else(|| {
            LdapError::Protocol(format!(
                "{base:?} (searched for {purpose}) does not exist on the server (noSuchObject); check the base DN"
            ))
        })
    }

    /// Runs a search as the service account: `None` when the base DN does not exist. A pooled connection that
    /// turns out dead is dropped and the search retried once on a new one.
    async fn search_existing(
        &self,
        search: Search<'_>,
    ) -> Result<Option<Vec<SearchEntry>>, LdapError> {
        let settings = &self.inner.settings;
        let mut retried = false;
        loop {
            let (mut ldap, pooled) = self.service_connection().await?;
            self.inner.searches.fetch_add(1, Ordering::Relaxed);
            let result = ldap
                .with_timeout(settings.op_timeout())
                .with_search_options(SearchOptions::new().sizelimit(search.limit))
                .search(
                    search.base,
                    search.scope.to_ldap3(),
                    &search.filter,
                    search.attrs.clone(),
                )
                .await;
            let (entries, result) = match result {
                Ok(SearchResult(entries, result)) => (entries, result),
                Err(e) if pooled && !retried && is_transport_error(&e) => {
                    tracing::debug!(error = %e, "pooled LDAP connection is dead; reconnecting");
                    retried = true;
                    continue;
                }
                Err(e) => {
                    return Err(self.operation_error(
                        e,
                        &format!("the search for {} under {:?}", search.purpose, search.base),
                    ));
                }
            };
            self.release(ldap);
            if result.rc == 4 && search.limit == 0 {
                tracing::warn!(
                    base = search.base,
                    purpose = search.purpose,
                    "the LDAP server's size limit cut the search short; some entries are missing"
                );
            }
            return match result.rc {
                // 4: sizeLimitExceeded; the entries up to the limit are valid.
                0 | 4 => Ok(Some(
                    entries.into_iter().map(SearchEntry::construct).collect(),
                )),
                3 => Err(LdapError::Timeout {
                    url: settings.url.clone(),
                    operation: format!("the search for {}", search.purpose),
                    seconds: settings.timeout,
                }),
                32 => Ok(None),
                _ => Err(LdapError::Protocol(format!(
                    "the search for {} under {:?} with filter {} failed: {}",
                    search.purpose,
                    search.base,
                    search.filter,
                    describe(&result)
                ))),
            };
        }
    }

    fn connect_error(&self, error: ldap3::LdapError) -> LdapError {
        let settings = &self.inner.settings;
        let url = settings.url.clone();
        match error {
            ldap3::LdapError::Timeout { .. } => LdapError::Unreachable {
                url,
                reason: format!("no connection within {} s (ldap_timeout)", settings.timeout),
            },
            ldap3::LdapError::Io { source }
                if source.kind() == std::io::ErrorKind::InvalidData
                    && (settings.starttls
                        || settings.url.to_ascii_lowercase().starts_with("ldaps")) =>
            {
                LdapError::Tls {
                    url,
                    reason: tls_hint(&source.to_string(), settings.verify_cert),
                }
            }
            ldap3::LdapError::Io { source } => LdapError::Unreachable {
                url,
                reason: source.to_string(),
            },
            ldap3::LdapError::Rustls { source } => LdapError::Tls {
                url,
                reason: tls_hint(&source.to_string(), settings.verify_cert),
            },
            ldap3::LdapError::LdapResult { result } => LdapError::Tls {
                url,
                reason: format!("the server refused StartTLS: {}", describe(&result)),
            },
            e @ (ldap3::LdapError::UrlParsing { .. }
            | ldap3::LdapError::UnknownScheme(_)
            | ldap3::LdapError::DNSName { .. }) => {
                LdapError::InvalidSettings(format!("ldap_url {url:?}: {e}"))
            }
            e => LdapError::Unreachable {
                url,
                reason: e.to_string(),
            },
        }
    }

    fn operation_error(&self, error: ldap3::LdapError, operation: &str) -> LdapError {
        let settings = &self.inner.settings;
        match error {
            ldap3::LdapError::Timeout { .. } => LdapError::Timeout {
                url: settings.url.clone(),
                operation: operation.to_owned(),
                seconds: settings.timeout,
            },
            e if is_transport_error(&e) => LdapError::Unreachable {
                url: settings.url.clone(),
                reason: format!("the connection broke during {operation}: {e}"),
            },
            e => LdapError::Protocol(format!("{operation} failed: {e}")),
        }
    }
}

fn tls_hint(reason: &str, verify_cert: bool) -> String {
    if verify_cert && reason.contains("certificate") {
        format!(
            "{reason} (the certificate must be trusted by the system's CA store; ldap_verify_cert=false skips the check)"
        )
    } else {
        reason.to_owned()
    }
}

/// Errors that mean the connection itself is gone.
fn is_transport_error(error: &ldap3::LdapError) -> bool {
    matches!(
        error,
        ldap3::LdapError::Io { .. }
            | ldap3::LdapError::OpSend { .. }
            | ldap3::LdapError::ResultRecv { .. }
            | ldap3::LdapError::IdScrubSend { .. }
            | ldap3::LdapError::EndOfStream
    )
}

/// An LDAP result code, its name and the server's message.
fn describe(result: &LdapResult) -> String {
    result.to_string()
}

/// A filter value matching anything containing `text` (`*` alone for empty text), escaped per RFC 4515.
fn substring(text: &str) -> String {
    if text.is_empty() {
        "*".to_owned()
    } else {
        format!("*{}*", ldap_escape(text))
    }
}

/// An administrator's filter in parentheses (Harbor accepts `objectClass=person` too); `None` when empty.
fn normalize_filter(filter: &str) -> Option<String> {
    let filter = filter.trim();
    if filter.is_empty() {
        None
    } else if filter.starts_with('(') {
        Some(filter.to_owned())
    } else {
        Some(format!("({filter})"))
    }
}

/// `(&extra assertion)`, or just `assertion` when there is no extra filter.
fn and_filter(extra: &str, assertion: &str) -> String {
    match normalize_filter(extra) {
        Some(extra) => format!("(&{extra}{assertion})"),
        None => assertion.to_owned(),
    }
}

/// The filter that finds `username`: the administrator's filter and an escaped equality on the uid attribute.
fn user_filter(settings: &LdapSettings, username: &str) -> String {
    and_filter(
        &settings.filter,
        &format!("({}={})", settings.uid, ldap_escape(username)),
    )
}

fn is_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// All values of an attribute, found case-insensitively (servers answer with the schema's spelling).
fn values<'e>(entry: &'e SearchEntry, attribute: &str) -> &'e [String] {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

fn first_value(entry: &SearchEntry, attribute: &str) -> Option<String> {
    values(entry, attribute)
        .iter()
        .find(|v| !v.trim().is_empty())
        .cloned()
}

/// Splits a DN into its RDNs at unescaped commas, each as (attribute type, raw value), trimmed.
fn rdns(dn: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    let mut push = |part: &str| {
        if let Some((kind, value)) = split_unescaped(part, '=') {
            out.push((kind.trim().to_owned(), value.trim().to_owned()));
        } else if !part.trim().is_empty() {
            out.push((String::new(), part.trim().to_owned()));
        }
    };
    for c in dn.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' || c == ';' {
            push(&current);
            current.clear();
        } else {
            current.push(c);
        }
    }
    push(&current);
    out
}

fn split_unescaped(text: &str, separator: char) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            return Some((&text[..i], &text[i + c.len_utf8()..]));
        }
    }
    None
}

/// Normalizes a DN for comparison: RDNs trimmed, attribute types and values lower-cased, `\XX` hex escapes and
/// `\c` escapes unified. Directory DNs compare case-insensitively for the usual naming attributes (cn, ou, dc, uid).
pub fn normalize_dn(dn: &str) -> String {
    rdns(dn)
        .into_iter()
        .map(|(kind, value)| {
            let value = unescape_dn_value(&value).to_lowercase();
            format!("{}={}", kind.to_ascii_lowercase(), escape_for_key(&value))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Escapes only what keeps a normalized key unambiguous.
fn escape_for_key(value: &str) -> Cow<'_, str> {
    if value.contains([',', '=', '\\', '+', ';']) {
        Cow::Owned(
            value
                .chars()
                .flat_map(|c| {
                    let escape = matches!(c, ',' | '=' | '\\' | '+' | ';');
                    escape.then_some('\\').into_iter().chain(std::iter::once(c))
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(value)
    }
}

/// Removes RFC 4514 escaping from an attribute value (`\,` and `\2C` both become `,`).
fn unescape_dn_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
            } else {
                out.push(bytes[i + 1]);
                i += 2;
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first RDN's value if its type is `attribute` (so `cn=devs,ou=groups` gives `devs` for `cn`).
fn name_from_dn(dn: &str, attribute: &str) -> Option<String> {
    let (kind, value) = rdns(dn).into_iter().next()?;
    kind.eq_ignore_ascii_case(attribute)
        .then(|| unescape_dn_value(&value))
}

fn first_rdn_value(dn: &str) -> Option<String> {
    let (_, value) = rdns(dn).into_iter().next()?;
    Some(unescape_dn_value(&value))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LdapSettings {
        LdapSettings {
            url: "ldap://127.0.0.1:389".to_owned(),
            base_dn: "dc=example,dc=org".to_owned(),
            filter: "(objectClass=inetOrgPerson)".to_owned(),
            uid: "uid".to_owned(),
            ..LdapSettings::default()
        }
    }

    #[test]
    fn an_injected_username_stays_a_literal() {
        let filter = user_filter(&settings(), "*)(uid=*");
        assert_eq!(
            filter,
            r"(&(objectClass=inetOrgPerson)(uid=\2a\29\28uid=\2a))"
        );
        // Still one equality assertion on uid: the filter parses, and the value has no wildcard or parenthesis.
        assert!(ldap3::parse_filter(&filter).is_ok());
        let value = filter
            .trim_end_matches("))")
            .rsplit("(uid=")
            .next()
            .unwrap_or_default();
        assert!(!value.contains(['*', '(', ')']), "{value}");
        // NUL and backslash are escaped too.
        assert_eq!(
            user_filter(&settings(), "a\\b\0"),
            r"(&(objectClass=inetOrgPerson)(uid=a\5cb\00))"
        );
    }

    #[test]
    fn substring_searches_escape_the_term() {
        assert_eq!(substring(""), "*");
        assert_eq!(substring("a*)(b"), r"*a\2a\29\28b*");
    }

    #[test]
    fn filters_without_parentheses_are_wrapped() {
        assert_eq!(
            and_filter("objectClass=person", "(uid=a)"),
            "(&(objectClass=person)(uid=a))"
        );
        assert_eq!(and_filter("  ", "(uid=a)"), "(uid=a)");
    }

    #[test]
    fn dns_compare_case_and_space_insensitively() {
        assert_eq!(
            normalize_dn("CN=Admins, OU=Groups,dc=Example,DC=org"),
            normalize_dn("cn=admins,ou=groups,dc=example,dc=org")
        );
        assert_eq!(
            normalize_dn(r"cn=a\,b,dc=x"),
            normalize_dn(r"cn=a\2Cb,dc=x")
        );
        assert_ne!(
            normalize_dn(r"cn=a\,b,dc=x"),
            normalize_dn("cn=a,cn=b,dc=x")
        );
    }

    #[test]
    fn group_names_come_from_the_first_rdn() {
        assert_eq!(
            name_from_dn("cn=devs,ou=groups,dc=x", "CN").as_deref(),
            Some("devs")
        );
        assert_eq!(name_from_dn("ou=devs,dc=x", "cn"), None);
        assert_eq!(name_from_dn(r"cn=R\26D,dc=x", "cn").as_deref(), Some("R&D"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(settings().validate().is_ok());
        let bad = |f: fn(&mut LdapSettings)| {
            let mut s = settings();
            f(&mut s);
            s.validate().is_err()
        };
        assert!(bad(|s| s.url = "http://x".to_owned()));
        assert!(bad(|s| {
            s.url = "ldaps://x".to_owned();
            s.starttls = true;
        }));
        assert!(bad(|s| s.base_dn = String::new()));
        assert!(bad(|s| s.uid = "uid)(x".to_owned()));
        assert!(bad(|s| s.filter = "(&(a=b)".to_owned()));
        assert_eq!(LdapScope::from_harbor(2), Some(LdapScope::Subtree));
        assert_eq!(LdapScope::from_harbor(3), None);
    }

    #[test]
    fn the_cache_expires() {
        let cache = GroupCache::new(Duration::from_millis(50));
        let membership = GroupMembership {
            groups: vec![LdapGroup {
                dn: "cn=g,dc=x".to_owned(),
                name: "g".to_owned(),
            }],
            is_admin: false,
        };
        cache.insert("uid=A,dc=x", "A", membership.clone());
        assert_eq!(cache.get("UID=a, DC=x"), Some(membership.clone()));
        assert_eq!(cache.get_by_username("a").map(|(_, m)| m), Some(membership));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("uid=a,dc=x"), None);
        let off = GroupCache::new(Duration::ZERO);
        off.insert(
            "uid=a,dc=x",
            "a",
            GroupMembership {
                groups: vec![],
                is_admin: false,
            },
        );
        assert_eq!(off.get("uid=a,dc=x"), None);
    }

    #[test]
    fn errors_never_carry_the_password() {
        let e = LdapError::ServiceBindFailed {
            dn: "cn=admin".to_owned(),
            reason: "wrong DN or password".to_owned(),
        };
        let s = settings();
        assert!(!format!("{e} {s:?}").contains("hunter2"));
        let s = LdapSettings {
            search_password: crate::secret::Secret::new("hunter2").into(),
            ..settings()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
