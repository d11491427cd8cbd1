//! Registry bearer tokens: ES256-signed JWTs in the format of Docker's token authentication.
//!
//! <https://distribution.github.io/distribution/spec/auth/jwt/>
//! The signing key is generated once and kept in the database. Verified tokens are cached until they
//! expire, so the pull path pays for the signature check once per token, not once per request. The cache is
//! keyed by the token's SHA-256 and bounded by the bytes its claims take ([`CACHE_BYTES`]), so whoever sends
//! tokens cannot grow it beyond that.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::policy::Action;
use crate::db::Db;

const ISSUER: &str = "berth-token-service";
/// The most bytes the claims of cached verified tokens may take (an estimate: their strings and the fixed
/// part of each entry); the cache is cleared when it would grow past this.
pub const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// One granted scope: `{"type":"repository","name":"library/app","actions":["pull"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// The action Berth adds to the pull grant it hands an external scanner adapter (Harbor's `scanner-pull`).
/// The token service never grants it: only a token Berth issues itself for a remote scan holds it.
pub const SCANNER_PULL: &str = "scanner-pull";

/// The claims of a registry token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: String,
    #[serde(default)]
    pub access: Vec<Grant>,
}

impl Claims {
    /// About how many bytes these claims take in memory.
    fn weight(&self) -> usize {
        let strings = self.iss.len() + self.sub.len() + self.aud.len() + self.jti.len();
        let grants: usize = self
            .access
            .iter()
            .map(|g| {
                std::mem::size_of::<Grant>()
                    + g.kind.len()
                    + g.name.len()
                    + g.actions
                        .iter()
                        .map(|a| a.len() + std::mem::size_of::<String>())
                        .sum::<usize>()
            })
            .sum();
        std::mem::size_of::<Claims>() + strings + grants
    }

    /// Whether the token grants `action` on repository `name`.
    pub fn allows(&self, name: &str, action: Action) -> bool {
        self.access.iter().any(|g| {
            g.kind == "repository"
                && g.name == name
                && g.actions.iter().any(|a| a == action.as_str() || a == "*")
        })
    }

    /// Whether the token is a scanner's pull of repository `name` (Harbor's `scanner-pull`): the project's
    /// vulnerability policy does not refuse it, since the scan it serves is what the policy waits for.
    pub fn allows_scanner_pull(&self, name: &str) -> bool {
        self.access.iter().any(|g| {
            g.kind == "repository" && g.name == name && g.actions.iter().any(|a| a == SCANNER_PULL)
        })
    }

    /// Whether the token grants listing the catalog.
    pub fn allows_catalog(&self) -> bool {
        self.access.iter().any(|g| {
            g.kind == "registry" && g.name == "catalog" && g.actions.iter().any(|a| a == "*")
        })
    }
}

/// A signed token and its lifetime.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub issued_at: SystemTime,
    pub expires_in: Duration,
}

/// Issues and verifies tokens.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    service: String,
    lifetime: Duration,
    validation: Validation,
    verified: VerifiedTokens,
}

/// Verified tokens by the SHA-256 of the token, bounded by bytes.
#[derive(Debug)]
struct VerifiedTokens {
    entries: DashMap<[u8; 32], Arc<Claims>>,
    bytes: AtomicUsize,
    max_bytes: usize,
}

/// What one cache entry costs beyond its claims: the key, the `Arc` and the map's own slot.
const ENTRY_OVERHEAD: usize = 32 + 2 * std::mem::size_of::<usize>() + 64;

