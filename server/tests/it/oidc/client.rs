//! `berth::auth::oidc::OidcClient` against a real OpenID Provider: the code flow with PKCE, claims and groups
//! from the ID token and userinfo, the admin group, the group filter, refusals (state, nonce, replayed code,
//! expired sign-in, wrong client secret), ping, and refresh tokens.

use berth::auth::oidc::{
    self, IdTokenCheck, OidcClient, OidcError, OidcErrorKind, OidcIdentity, OidcSettings,
    PendingLogin,
};
use berth::secret::{Secret, StoredSecret};
use reqwest::Url;

use super::provider::{OidcProvider, REDIRECT_URI};

async fn client(settings: &OidcSettings) -> OidcClient {
    OidcClient::discover(settings, REDIRECT_URI)
        .await
        .unwrap_or_else(|e| panic!("discover: {e}"))
}

/// A started sign-in, signed in at the provider as `login`: what the callback would receive.
struct Callback {
    pending: PendingLogin,
    code: String,
    state: String,
}

async fn sign_in(provider: &OidcProvider, client: &OidcClient, login: &str) -> Callback {
    let (url, pending) = client.authorize();
    let (code, state) = provider.sign_in(&url, login).await;
    Callback {
        pending,
        code,
        state,
    }
}

async fn identity(provider: &OidcProvider, settings: &OidcSettings, login: &str) -> OidcIdentity {
    let client = client(settings).await;
    let callback = sign_in(provider, &client, login).await;
    client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap_or_else(|e| panic!("finish for {login}: {e}"))
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn the_authorization_request_has_pkce_state_nonce_scopes_and_extra_parameters() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let mut settings = provider.settings();
    settings.scope = "openid, groups,offline_access".to_owned();
    settings.extra_redirect_parms = r#"{"prompt":"consent","ui_locales":"de"}"#.to_owned();
    let client = client(&settings).await;
    let (url, pending) = client.authorize();

    assert!(
        url.as_str()
            .starts_with(&format!("{}/auth?", provider.issuer())),
        "{url}"
    );
    assert_eq!(query(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query(&url, "client_id").as_deref(),
        Some(provider.client_id())
    );
    assert_eq!(query(&url, "redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(
        query(&url, "scope").as_deref(),
        Some("openid groups offline_access")
    );
    assert_eq!(
        query(&url, "state").as_deref(),
        Some(pending.state.as_str())
    );
    assert_eq!(
        query(&url, "nonce").as_deref(),
        Some(pending.nonce.expose())
    );
    assert_eq!(
        query(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query(&url, "code_challenge").is_some_and(|c| c.len() == 43));
    assert_eq!(query(&url, "prompt").as_deref(), Some("consent"));
    assert_eq!(query(&url, "ui_locales").as_deref(), Some("de"));
    assert!(pending.age_seconds().abs() <= 1);

    // The verifier never leaves Berth; each sign-in gets fresh values.
    assert!(!url.as_str().contains(pending.pkce_verifier.expose()));
    let (_, other) = client.authorize();
    assert_ne!(other.state, pending.state);
    assert_ne!(other.nonce, pending.nonce);
    assert_ne!(other.pkce_verifier, pending.pkce_verifier);

    // It survives the session store.
    let stored = serde_json::to_string(&pending).unwrap();
    assert_eq!(
        serde_json::from_str::<PendingLogin>(&stored).unwrap(),
        pending
    );

    // An empty scope setting asks for Harbor's defaults.
    settings.scope = String::new();
    let (url, _) = OidcClient::discover(&settings, REDIRECT_URI)
        .await
        .unwrap()
        .authorize();
    assert_eq!(
        query(&url, "scope").as_deref(),
        Some("openid profile email")
    );
}

#[tokio::test]
async fn alice_signs_in_with_claims_groups_and_the_admin_group() {
    let provider = OidcProvider::start(&[REDIRECT_URI, "http://127.0.0.1:9/other/callback"]);
    let settings = provider.settings();
    let client = client(&settings).await;
    assert_eq!(client.issuer(), provider.issuer());

    let alice = identity(&provider, &settings, "alice").await;
    assert_eq!(alice.issuer, provider.issuer());
    assert_eq!(alice.subject, "alice");
    assert_eq!(alice.username.as_deref(), Some("alice"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.display_name.as_deref(), Some("alice"));
    assert_eq!(alice.groups, ["developers", "berth-admins"]);
    assert!(alice.is_admin);
    // No offline_access asked for: no refresh token.
    assert!(alice.refresh_token.is_none());

    let bob = identity(&provider, &settings, "bob").await;
    assert_eq!(bob.subject, "bob");
    assert_eq!(bob.username.as_deref(), Some("bob"));
    assert_eq!(bob.groups, ["qa"]);
    assert!(!bob.is_admin);

    // No admin group configured: nobody is admin.
    let mut no_admin_group = settings.clone();
    no_admin_group.admin_group = String::new();
    assert!(!identity(&provider, &no_admin_group, "alice").await.is_admin);

    // No groups claim configured: no groups.
    let mut no_groups = settings.clone();
    no_groups.groups_claim = String::new();
    let alice = identity(&provider, &no_groups, "alice").await;
    assert!(alice.groups.is_empty());
    assert!(!alice.is_admin);
}

#[tokio::test]
async fn groups_come_from_the_id_token_and_userinfo_as_arrays_or_strings() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let settings = provider.settings();

    // carol's ID token says [shared, id-token-group], her userinfo [shared, userinfo-group].
    let carol = identity(&provider, &settings, "carol").await;
    assert_eq!(carol.groups, ["shared", "id-token-group", "userinfo-group"]);

    // dave's groups claim is the string "qa".
    let dave = identity(&provider, &settings, "dave").await;
    assert_eq!(dave.groups, ["qa"]);
}

#[tokio::test]
async fn the_group_filter_keeps_matching_groups_but_the_admin_check_sees_all() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let mut settings = provider.settings();

    settings.group_filter = "^berth-".to_owned();
    let alice = identity(&provider, &settings, "alice").await;
    assert_eq!(alice.groups, ["berth-admins"]);
    assert!(alice.is_admin);

    // As in Harbor, the admin group counts even when the filter drops it.
    settings.group_filter = "^dev".to_owned();
    let alice = identity(&provider, &settings, "alice").await;
    assert_eq!(alice.groups, ["developers"]);
    assert!(alice.is_admin);

    // Unanchored, like Harbor's regexp.MatchString.
    settings.group_filter = "elop".to_owned();
    assert_eq!(
        identity(&provider, &settings, "alice").await.groups,
        ["developers"]
    );

    // An invalid expression is a settings error, found before any request.
    settings.group_filter = "(berth".to_owned();
    let error = OidcClient::discover(&settings, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::InvalidSettings(_)), "{error:?}");
    assert_eq!(error.kind(), OidcErrorKind::Settings);
    assert!(error.to_string().contains("oidc_group_filter"), "{error}");
}

#[tokio::test]
async fn usernames_come_from_the_user_claim_or_name_then_preferred_username() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let mut settings = provider.settings();

    // No name or preferred_username: no username, so the user will choose one.
    let nameless = identity(&provider, &settings, "nameless").await;
    assert_eq!(nameless.subject, "nameless");
    assert_eq!(nameless.username, None);
    assert_eq!(nameless.display_name, None);
    assert_eq!(nameless.email.as_deref(), Some("nameless@example.org"));
    assert_eq!(nameless.groups, ["developers"]);

    // By default `name`, as in Harbor.
    let dave = identity(&provider, &settings, "dave").await;
    assert_eq!(dave.username.as_deref(), Some("Dave Davis"));
    assert_eq!(dave.display_name.as_deref(), Some("Dave Davis"));

    settings.user_claim = "preferred_username".to_owned();
    let dave = identity(&provider, &settings, "dave").await;
    assert_eq!(dave.username.as_deref(), Some("dave"));
    assert_eq!(dave.display_name.as_deref(), Some("Dave Davis"));

    settings.user_claim = "email".to_owned();
    let nameless = identity(&provider, &settings, "nameless").await;
    assert_eq!(nameless.username.as_deref(), Some("nameless@example.org"));

    // A configured claim the provider does not send: no username (no fallback to `name`).
    settings.user_claim = "employee_id".to_owned();
    assert_eq!(identity(&provider, &settings, "alice").await.username, None);
}

