//! Sign-in through a directory (`ldap_auth`): passwords are checked by the LDAP server, through one
//! [`LdapClient`] for the current settings; the user is created on first sign-in, and their groups and admin
//! rights are recorded at each one. The OpenID Provider's client (`oidc_auth`) is kept here too, discovered
//! again when the settings change or every [`OIDC_REDISCOVER`].
//!
//! A successful LDAP sign-in is remembered for `ldap_group_cache_seconds`, keyed by a hash of the name and
//! password. Within that time a `docker pull`'s token requests (and Basic-authenticated registry calls) make no
//! LDAP round trip, however many groups the user is in: project access comes from the groups recorded at
//! sign-in, resolved in SQL. Changed settings, or a user removed in Berth, end it at once.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use berth_api::usergroups::LDAP_GROUP;

use super::ldap::{LdapClient, LdapError, LdapSettings, LdapUser};
use super::oidc::{OidcClient, OidcError, OidcSettings};
use crate::db::{Db, NewUserGroup};
use crate::events::audit::clip;

/// Entries kept at most; the memory of recent sign-ins is cleared when it grows past this.
const RECENT_MAX: usize = 10_000;
/// How long a discovered OpenID Provider configuration (endpoints, signing keys) is used before it is fetched
/// again, so rotated keys are picked up.
pub const OIDC_REDISCOVER: Duration = Duration::from_secs(15 * 60);

/// The directory side of sign-in. One per server.
#[derive(Debug, Default)]
pub struct Directory {
    /// The client for the settings it was built with; rebuilt when they change.
    ldap: Mutex<Option<LdapClient>>,
    /// Recent LDAP sign-ins: credential hash → (user id, when).
    recent: DashMap<[u8; 32], (i64, Instant)>,
    /// The OIDC client, its redirect URL and when it was discovered.
    oidc: tokio::sync::Mutex<Option<(OidcClient, String, Instant)>>,
}

impl Directory {
    /// The LDAP client for `settings`: the current one while the settings are unchanged, else a new one (with
    /// an empty pool and group cache; recent sign-ins are forgotten).
    pub fn ldap(&self, settings: &LdapSettings) -> Result<LdapClient, LdapError> {
        let mut slot = self.ldap.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = slot.as_ref()
            && client.settings() == settings
        {
            return Ok(client.clone());
        }
        let client = LdapClient::new(settings.clone())?;
        tracing::info!(url = %settings.url, base_dn = %settings.base_dn, "LDAP settings loaded");
        *slot = Some(client.clone());
        self.recent.clear();
        Ok(client)
    }

    /// Checks `username` and `password` with the LDAP server (or the memory of a recent sign-in) and returns
    /// the Berth user's id, onboarding the user and recording their groups. `None` for wrong credentials or an
    /// unknown user; an error when the directory cannot answer.
    pub async fn ldap_sign_in(
        &self,
        db: &Db,
        settings: &LdapSettings,
        credential: [u8; 32],
        username: &str,
        password: &str,
    ) -> Result<Option<i64>, super::password::SignInError> {
        let client = self.ldap(settings)?;
        let ttl = Duration::from_secs(settings.group_cache_seconds);
        if let Some(entry) = self.recent.get(&credential)
            && entry.1.elapsed() < ttl
        {
            return Ok(Some(entry.0));
        }
        let user = match client.authenticate(username, password).await {
            Ok(user) => user,
            Err(e @ (LdapError::InvalidCredentials { .. } | LdapError::UnknownUser { .. })) => {
                tracing::info!(username = %clip(username), reason = %e, "LDAP sign-in failed");
                return Ok(None);
            }
            Err(e @ LdapError::Ambiguous { .. }) => {
                tracing::warn!(username = %clip(username), reason = %e, "LDAP sign-in refused");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let id = onboard_ldap_user(db, &user).await?;
        tracing::info!(
            username = %user.username,
            dn = %user.dn,
            groups = user.groups.len(),
            admin = user.is_admin,
            "LDAP sign-in"
        );
        if ttl > Duration::ZERO {
            if self.recent.len() >= RECENT_MAX {
                self.recent.clear();
            }
            self.recent.insert(credential, (id, Instant::now()));
        }
        Ok(Some(id))
    }

    /// The OIDC client for `settings` and `redirect_url`: the current one while they are unchanged and it is
    /// fresh, else a newly discovered one.
    pub async fn oidc(
        &self,
        settings: &OidcSettings,
        redirect_url: &str,
    ) -> Result<OidcClient, OidcError> {
        let mut slot = self.oidc.lock().await;
        if let Some((client, redirect, at)) = slot.as_ref()
            && client.settings() == settings
            && redirect == redirect_url
            && at.elapsed() < OIDC_REDISCOVER
        {
            return Ok(client.clone());
        }
        let client = OidcClient::discover(settings, redirect_url).await?;
        *slot = Some((client.clone(), redirect_url.to_owned(), Instant::now()));
        Ok(client)
    }

    /// The user a recent LDAP sign-in with this name and password (`credential`) found, while it is remembered
    /// under the current `settings`; asks nothing of the server.
    pub fn remembered(&self, settings: &LdapSettings, credential: &[u8; 32]) -> Option<i64> {
        let same_settings = self
            .ldap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|client| client.settings() == settings);
        let ttl = Duration::from_secs(settings.group_cache_seconds);
        let entry = self.recent.get(credential)?;
        (same_settings && entry.1.elapsed() < ttl).then_some(entry.0)
    }

    /// Forgets a remembered sign-in (its user no longer exists in Berth).
    pub fn forget(&self, credential: &[u8; 32]) {
        self.recent.remove(credential);
    }
}

/// Creates the Berth user for an LDAP user if missing (named as the directory spells the uid), and records
/// their groups (LDAP user groups, by DN, created on first sight) and whether the admin group holds them.
/// Returns the user's id.
pub async fn onboard_ldap_user(db: &Db, user: &LdapUser) -> Result<i64, sqlx::Error> {
    let id = db
        .onboard_external_user(
            &user.username,
            user.email.as_deref(),
            user.display_name.as_deref().unwrap_or(""),
        )
        .await?;
    let groups: Vec<NewUserGroup<'_>> = user
        .groups
        .iter()
        .map(|g| NewUserGroup {
            group_name: &g.name,
            group_type: LDAP_GROUP,
            ldap_group_dn: &g.dn,
        })
        .collect();
    db.sync_external_groups(id, LDAP_GROUP, &groups, user.is_admin)
        .await?;
    Ok(id)
}