impl VerifiedTokens {
    fn new(max_bytes: usize) -> VerifiedTokens {
        VerifiedTokens {
            entries: DashMap::new(),
            bytes: AtomicUsize::new(0),
            max_bytes,
        }
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<Arc<Claims>> {
        self.entries.get(key).map(|claims| claims.clone())
    }

    fn insert(&self, key: [u8; 32], claims: Arc<Claims>) {
        let weight = claims.weight() + ENTRY_OVERHEAD;
        if weight > self.max_bytes {
            return;
        }
        if self.bytes.load(Ordering::Acquire) + weight > self.max_bytes {
            self.entries.clear();
            self.bytes.store(0, Ordering::Release);
        }
        if let Some(old) = self.entries.insert(key, claims) {
            self.bytes
                .fetch_sub(old.weight() + ENTRY_OVERHEAD, Ordering::AcqRel);
        }
        self.bytes.fetch_add(weight, Ordering::AcqRel);
    }

    fn remove(&self, key: &[u8; 32]) {
        if let Some((_, old)) = self.entries.remove(key) {
            let weight = old.weight() + ENTRY_OVERHEAD;
            let _ = self
                .bytes
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                    Some(b.saturating_sub(weight))
                });
        }
    }

    fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("kid", &self.kid)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Start-up failures of the token service.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("signing key: {0}")]
    Key(String),
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TokenService {
    /// Loads the signing key from the database, generating and storing one on first start.
    pub async fn load_or_create(
        db: &Db,
        service: &str,
        lifetime: Duration,
    ) -> Result<TokenService, KeyError> {
        let (_id, pem) = match db.signing_key().await? {
            Some(key) => key,
            None => {
                let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
                let pem = secret
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| KeyError::Key(e.to_string()))?;
                let kid = uuid::Uuid::new_v4().to_string();
                db.insert_signing_key(&kid, "ES256", &pem).await?
            }
        };
        let secret =
            p256::SecretKey::from_pkcs8_pem(&pem).map_err(|e| KeyError::Key(e.to_string()))?;
        let public_pem = secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Key(e.to_string()))?;
        let encoding =
            EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| KeyError::Key(e.to_string()))?;
        let decoding = DecodingKey::from_ec_pem(public_pem.as_bytes())
            .map_err(|e| KeyError::Key(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[service]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 30;
        // Key ids shown to clients are a fingerprint of the public key, not the database id.
        let fingerprint = hex::encode(&Sha256::digest(public_pem.as_bytes())[..8]);
        Ok(TokenService {
            encoding,
            decoding,
            kid: fingerprint,
            service: service.to_owned(),
            lifetime,
            validation,
            verified: VerifiedTokens::new(CACHE_BYTES),
        })
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Signs a token for `subject` (empty for anonymous) with `access`, valid for the start-up lifetime.
    pub fn issue(
        &self,
        subject: &str,
        access: Vec<Grant>,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        self.issue_for(subject, access, self.lifetime)
    }

    /// Signs a token for `subject` (empty for anonymous) with `access`, valid for `lifetime` (the current
    /// `token_expiration` of the system configuration).
    pub fn issue_for(
        &self,
        subject: &str,
        access: Vec<Grant>,
        lifetime: Duration,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let now = now_secs();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: subject.to_owned(),
            aud: self.service.clone(),
            exp: now + lifetime.as_secs(),
            nbf: now.saturating_sub(1),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access,
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            issued_at: UNIX_EPOCH + Duration::from_secs(now),
            expires_in: lifetime,
        })
    }

    /// The claims of `token` if it is one of ours, unexpired and for this service.
    pub fn verify(&self, token: &str) -> Option<Arc<Claims>> {
        let key = VerifiedTokens::key(token);
        if let Some(claims) = self.verified.get(&key) {
            if claims.exp > now_secs() {
                return Some(claims);
            }
            self.verified.remove(&key);
            return None;
        }
        let claims = match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Arc::new(data.claims),
            Err(e) => {
                tracing::debug!(error = %e, "bearer token refused");
                return None;
            }
        };
        self.verified.insert(key, claims.clone());
        Some(claims)
    }

    /// About how many bytes the cache of verified tokens holds now (at most [`CACHE_BYTES`]).
    pub fn cache_bytes(&self) -> usize {
        self.verified.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(n: usize, repositories: usize) -> Arc<Claims> {
        Arc::new(Claims {
            iss: ISSUER.to_owned(),
            sub: format!("user{n}"),
            aud: "berth-registry".to_owned(),
            exp: u64::MAX,
            nbf: 0,
            iat: 0,
            jti: uuid::Uuid::new_v4().to_string(),
            access: (0..repositories)
                .map(|r| Grant {
                    kind: "repository".to_owned(),
                    name: format!("project/repository-{r}"),
                    actions: vec!["pull".to_owned(), "push".to_owned()],
                })
                .collect(),
        })
    }

    #[test]
    fn the_verified_cache_is_bounded_by_bytes() {
        let one = claims(0, 20).weight() + ENTRY_OVERHEAD;
        let cache = VerifiedTokens::new(one * 10);
        for n in 0..300 {
            cache.insert(VerifiedTokens::key(&format!("token {n}")), claims(n, 20));
            assert!(cache.bytes() <= one * 10, "{} after {n}", cache.bytes());
            let counted: usize = cache
                .entries
                .iter()
                .map(|e| e.value().weight() + ENTRY_OVERHEAD)
                .sum();
            assert_eq!(counted, cache.bytes());
        }
        assert!(cache.entries.len() <= 10);
        let key = VerifiedTokens::key("token 299");
        assert!(cache.get(&key).is_some(), "the newest entry is kept");
        cache.remove(&key);
        assert!(cache.get(&key).is_none());
    }
}
