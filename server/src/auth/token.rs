//! Registry bearer tokens: ES256-signed JWTs in the format of Docker's token authentication.
//!
//! <https://distribution.github.io/distribution/spec/auth/jwt/>
//! The signing key is generated once and kept in the database. Verified tokens are cached until they
//! expire, so the pull path pays for the signature check once per token, not once per request.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::policy::Action;
use crate::db::Db;

const ISSUER: &str = "berth-token-service";
/// Verified tokens kept at most; the cache is cleared when it grows past this.
const CACHE_MAX: usize = 50_000;

/// One granted scope: `{"type":"repository","name":"library/app","actions":["pull"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

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
    /// Whether the token grants `action` on repository `name`.
    pub fn allows(&self, name: &str, action: Action) -> bool {
        self.access.iter().any(|g| {
            g.kind == "repository"
                && g.name == name
                && g.actions.iter().any(|a| a == action.as_str() || a == "*")
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
    verified: DashMap<String, Arc<Claims>>,
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
            verified: DashMap::new(),
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
        if let Some(claims) = self.verified.get(token) {
            if claims.exp > now_secs() {
                return Some(claims.clone());
            }
            drop(claims);
            self.verified.remove(token);
            return None;
        }
        let claims = match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Arc::new(data.claims),
            Err(e) => {
                tracing::debug!(error = %e, "bearer token refused");
                return None;
            }
        };
        if self.verified.len() >= CACHE_MAX {
            self.verified.clear();
        }
        self.verified.insert(token.to_owned(), claims.clone());
        Some(claims)
    }
}