#[tokio::test]
async fn a_tampered_state_is_refused_without_redeeming_the_code() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let client = client(&provider.settings()).await;
    let callback = sign_in(&provider, &client, "alice").await;

    for state in [
        format!("{}x", callback.state),
        String::new(),
        "forged".to_owned(),
    ] {
        let error = client
            .finish(&callback.pending, &state, &callback.code)
            .await
            .unwrap_err();
        assert!(matches!(error, OidcError::StateMismatch), "{error:?}");
        assert!(error.is_user_error());
        assert_eq!(error.kind(), OidcErrorKind::Refused);
    }
    // The token endpoint was not asked: the code still works.
    let alice = client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap();
    assert_eq!(alice.subject, "alice");
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let client = client(&provider.settings()).await;
    let mut callback = sign_in(&provider, &client, "alice").await;

    // The provider's ID token carries the nonce of the authorization request, not this one.
    callback.pending.nonce = Secret::new("a-nonce-this-sign-in-never-sent");
    let error = client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            OidcError::IdTokenRejected {
                check: IdTokenCheck::Nonce,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_user_error());
    let message = error.to_string();
    assert!(
        message.contains("nonce") && message.contains(provider.issuer()),
        "{message}"
    );
    assert!(
        !message.contains("a-nonce-this-sign-in-never-sent"),
        "{message}"
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let client = client(&provider.settings()).await;
    let callback = sign_in(&provider, &client, "bob").await;

    client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap();
    let error = client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            OidcError::GrantRefused {
                grant: "authorization code",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_user_error());
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert!(!error.to_string().contains(&callback.code), "{error}");

    // A code made up by the caller is refused the same way.
    let fresh = sign_in(&provider, &client, "bob").await;
    let error = client
        .finish(&fresh.pending, &fresh.state, "made-up-code")
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::GrantRefused { .. }), "{error:?}");
}

