//! The audit log: push, pull, delete, create and change of projects, members, robots, repositories,
//! artifacts and tags, and sign-ins — who, what, when, and from which address.
//!
//! Rule: an entry is written only after the action succeeded, and a failure to write it is logged, never
//! returned to the caller. Pulls are not written here at all: they ride the batching pull queue
//! ([`crate::stats`]), which writes their entries with the pull counts, so a pull never waits for an insert.
//! Every other hook is one line in its handler: `Audit::new(..).project(..).by(..).record(&db).await`.
//!
//! Harbor's wire names: operations are `create`, `update`, `delete`, `pull`; Berth adds `login` and
//! `login_failed` (resource type `user`) for Basic sign-ins, and `refused` (resource type `tag`) for a push or
//! delete that an immutable tag rule refused.
//!
//! Every text an entry holds is cut to a bounded length here ([`MAX_FIELD`]), whoever supplied it, and
//! [`clip`] does the same for log lines: a caller cannot fill the disk through the audit table or the log.

use std::convert::Infallible;
use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::auth::client_address::ClientAddress;
use crate::auth::{Credentials, Subject};
use crate::db::{Db, NewAuditEntry};

/// The most bytes of any caller-supplied text kept in an audit entry or shown in a log line: room for the
/// longest resource Berth names (a 255-byte repository with a digest or a 128-byte tag).
pub const MAX_FIELD: usize = 512;

/// `value` cut to at most [`MAX_FIELD`] bytes (at a character boundary).
pub fn truncate(value: &str) -> &str {
    if value.len() <= MAX_FIELD {
        return value;
    }
    let mut end = MAX_FIELD;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// `value`, cut as [`truncate`] cuts it, without copying it.
fn truncated(mut value: String) -> String {
    value.truncate(truncate(&value).len());
    value
}

/// A caller-supplied text for a log line: at most [`MAX_FIELD`] bytes of it, then how long it really was.
/// `tracing::info!(username = %clip(name), ...)`.
pub fn clip(value: &str) -> Clipped<'_> {
    Clipped(value)
}

/// See [`clip`].
#[derive(Clone, Copy)]
pub struct Clipped<'a>(&'a str);

