//! The audit log: push, pull, delete, create and change of projects, members, robots, repositories,
//! artifacts and tags, and sign-ins — who, what, when, and from which address.
//!
//! Rule: an entry is written only after the action succeeded, and a failure to write it is logged, never
//! returned to the caller. Pulls are not written here at all: they ride the batching pull queue
//! ([`crate::stats`]), which writes their entries with the pull counts, so a pull never waits for an insert.
//! Every other hook is one line in its handler: `Audit::new(..).project(..).by(..).record(&db).await`.
//!
//! Harbor's wire names: operations are `create`, `update`, `delete`, `pull`; Berth adds `login` and
//! `login_failed` (resource type `user`) for Basic sign-ins.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::auth::{Credentials, Subject};
use crate::db::{Db, NewAuditEntry};

/// What was done, as Harbor spells it in `AuditLog.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Pull,
    Login,
    LoginFailed,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Pull => "pull",
            Operation::Login => "login",
            Operation::LoginFailed => "login_failed",
        }
    }
}

/// The address a request came from: the first `X-Forwarded-For` entry when present (Berth behind a proxy),
/// else the TCP peer. Empty when neither is known (a router driven without a listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl ClientIp {
    /// Reads the address from a request's headers and its connection info.
    pub fn of(headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientIp {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        match (forwarded, peer) {
            (Some(first), _) => ClientIp(first.to_owned()),
            (None, Some(peer)) => ClientIp(peer.ip().to_string()),
            (None, None) => ClientIp::default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        Ok(ClientIp::of(&parts.headers, peer))
    }
}

/// One audit entry being put together.
#[derive(Debug, Clone)]
#[must_use = "an audit entry does nothing until recorded"]
pub struct Audit(NewAuditEntry);

impl Audit {
    /// `operation` on the resource of `resource_type` (`project`, `member`, `robot`, `repository`,
    /// `artifact`, `tag`, `blob`, `user`) named `resource`.
    pub fn new(
        operation: Operation,
        resource_type: &'static str,
        resource: impl Into<String>,
    ) -> Audit {
        Audit(NewAuditEntry {
            project: None,
            project_id: None,
            operation: operation.as_str(),
            resource_type,
            resource: resource.into(),
            username: String::new(),
            client_ip: String::new(),
            op_time: crate::db::timestamp(chrono::Utc::now()),
        })
    }

    /// The project the resource belongs to (shown in that project's log).
    pub fn project(mut self, name: &str) -> Audit {
        self.0.project = Some(name.to_owned());
        self
    }

    /// The project the resource belongs to, by id (`None`: no project, e.g. a system robot).
    pub fn project_id(mut self, id: Option<i64>) -> Audit {
        self.0.project_id = id;
        self
    }

    /// Who did it (a user or robot name; "" for anonymous) and from where.
    pub fn by(mut self, username: &str, client: &ClientIp) -> Audit {
        username.clone_into(&mut self.0.username);
        self.0.client_ip.clone_from(&client.0);
        self
    }

    /// [`Self::by`] for a subject.
    pub fn by_subject(self, subject: &Subject, client: &ClientIp) -> Audit {
        self.by(subject.name(), client)
    }

    /// The entry, for a batch writer.
    pub fn into_entry(self) -> NewAuditEntry {
        self.0
    }

    /// Writes the entry now; a failure is logged and otherwise ignored.
    pub async fn record(self, db: &Db) {
        if let Err(e) = db.record_audit(&self.0).await {
            tracing::error!(
                error = %e,
                operation = self.0.operation,
                resource = %self.0.resource,
                "writing an audit log entry failed"
            );
        }
    }
}

/// The entry of a sign-in attempt with Basic credentials by `username`.
pub fn sign_in(username: &str, succeeded: bool, client: &ClientIp) -> Audit {
    let operation = if succeeded {
        Operation::Login
    } else {
        Operation::LoginFailed
    };
    Audit::new(operation, "user", username).by(username, client)
}

/// Records a sign-in attempt when the request carried Basic credentials (a bearer token or no credentials
/// is not a sign-in).
pub async fn basic_sign_in(db: &Db, headers: &HeaderMap, succeeded: bool, client: &ClientIp) {
    if let Ok(Credentials::Basic { username, .. }) = Credentials::from_headers(headers) {
        sign_in(&username, succeeded, client).record(db).await;
    }
}

/// The entry of a manifest pull of `repository` by `reference` (`repo:tag` or `repo@digest`).
pub fn pull(repository: &str, reference: &str, username: &str, client_ip: &str) -> NewAuditEntry {
    let project = repository.split('/').next().unwrap_or(repository);
    Audit::new(Operation::Pull, "artifact", resource(repository, reference))
        .project(project)
        .by(username, &ClientIp(client_ip.to_owned()))
        .into_entry()
}

/// `repo:tag` for a tag, `repo@digest` for a digest.
pub fn resource(repository: &str, reference: &str) -> String {
    if reference.contains(':') {
        format!("{repository}@{reference}")
    } else {
        format!("{repository}:{reference}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_first_forwarded_address_wins_over_the_peer() {
        let peer: Option<SocketAddr> = "10.0.0.1:5000".parse().ok();
        let mut headers = HeaderMap::new();
        assert_eq!(ClientIp::of(&headers, peer).0, "10.0.0.1");
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static(" 203.0.113.7 , 10.0.0.2"),
        );
        assert_eq!(ClientIp::of(&headers, peer).0, "203.0.113.7");
        assert_eq!(ClientIp::of(&HeaderMap::new(), None).0, "");
    }

    #[test]
    fn resources_name_tags_with_a_colon_and_digests_with_an_at() {
        assert_eq!(resource("p/r", "v1"), "p/r:v1");
        assert_eq!(resource("p/r", "sha256:ab"), "p/r@sha256:ab");
    }
}
