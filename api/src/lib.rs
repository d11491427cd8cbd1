//! Wire types shared by the `berth` server and the admin console.
//!
//! Rule: serde only, no server dependencies, so this crate compiles to `wasm32-unknown-unknown`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod artifacts;
pub mod audit;
pub mod configurations;
pub mod immutable;
pub mod jobs;
pub mod labels;
pub mod ldap;
pub mod members;
pub mod oidc;
pub mod preheat;
pub mod projects;
pub mod quotas;
pub mod registries;
pub mod replication;
pub mod repositories;
pub mod retention;
pub mod robots;
pub mod scanners;
pub mod search;
pub mod security_hub;
pub mod statistics;
pub mod system;
pub mod usergroups;
pub mod users;
pub mod vulnerabilities;
pub mod webhooks;

/// The error envelope used by both the OCI `/v2` API and Harbor's REST API:
/// `{"errors":[{"code":"...","message":"..."}]}`.
///
/// OCI: <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes>
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub errors: Vec<ErrorItem>,
}

/// One error of an [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorItem {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl ErrorResponse {
    /// An envelope holding one error.
    pub fn single(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            errors: vec![ErrorItem {
                code: code.into(),
                message: message.into(),
                detail: None,
            }],
        }
    }
}

/// The body of a successful `/service/token` response (Docker token authentication).
///
/// <https://distribution.github.io/distribution/spec/auth/token/>
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub access_token: String,
    pub expires_in: u64,
    pub issued_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelope_omits_absent_detail() {
        let body =
            serde_json::to_string(&ErrorResponse::single("NAME_UNKNOWN", "no such repository"))
                .unwrap_or_default();
        assert_eq!(
            body,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}"#
        );
    }
}