impl fmt::Display for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = truncate(self.0);
        f.write_str(kept)?;
        if kept.len() < self.0.len() {
            write!(f, "…({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(truncate(self.0), f)?;
        if truncate(self.0).len() < self.0.len() {
            write!(f, "…({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// What was done, as Harbor spells it in `AuditLog.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Pull,
    Login,
    LoginFailed,
    /// A change refused by a policy (an immutable tag rule), recorded with who tried it.
    Refused,
}

impl Operation {
    /// Every operation, in the order the audit purge lists them.
    pub const ALL: [Operation; 7] = [
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Pull,
        Operation::Login,
        Operation::LoginFailed,
        Operation::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Pull => "pull",
            Operation::Login => "login",
            Operation::LoginFailed => "login_failed",
            Operation::Refused => "refused",
        }
    }
}

/// Every `(operation, resource type)` pair Berth records, in operation order: the event types of Harbor
/// 2.13's extended audit log (`GET /auditlog-exts/events`, each as `operation_resourcetype`). A new
/// [`Audit::new`] call site with a new pair adds it here.
pub const EVENT_TYPES: &[(Operation, &str)] = &[
    (Operation::Create, "artifact"),
    (Operation::Create, "artifact_label"),
    (Operation::Create, "export-cve"),
    (Operation::Create, "immutable_rule"),
    (Operation::Create, "job"),
    (Operation::Create, "label"),
    (Operation::Create, "member"),
    (Operation::Create, "project"),
    (Operation::Create, "registry"),
    (Operation::Create, "retention"),
    (Operation::Create, "robot"),
    (Operation::Create, "scanner"),
    (Operation::Create, "tag"),
    (Operation::Create, "user"),
    (Operation::Create, "webhook_policy"),
    (Operation::Update, "configuration"),
    (Operation::Update, "immutable_rule"),
    (Operation::Update, "job"),
    (Operation::Update, "job_queue"),
    (Operation::Update, "label"),
    (Operation::Update, "member"),
    (Operation::Update, "project"),
    (Operation::Update, "project_scanner"),
    (Operation::Update, "registry"),
    (Operation::Update, "repository"),
    (Operation::Update, "retention"),
    (Operation::Update, "robot"),
    (Operation::Update, "scanner"),
    (Operation::Update, "schedule"),
    (Operation::Update, "system_cve_allowlist"),
    (Operation::Update, "user"),
    (Operation::Update, "webhook_policy"),
    (Operation::Delete, "artifact"),
    (Operation::Delete, "artifact_label"),
    (Operation::Delete, "audit_log"),
    (Operation::Delete, "blob"),
    (Operation::Delete, "immutable_rule"),
    (Operation::Delete, "label"),
    (Operation::Delete, "member"),
    (Operation::Delete, "project"),
    (Operation::Delete, "registry"),
    (Operation::Delete, "repository"),
    (Operation::Delete, "retention"),
    (Operation::Delete, "robot"),
    (Operation::Delete, "scanner"),
    (Operation::Delete, "schedule"),
    (Operation::Delete, "tag"),
    (Operation::Delete, "user"),
    (Operation::Delete, "webhook_policy"),
    (Operation::Pull, "artifact"),
    (Operation::Login, "user"),
    (Operation::LoginFailed, "user"),
    (Operation::Refused, "tag"),
];

/// Whether an entry of `operation` records a success: false for a failed sign-in and a refused change.
pub fn succeeded(operation: &str) -> bool {
    operation != Operation::LoginFailed.as_str() && operation != Operation::Refused.as_str()
}

/// The address a request came from, as text: the TCP peer, or the client a trusted proxy names in
/// `X-Forwarded-For` (see [`crate::auth::client_address`]). Empty when unknown (a router driven without a
/// listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl From<ClientAddress> for ClientIp {
    fn from(address: ClientAddress) -> Self {
        ClientIp(address.0.map(|ip| ip.to_string()).unwrap_or_default())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress::of(&parts.extensions).into())
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
        Audit::at(operation, resource_type, resource, chrono::Utc::now())
    }

    /// [`Self::new`] for an action done at `time` (a pull is written a moment after it was served).
    pub fn at(
        operation: Operation,
        resource_type: &'static str,
        resource: impl Into<String>,
        time: chrono::DateTime<chrono::Utc>,
    ) -> Audit {
        Audit(NewAuditEntry {
            project: None,
            project_id: None,
            operation: operation.as_str(),
            resource_type,
            resource: truncated(resource.into()),
            username: String::new(),
            client_ip: String::new(),
            op_time: crate::db::timestamp(time),
        })
    }

    /// The project the resource belongs to (shown in that project's log).
    pub fn project(mut self, name: &str) -> Audit {
        self.0.project = Some(truncate(name).to_owned());
        self
    }

    /// The project the resource belongs to, by id (`None`: no project, e.g. a system robot).
    pub fn project_id(mut self, id: Option<i64>) -> Audit {
        self.0.project_id = id;
        self
    }

    /// Who did it (a user or robot name; "" for anonymous) and from where.
    pub fn by(mut self, username: &str, client: &ClientIp) -> Audit {
        truncate(username).clone_into(&mut self.0.username);
        truncate(&client.0).clone_into(&mut self.0.client_ip);
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

/// The entry of a manifest pull of `repository` by `reference` (`repo:tag` or `repo@digest`), by `username`
/// from `client_ip` at `time`. Every pull writes one, so the strings are moved in, not copied.
pub fn pull(
    repository: &str,
    reference: &str,
    username: String,
    client_ip: String,
    time: chrono::DateTime<chrono::Utc>,
) -> NewAuditEntry {
    let project = repository.split('/').next().unwrap_or(repository);
    let mut entry = Audit::at(
        Operation::Pull,
        "artifact",
        resource(repository, reference),
        time,
    )
    .project(project)
    .into_entry();
    entry.username = truncated(username);
    entry.client_ip = truncated(client_ip);
    entry
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

    #[test]
    fn entries_and_log_values_are_cut_to_a_bounded_length() {
        let long = "é".repeat(1000);
        let entry = sign_in(&long, false, &ClientIp(long.clone())).into_entry();
        for field in [&entry.resource, &entry.username, &entry.client_ip] {
            assert!(
                field.len() <= MAX_FIELD && field.len() >= MAX_FIELD - 1,
                "{}",
                field.len()
            );
        }
        let shown = clip(&long).to_string();
        assert!(shown.ends_with("…(2000 bytes)"), "{shown}");
        assert!(shown.len() < MAX_FIELD + 20);
        assert_eq!(clip("alice").to_string(), "alice");
        assert_eq!(format!("{:?}", clip("a\"b")), "\"a\\\"b\"");
    }

    #[test]
    fn resources_name_tags_with_a_colon_and_digests_with_an_at() {
        assert_eq!(resource("p/r", "v1"), "p/r:v1");
        assert_eq!(resource("p/r", "sha256:ab"), "p/r@sha256:ab");
    }
}