#[tokio::test]
async fn a_sign_in_older_than_ten_minutes_is_refused() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let client = client(&provider.settings()).await;
    let mut callback = sign_in(&provider, &client, "alice").await;

    let started = callback.pending.created_at;
    callback.pending.created_at = started - 11 * 60;
    let error = client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::LoginExpired { .. }), "{error:?}");
    assert!(error.is_user_error());

    // Nine minutes is still fine (and the refusal above did not spend the code).
    callback.pending.created_at = started - 9 * 60;
    client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_or_unreadable_client_secret_is_a_settings_error() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let mut settings = provider.settings();
    settings.client_secret = StoredSecret::Set(Secret::new("not-the-secret"));
    let client = client(&settings).await;
    let callback = sign_in(&provider, &client, "alice").await;

    let error = client
        .finish(&callback.pending, &callback.state, &callback.code)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::ClientRejected { .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), OidcErrorKind::Settings);
    let message = error.to_string();
    assert!(
        message.contains(provider.issuer())
            && message.contains("oidc_client_secret")
            && message.contains("invalid_client"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"), "{message}");

    for (secret, expected) in [
        (StoredSecret::Unreadable, "cannot be decrypted"),
        (StoredSecret::Unset, "not set"),
    ] {
        settings.client_secret = secret;
        let error = OidcClient::discover(&settings, REDIRECT_URI)
            .await
            .unwrap_err();
        assert!(matches!(error, OidcError::InvalidSettings(_)), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[tokio::test]
async fn settings_errors_are_found_at_discovery() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let settings = provider.settings();

    let error = OidcClient::discover(&OidcSettings::default(), REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::NotConfigured), "{error:?}");

    let mut no_openid = settings.clone();
    no_openid.scope = "profile,email".to_owned();
    let mut bad_extra = settings.clone();
    bad_extra.extra_redirect_parms = r#"{"state":"fixed"}"#.to_owned();
    let mut not_json = settings.clone();
    not_json.extra_redirect_parms = "prompt=consent".to_owned();
    for (settings, expected) in [
        (no_openid, "oidc_scope"),
        (bad_extra, "oidc_extra_redirect_parms"),
        (not_json, "oidc_extra_redirect_parms"),
    ] {
        let error = OidcClient::discover(&settings, REDIRECT_URI)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), OidcErrorKind::Settings, "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }

    // A trailing slash on the issuer is fine.
    let mut slash = settings.clone();
    slash.endpoint = format!("{}/", provider.issuer());
    assert_eq!(client(&slash).await.issuer(), provider.issuer());

    // Another name for the same server is not the issuer.
    let mut alias = settings.clone();
    alias.endpoint = provider.issuer().replace("127.0.0.1", "localhost");
    let error = OidcClient::discover(&alias, REDIRECT_URI)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::IssuerMismatch { .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), OidcErrorKind::Settings);
}

#[tokio::test]
async fn ping_checks_discovery_and_the_issuer() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);

    oidc::ping(provider.issuer(), true).await.unwrap();
    oidc::ping(&format!("{}/", provider.issuer()), true)
        .await
        .unwrap();

    // Not an issuer: no discovery document there.
    let error = oidc::ping(&format!("{}/not-an-issuer", provider.issuer()), true)
        .await
        .unwrap_err();
    assert!(matches!(error, OidcError::BadProvider { .. }), "{error:?}");
    assert_eq!(error.kind(), OidcErrorKind::Provider);
    assert!(error.to_string().contains("404"), "{error}");

    // The provider's own issuer must be the URL.
    let error = oidc::ping(&provider.issuer().replace("127.0.0.1", "localhost"), true)
        .await
        .unwrap_err();
    assert!(
        matches!(error, OidcError::IssuerMismatch { .. }),
        "{error:?}"
    );

    // Nothing listening.
    let closed = format!("http://127.0.0.1:{}", crate::support::free_port());
    let error = oidc::ping(&closed, true).await.unwrap_err();
    assert!(matches!(error, OidcError::Unreachable { .. }), "{error:?}");
    assert_eq!(error.kind(), OidcErrorKind::Unavailable);
    assert!(error.to_string().contains(&closed), "{error}");

    // Not a URL at all.
    let error = oidc::ping("ftp://example.org", true).await.unwrap_err();
    assert_eq!(error.kind(), OidcErrorKind::Settings, "{error:?}");
}

#[tokio::test]
async fn refresh_tokens_revalidate_the_session_with_offline_access() {
    let provider = OidcProvider::start(&[REDIRECT_URI]);
    let mut settings = provider.settings();
    settings.scope = "openid,profile,email,groups,offline_access".to_owned();
    // OIDC Core §11: offline_access only counts with prompt=consent.
    settings.extra_redirect_parms = r#"{"prompt":"consent"}"#.to_owned();
    let client = client(&settings).await;

    let alice = identity(&provider, &settings, "alice").await;
    let refresh_token = alice.refresh_token.clone().unwrap();
    assert_eq!(format!("{refresh_token:?}"), "[redacted]");
    assert!(!format!("{alice:?}").contains(refresh_token.expose()));

    let rotated = client.refresh(&refresh_token).await.unwrap();
    // The provider may rotate it; either way the current token works again.
    let current = rotated.unwrap_or(refresh_token);
    client.refresh(&current).await.unwrap();

    let error = client.refresh(&Secret::new("garbage")).await.unwrap_err();
    assert!(
        matches!(
            error,
            OidcError::GrantRefused {
                grant: "refresh token",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_user_error());
    assert!(!error.to_string().contains("garbage"), "{error}");
}
