//! The authorization matrix: every REST endpoint and every `/v2` operation, run by every kind of caller on a
//! private and on a public project, against one table of who may do what.
//!
//! The table states Harbor's role matrix (`docs/reference/harbor-rbac.md`) independently of the code.
//! An endpoint in `berth::api::ENDPOINTS` without a row here fails the test.

use std::collections::BTreeSet;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::ldap::slapd::{Slapd, ldap_configuration};
use crate::oidc::provider::OidcProvider;
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client, sha256};

/// The issuer of the OpenID Provider the matrix starts, for `POST /system/oidc/ping`.
static OIDC_ISSUER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    /// Signed in, no role in the project.
    Outsider,
    /// Project admin of another project only.
    OtherMember,
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    /// A robot of the project holding the row's permissions.
    RobotIn,
    /// A robot of the project holding something else.
    RobotOut,
}
use Who::*;

const EVERYONE: [Who; 11] = [
    Anonymous,
    Outsider,
    OtherMember,
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    RobotIn,
    RobotOut,
];
const MEMBERS: &[Who] = &[
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    RobotIn,
];
const NO_LIMITED: &[Who] = &[
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    RobotIn,
];
const WRITERS: &[Who] = &[Developer, Maintainer, ProjectAdmin, SysAdmin, RobotIn];
const DELETERS: &[Who] = &[Maintainer, ProjectAdmin, SysAdmin, RobotIn];
const ADMINS: &[Who] = &[ProjectAdmin, SysAdmin, RobotIn];
const PROJECT_ADMINS_ONLY: &[Who] = &[ProjectAdmin, SysAdmin];
const SYSADMIN: &[Who] = &[SysAdmin];
/// Tag retention: project admins and maintainers (Harbor's role matrix).
const RETENTION: &[Who] = &[Maintainer, ProjectAdmin, SysAdmin];
const USERS: &[Who] = &[
    Outsider,
    OtherMember,
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
];
const SIGNED_IN: &[Who] = &[
    Outsider,
    OtherMember,
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    RobotIn,
    RobotOut,
];
const SEES_PROJECT: &[Who] = &[
    LimitedGuest,
    Guest,
    Developer,
    Maintainer,
    ProjectAdmin,
    SysAdmin,
    RobotIn,
    RobotOut,
];

/// One operation: who may perform it on a private project, whether everyone may on a public one, and the
/// permissions `RobotIn` holds (`RobotOut` holds something unrelated).
struct Row {
    method: &'static str,
    route: &'static str,
    private: &'static [Who],
    public_read: bool,
    robot: &'static [(&'static str, &'static str)],
}

const fn row(
    method: &'static str,
    route: &'static str,
    private: &'static [Who],
    public_read: bool,
    robot: &'static [(&'static str, &'static str)],
) -> Row {
    Row {
        method,
        route,
        private,
        public_read,
        robot,
    }
}

const PULL: &[(&str, &str)] = &[("repository", "pull")];
const PUSH: &[(&str, &str)] = &[("repository", "pull"), ("repository", "push")];
const DELETE: &[(&str, &str)] = &[("repository", "pull"), ("artifact", "delete")];

const TABLE: &[Row] = &[
    // System endpoints: open to all, or to system admins.
    row("get", "/ping", &EVERYONE, true, &[]),
    row("get", "/health", &EVERYONE, true, &[]),
    row("get", "/systeminfo", &EVERYONE, true, &[]),
    // The data volume's size: system admins (and system robots given `system-volumes:read`: `api::system`).
    row("get", "/systeminfo/volumes", SYSADMIN, false, &[]),
    // No root CA to download: everyone gets the same 404, which the matrix counts as a refusal.
    row("get", "/systeminfo/getcert", &[], false, &[]),
    // Built-in artifact icons, as in Harbor: no sign-in.
    row("get", "/icons/{digest}", &EVERYONE, true, &[]),
    row("get", "/projects", &EVERYONE, true, &[]),
    row("post", "/projects", USERS, false, &[]),
    row("get", "/repositories", &EVERYONE, true, &[]),
    row("get", "/quotas", SYSADMIN, false, &[]),
    row("get", "/robots", SYSADMIN, false, &[]),
    row("get", "/users", SYSADMIN, false, &[]),
    row("get", "/audit-logs", SYSADMIN, false, &[]),
    // P2P preheat: a system permission (`preheat-instance`). With no provider, creating is a 400 past
    // authorization.
    row("get", "/p2p/preheat/providers", SYSADMIN, false, &[]),
    row("get", "/p2p/preheat/instances", SYSADMIN, false, &[]),
    row("post", "/p2p/preheat/instances", SYSADMIN, false, &[]),
    // Harbor 2.13's extended audit log: as `/audit-logs` (its project list as `/projects/{p}/logs`, below).
    row("get", "/auditlog-exts", SYSADMIN, false, &[]),
    row("get", "/auditlog-exts/events", SYSADMIN, false, &[]),
    // The system configuration: system admins only.
    row("get", "/configurations", SYSADMIN, false, &[]),
    row("put", "/configurations", SYSADMIN, false, &[]),
    row("post", "/ldap/ping", SYSADMIN, false, &[]),
    row("get", "/ldap/users/search", SYSADMIN, false, &[]),
    row("post", "/ldap/users/import", SYSADMIN, false, &[]),
    row("get", "/ldap/groups/search", SYSADMIN, false, &[]),
    row("post", "/system/oidc/ping", SYSADMIN, false, &[]),
    // The job service and the audit-log purge (Clean Up → Log Rotation): system admins only (and system
    // robots given `jobservice-monitor` or `purge-audit`, which `api::purgeaudit` covers).
    row("get", "/system/purgeaudit", SYSADMIN, false, &[]),
    row("get", "/system/purgeaudit/schedule", SYSADMIN, false, &[]),
    row("post", "/system/purgeaudit/schedule", SYSADMIN, false, &[]),
    row("put", "/system/purgeaudit/schedule", SYSADMIN, false, &[]),
    row("get", "/system/purgeaudit/{purge_id}", SYSADMIN, false, &[]),
    row("put", "/system/purgeaudit/{purge_id}", SYSADMIN, false, &[]),
    row(
        "get",
        "/system/purgeaudit/{purge_id}/log",
        SYSADMIN,
        false,
        &[],
    ),
    row("get", "/jobservice/pools", SYSADMIN, false, &[]),
    row(
        "get",
        "/jobservice/pools/{pool_id}/workers",
        SYSADMIN,
        false,
        &[],
    ),
    row("put", "/jobservice/jobs/{job_id}", SYSADMIN, false, &[]),
    row("get", "/jobservice/jobs/{job_id}/log", SYSADMIN, false, &[]),
    row("get", "/jobservice/queues", SYSADMIN, false, &[]),
    row("put", "/jobservice/queues/{job_type}", SYSADMIN, false, &[]),
    row("get", "/schedules", SYSADMIN, false, &[]),
    row("get", "/schedules/{job_type}/paused", SYSADMIN, false, &[]),
    // Garbage collection (Clean Up → Garbage Collection): system admins only (system robots given
    // `garbage-collection`: `api::gc`).
    row("get", "/system/gc", SYSADMIN, false, &[]),
    row("get", "/system/gc/schedule", SYSADMIN, false, &[]),
    row("post", "/system/gc/schedule", SYSADMIN, false, &[]),
    row("put", "/system/gc/schedule", SYSADMIN, false, &[]),
    row("get", "/system/gc/{gc_id}", SYSADMIN, false, &[]),
    row("put", "/system/gc/{gc_id}", SYSADMIN, false, &[]),
    row("get", "/system/gc/{gc_id}/log", SYSADMIN, false, &[]),
    // Tag retention: the templates for anyone signed in, a project's policy and its runs for its admins and
    // maintainers.
    row("get", "/retentions/metadatas", SIGNED_IN, false, &[]),
    row("post", "/retentions", RETENTION, false, &[]),
    row("get", "/retentions/{id}", RETENTION, false, &[]),
    row("put", "/retentions/{id}", RETENTION, false, &[]),
    row("delete", "/retentions/{id}", RETENTION, false, &[]),
    row("post", "/retentions/{id}/executions", RETENTION, false, &[]),
    row("get", "/retentions/{id}/executions", RETENTION, false, &[]),
    row(
        "patch",
        "/retentions/{id}/executions/{eid}",
        RETENTION,
        false,
        &[],
    ),
    row(
        "get",
        "/retentions/{id}/executions/{eid}/tasks",
        RETENTION,
        false,
        &[],
    ),
    row(
        "get",
        "/retentions/{id}/executions/{eid}/tasks/{tid}",
        RETENTION,
        false,
        &[],
    ),
    row(
        "get",
        "/retentions/{id}/executions/{eid}/tasks/{tid}/reasons",
        RETENTION,
        false,
        &[],
    ),
    row("get", "/statistics", SIGNED_IN, false, &[]),
    row("get", "/search", &EVERYONE, true, &[]),
    row(
        "get",
        "/projects/{project_name}/logs",
        ADMINS,
        false,
        &[("log", "list")],
    ),
    // Preheat policies: project admins (Harbor's `preheat-policy`); a robot sees the project through `pull`.
    row(
        "get",
        "/projects/{project_name}/preheat/policies",
        ADMINS,
        false,
        &[("repository", "pull"), ("preheat-policy", "list")],
    ),
    row(
        "post",
        "/projects/{project_name}/preheat/policies",
        ADMINS,
        false,
        &[("repository", "pull"), ("preheat-policy", "create")],
    ),
    row(
        "get",
        "/projects/{project_name}/auditlog-exts",
        ADMINS,
        false,
        &[("log", "list")],
    ),
    row("post", "/users", SYSADMIN, false, &[]),
    row("get", "/users/current", USERS, false, &[]),
    row("get", "/users/search", USERS, false, &[]),
    // GET /users/{id} targets the project admin's own id.
    row(
        "get",
        "/users/{user_id}",
        &[ProjectAdmin, SysAdmin],
        false,
        &[],
    ),
    row("get", "/users/current/permissions", SIGNED_IN, false, &[]),
    // The permissions a robot may be given: system admins, and users who are project admin somewhere — which
    // every user of the matrix is by now, having created a project in the `POST /projects` row (a developer's
    // 403 is in `api::robots`).
    row("get", "/permissions", USERS, false, &[]),
    // PUT /users/{id} targets the project admin's own profile; the others a user made for the row.
    row(
        "put",
        "/users/{user_id}",
        &[ProjectAdmin, SysAdmin],
        false,
        &[],
    ),
    row("delete", "/users/{user_id}", SYSADMIN, false, &[]),
    row("put", "/users/{user_id}/password", SYSADMIN, false, &[]),
    row("put", "/users/{user_id}/sysadmin", SYSADMIN, false, &[]),
    row("put", "/users/{user_id}/cli_secret", SYSADMIN, false, &[]),
    // User groups: managed by system admins, searched by anyone signed in.
    row("get", "/usergroups", SYSADMIN, false, &[]),
    row("post", "/usergroups", SYSADMIN, false, &[]),
    row("get", "/usergroups/search", SIGNED_IN, false, &[]),
    row("get", "/usergroups/{group_id}", SYSADMIN, false, &[]),
    row("put", "/usergroups/{group_id}", SYSADMIN, false, &[]),
    row("delete", "/usergroups/{group_id}", SYSADMIN, false, &[]),
    // Registry endpoints: a system resource, for system admins only.
    row("get", "/registries", SYSADMIN, false, &[]),
    row("post", "/registries", SYSADMIN, false, &[]),
    row("post", "/registries/ping", SYSADMIN, false, &[]),
    row("get", "/registries/{id}", SYSADMIN, false, &[]),
    row("put", "/registries/{id}", SYSADMIN, false, &[]),
    row("delete", "/registries/{id}", SYSADMIN, false, &[]),
    row("get", "/registries/{id}/info", SYSADMIN, false, &[]),
    row("get", "/replication/adapters", SYSADMIN, false, &[]),
    row("get", "/replication/adapterinfos", SYSADMIN, false, &[]),
    row("get", "/replication/policies", SYSADMIN, false, &[]),
    row("post", "/replication/policies", SYSADMIN, false, &[]),
    row("get", "/replication/policies/{id}", SYSADMIN, false, &[]),
    row("put", "/replication/policies/{id}", SYSADMIN, false, &[]),
    row("delete", "/replication/policies/{id}", SYSADMIN, false, &[]),
    row("get", "/replication/executions", SYSADMIN, false, &[]),
    row("post", "/replication/executions", SYSADMIN, false, &[]),
    row("get", "/replication/executions/{id}", SYSADMIN, false, &[]),
    row("put", "/replication/executions/{id}", SYSADMIN, false, &[]),
    row(
        "get",
        "/replication/executions/{id}/tasks",
        SYSADMIN,
        false,
        &[],
    ),
    row(
        "get",
        "/replication/executions/{id}/tasks/{task_id}/log",
        SYSADMIN,
        false,
        &[],
    ),
    // The project.
    row("head", "/projects", SEES_PROJECT, true, &[]),
    row(
        "get",
        "/projects/{project_name_or_id}",
        SEES_PROJECT,
        true,
        &[],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}",
        ADMINS,
        false,
        &[("metadata", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name_or_id}",
        ADMINS,
        false,
        &[("project", "delete")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/summary",
        SEES_PROJECT,
        true,
        &[],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/_deletable",
        ADMINS,
        false,
        &[("project", "delete")],
    ),
    // Project metadata.
    row(
        "get",
        "/projects/{project_name_or_id}/metadatas/",
        MEMBERS,
        true,
        &[("metadata", "read")],
    ),
    row(
        "post",
        "/projects/{project_name_or_id}/metadatas/",
        ADMINS,
        false,
        &[("metadata", "create")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/metadatas/{meta_name}",
        MEMBERS,
        true,
        &[("metadata", "read")],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}/metadatas/{meta_name}",
        ADMINS,
        false,
        &[("metadata", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name_or_id}/metadatas/{meta_name}",
        ADMINS,
        false,
        &[("metadata", "delete")],
    ),
    // Members.
    row(
        "get",
        "/projects/{project_name_or_id}/members",
        NO_LIMITED,
        false,
        &[("member", "list")],
    ),
    row(
        "post",
        "/projects/{project_name_or_id}/members",
        ADMINS,
        false,
        &[("member", "create")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/members/{mid}",
        NO_LIMITED,
        false,
        &[("member", "read")],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}/members/{mid}",
        ADMINS,
        false,
        &[("member", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name_or_id}/members/{mid}",
        ADMINS,
        false,
        &[("member", "delete")],
    ),
    // Labels: the rows use a project label of the fixture project (`label`: admins and maintainers write,
    // developers and guests read, anyone reads a public project's). Global labels: `api::labels`.
    row("get", "/labels", NO_LIMITED, true, &[("label", "list")]),
    row("post", "/labels", DELETERS, false, &[("label", "create")]),
    row(
        "get",
        "/labels/{label_id}",
        NO_LIMITED,
        true,
        &[("label", "read")],
    ),
    row(
        "put",
        "/labels/{label_id}",
        DELETERS,
        false,
        &[("label", "update")],
    ),
    row(
        "delete",
        "/labels/{label_id}",
        DELETERS,
        false,
        &[("label", "delete")],
    ),
    // Putting a label on an artifact and taking it off (`artifact-label`): developers and up.
    row(
        "post",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels",
        WRITERS,
        false,
        &[("artifact-label", "create")],
    ),
    row(
        "delete",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels/{label_id}",
        WRITERS,
        false,
        &[("artifact-label", "delete")],
    ),
    // Immutable tag rules.
    row(
        "get",
        "/projects/{project_name_or_id}/immutabletagrules",
        DELETERS,
        false,
        &[("immutable-tag", "list")],
    ),
    row(
        "post",
        "/projects/{project_name_or_id}/immutabletagrules",
        DELETERS,
        false,
        &[("immutable-tag", "create")],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}",
        DELETERS,
        false,
        &[("immutable-tag", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}",
        DELETERS,
        false,
        &[("immutable-tag", "delete")],
    ),
    // Webhook policies (Harbor's `notification-policy`: project admins write, maintainers read). A robot sees
    // the project through `pull`, as for `tag-retention`.
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/policies",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "list")],
    ),
    row(
        "post",
        "/projects/{project_name_or_id}/webhook/policies",
        ADMINS,
        false,
        &[("repository", "pull"), ("notification-policy", "create")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "read")],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}",
        ADMINS,
        false,
        &[("repository", "pull"), ("notification-policy", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}",
        ADMINS,
        false,
        &[("repository", "pull"), ("notification-policy", "delete")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "list")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "read")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks/{task_id}/log",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "read")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/lasttrigger",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "read")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/webhook/events",
        DELETERS,
        false,
        &[("repository", "pull"), ("notification-policy", "read")],
    ),
    // Repositories, artifacts, tags.
    row(
        "get",
        "/projects/{project_name}/repositories",
        MEMBERS,
        true,
        &[("repository", "list")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}",
        MEMBERS,
        true,
        &[("repository", "read")],
    ),
    row(
        "put",
        "/projects/{project_name}/repositories/{repository_name}",
        WRITERS,
        false,
        &[("repository", "update")],
    ),
    row(
        "delete",
        "/projects/{project_name}/repositories/{repository_name}",
        DELETERS,
        false,
        &[("repository", "delete")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/artifacts",
        MEMBERS,
        true,
        &[("artifact", "list")],
    ),
    // Harbor's `accessory:list`: every role, anyone on a public project. A robot sees the project through
    // `pull`, as for `notification-policy`.
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories",
        MEMBERS,
        true,
        &[("repository", "pull"), ("accessory", "list")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts",
        MEMBERS,
        true,
        &[("artifact", "list")],
    ),
    row(
        "post",
        "/projects/{project_name}/repositories/{repository_name}/artifacts",
        WRITERS,
        false,
        &[("artifact", "create"), ("repository", "read")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
        MEMBERS,
        true,
        &[("artifact", "read")],
    ),
    row(
        "delete",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
        DELETERS,
        false,
        &[("artifact", "delete")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}",
        MEMBERS,
        true,
        &[("artifact", "read")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
        MEMBERS,
        true,
        &[("tag", "list")],
    ),
    row(
        "post",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
        WRITERS,
        false,
        &[("tag", "create")],
    ),
    row(
        "delete",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}",
        DELETERS,
        false,
        &[("tag", "delete")],
    ),
    // Quotas and robots of the project.
    row("get", "/quotas/{id}", MEMBERS, false, &[("quota", "read")]),
    row("put", "/quotas/{id}", SYSADMIN, false, &[]),
    row(
        "post",
        "/robots",
        PROJECT_ADMINS_ONLY,
        false,
        &[("robot", "create")],
    ),
    row(
        "get",
        "/robots?project",
        &[
            Guest,
            Developer,
            Maintainer,
            ProjectAdmin,
            SysAdmin,
            RobotIn,
        ],
        false,
        &[("robot", "list")],
    ),
    row(
        "get",
        "/robots/{robot_id}",
        &[
            Guest,
            Developer,
            Maintainer,
            ProjectAdmin,
            SysAdmin,
            RobotIn,
        ],
        false,
        &[("robot", "read")],
    ),
    row(
        "put",
        "/robots/{robot_id}",
        PROJECT_ADMINS_ONLY,
        false,
        &[("robot", "update")],
    ),
    row(
        "patch",
        "/robots/{robot_id}",
        ADMINS,
        false,
        &[("robot", "read"), ("robot", "update")],
    ),
    row(
        "delete",
        "/robots/{robot_id}",
        ADMINS,
        false,
        &[("robot", "read"), ("robot", "delete")],
    ),
    // The registry.
    row(
        "get",
        "/v2/{name}/manifests/{reference}",
        MEMBERS,
        true,
        PULL,
    ),
    row(
        "head",
        "/v2/{name}/manifests/{reference}",
        MEMBERS,
        true,
        PULL,
    ),
    row("get", "/v2/{name}/blobs/{digest}", MEMBERS, true, PULL),
    row("get", "/v2/{name}/tags/list", MEMBERS, true, PULL),
    row("get", "/v2/{name}/referrers/{digest}", MEMBERS, true, PULL),
    row("post", "/v2/{name}/blobs/uploads/", WRITERS, false, PUSH),
    row(
        "put",
        "/v2/{name}/manifests/{reference}",
        WRITERS,
        false,
        PUSH,
    ),
    row(
        "delete",
        "/v2/{name}/manifests/{reference}",
        DELETERS,
        false,
        DELETE,
    ),
    row(
        "delete",
        "/v2/{name}/blobs/{digest}",
        DELETERS,
        false,
        DELETE,
    ),
    row("get", "/v2/_catalog", SIGNED_IN, false, &[]),
    // Scanning (Harbor's `scan` resource: create and stop for maintainers and up, read for every member). A
    // robot sees a project through the registry or REST permissions Berth models (`pull` here), as for
    // `tag-retention`.
    row(
        "post",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan",
        DELETERS,
        false,
        &[("repository", "pull"), ("scan", "create")],
    ),
    row(
        "post",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/stop",
        DELETERS,
        false,
        &[("repository", "pull"), ("scan", "stop")],
    ),
    row(
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/{report_id}/log",
        MEMBERS,
        true,
        &[("repository", "pull"), ("scan", "read")],
    ),
    // Scanner registrations: system administrators (and system robots, which `api::scanners` covers).
    row("get", "/scanners", SYSADMIN, false, &[]),
    row("get", "/scanners/{registration_id}", SYSADMIN, false, &[]),
    row("patch", "/scanners/{registration_id}", SYSADMIN, false, &[]),
    row(
        "get",
        "/scanners/{registration_id}/metadata",
        SYSADMIN,
        false,
        &[],
    ),
    // A project's scanner: read by members (and anyone in a public project), set by project admins.
    row(
        "get",
        "/projects/{project_name_or_id}/scanner",
        MEMBERS,
        true,
        &[("repository", "pull"), ("scanner", "read")],
    ),
    row(
        "put",
        "/projects/{project_name_or_id}/scanner",
        ADMINS,
        false,
        &[("repository", "pull"), ("scanner", "create")],
    ),
    row(
        "get",
        "/projects/{project_name_or_id}/scanner/candidates",
        ADMINS,
        false,
        &[("repository", "pull"), ("scanner", "create")],
    ),
    row("get", "/system/CVEAllowlist", SIGNED_IN, false, &[]),
    row("put", "/system/CVEAllowlist", SYSADMIN, false, &[]),
    // Scan-all: system administrators (and system robots holding `scan-all`, which `scan::scan_all` covers).
    row("get", "/system/scanAll/schedule", SYSADMIN, false, &[]),
    row("put", "/system/scanAll/schedule", SYSADMIN, false, &[]),
    row("get", "/scans/all/metrics", SYSADMIN, false, &[]),
    row("get", "/scans/schedule/metrics", SYSADMIN, false, &[]),
    // The Security Hub: system administrators (and system robots given `security-hub`). A user's CVE exports:
    // anyone signed in lists their own (none here).
    row("get", "/security/summary", SYSADMIN, false, &[]),
    row("get", "/security/vul", SYSADMIN, false, &[]),
    row("get", "/export/cve/executions", SIGNED_IN, false, &[]),
];

/// Endpoints the matrix cannot drive, each with why and where its authorization is tested instead.
const NOT_IN_MATRIX: &[(&str, &str, &str)] = &[
    (
        "post",
        "/system/scanAll/schedule",
        "a manual run is refused (409) while another waits, so its outcome depends on the row before; \
         scan::scan_all tests 401/403 for non-admins",
    ),
    (
        "post",
        "/system/scanAll/stop",
        "answers 400 when no scan-all runs; scan::scan_all tests it and 401/403 for non-admins",
    ),
    (
        "post",
        "/scanners",
        "registering needs a live scanner adapter to ping; api::scanners tests 401/403 for non-admins",
    ),
    (
        "post",
        "/scanners/ping",
        "needs a live scanner adapter; api::scanners tests 401/403 for non-admins",
    ),
    (
        "put",
        "/scanners/{registration_id}",
        "the only registration without an adapter is the built-in one, which nobody may change; api::scanners",
    ),
    (
        "delete",
        "/scanners/{registration_id}",
        "the only registration without an adapter is the built-in one, which nobody may delete; api::scanners",
    ),
    (
        "post",
        "/export/cve",
        "needs the X-Scan-Data-Type header the matrix does not send; scan::security_hub tests 401, 403 for a \
         guest, 404 for a private project of others, and 200 for a developer and a system administrator",
    ),
    (
        "get",
        "/export/cve/execution/{execution_id}",
        "an execution is its own user's only (403 even for a system administrator); scan::security_hub",
    ),
    (
        "get",
        "/export/cve/download/{execution_id}",
        "an execution is its own user's only (403 even for a system administrator); scan::security_hub",
    ),
];

/// What a fixture project holds.
struct Fixture {
    project: String,
    project_id: i64,
    manifest: Vec<u8>,
    digest: String,
    config_digest: String,
    member_id: i64,
    robot_id: i64,
    caller_robot: Option<(String, String)>,
    /// A user made for the row (`/users/{user_id}` rows other than `GET` and `PUT`).
    user_id: i64,
    /// A user group made for the row (`/usergroups/{group_id}` rows).
    group_id: i64,
    /// A registry endpoint made for the row (`/registries/…` rows): this server itself, as admin.
    registry_id: i64,
    /// An immutable tag rule of the project (`…/immutabletagrules/{immutable_rule_id}` rows).
    rule_id: i64,
    /// A label of the project (`/labels/{label_id}` and artifact label rows), on the image for the
    /// `DELETE …/labels/{label_id}` row.
    label_id: i64,
    /// A dry-run audit-log purge (`{purge_id}` and `{job_id}` rows) or garbage collection (`{gc_id}` rows),
    /// run for the row.
    job_id: i64,
    /// The project's retention policy, its finished dry run and that run's first task (`/retentions/{id}…`
    /// rows), as `(id, eid, tid)`.
    retention: (i64, i64, i64),
    /// A webhook policy of the project and an execution of it (`…/webhook/policies/{webhook_policy_id}…` rows).
    webhook: (i64, i64),
    /// A scan report of the project's image (`…/scan/{report_id}/log` rows).
    report_id: String,
    /// A replication policy copying the project onto itself through this server, its finished execution
    /// and that execution's task (`/replication/…/{id}…` rows), as `(policy, execution, task)`.
    replication: (i64, i64, i64),
}

/// The built-in scanner registration's uuid (migration 0022).
const BUILT_IN_SCANNER: &str = "00000000-0000-4000-8000-0000be47c0de";

/// A webhook policy named `name` sending pushes to a port nothing listens on.
fn webhook_policy(name: &str) -> Value {
    json!({"name": name, "enabled": true, "event_types": ["PUSH_ARTIFACT"],
           "targets": [{"type": "http", "address": "http://127.0.0.1:9/hook"}]})
}

/// An immutable tag rule selecting tags `pattern` in every repository.
fn immutable_rule(pattern: &str) -> Value {
    json!({"tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": pattern}],
           "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}})
}

async fn send(
    http: &Client,
    method: Method,
    url: String,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = http
        .request(method, url)
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// A fresh project with one member of each role, a tagged image, a target member and a target robot, and
/// (for robot callers) the calling robot.
async fn fixture(
    server: &TestServer,
    http: &Client,
    n: usize,
    public: bool,
    who: Who,
    row: &Row,
) -> Fixture {
    let project = format!("m{n}");
    let api = |path: &str| server.url(&format!("/api/v2.0{path}"));
    let response = send(
        http,
        Method::POST,
        api("/projects"),
        Some(json!({"project_name": project, "metadata": {"public": public.to_string()}})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let project_id: i64 = response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut member_id = 0;
    for (user, role) in [
        ("lg", 5),
        ("guest", 3),
        ("dev", 2),
        ("maint", 4),
        ("padmin", 1),
        ("target", 3),
    ] {
        let response = send(
            http,
            Method::POST,
            api(&format!("/projects/{project}/members")),
            Some(json!({"role_id": role, "member_user": {"username": user}})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        member_id = response.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
    }
    let (config, layer) = (
        format!("{{\"n\":{n}}}").into_bytes(),
        format!("layer {n}").into_bytes(),
    );
    let empty = row.method == "delete" && row.route == "/projects/{project_name_or_id}";
    let mut manifest = Vec::new();
    if !empty {
        for blob in [&config, &layer] {
            let url = server.url(&format!(
                "/v2/{project}/app/blobs/uploads/?digest={}",
                sha256(blob)
            ));
            let response = http
                .post(url)
                .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
                .body(blob.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(&layer), "size": layer.len()}]}))
        .unwrap();
        let response = http
            .put(server.url(&format!("/v2/{project}/app/manifests/v1")))
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let robot = |name: &str, pairs: &[(&str, &str)]| {
        json!({"name": name, "level": "project", "duration": -1, "permissions": [{"kind": "project", "namespace": project,
            "access": pairs.iter().map(|(r, a)| json!({"resource": r, "action": a})).collect::<Vec<_>>()}]})
    };
    let mut robot_id = 0;
    if row.route.starts_with("/robots/") {
        let created: Value = send(
            http,
            Method::POST,
            api("/robots"),
            Some(robot("target", &[("repository", "pull")])),
        )
        .await
        .json()
        .await
        .unwrap();
        robot_id = created["id"].as_i64().unwrap();
    }
    let location_id = |response: reqwest::Response| -> i64 {
        assert_eq!(response.status(), StatusCode::CREATED);
        response.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut user_id = 0;
    if row.route.starts_with("/users/{user_id}") && !matches!(row.method, "get" | "put")
        || row.route.starts_with("/users/{user_id}/")
    {
        let response = send(
            http,
            Method::POST,
            api("/users"),
            Some(
                json!({"username": format!("{project}-victim"), "password": "Password1",
                "email": format!("{project}-victim@example.com"), "realname": "Victim"}),
            ),
        )
        .await;
        user_id = location_id(response);
    }
    let mut group_id = 0;
    if row.route.starts_with("/usergroups/{group_id}") {
        let response = send(
            http,
            Method::POST,
            api("/usergroups"),
            Some(json!({"group_name": format!("{project}-group"), "group_type": 2})),
        )
        .await;
        group_id = location_id(response);
    }
    let mut registry_id = 0;
    if row.route.starts_with("/registries/") || row.route.starts_with("/replication/") {
        let response = send(
            http,
            Method::POST,
            api("/registries"),
            Some(json!({"name": format!("{project}-registry"), "type": "docker-registry",
                "url": server.url(""),
                "credential": {"type": "basic", "access_key": ADMIN_USER, "access_secret": ADMIN_PASSWORD}})),
        )
        .await;
        registry_id = location_id(response);
    }
    let mut job_id = 0;
    if row.route.contains("{gc_id}") {
        let response = send(
            http,
            Method::POST,
            api("/system/gc/schedule"),
            Some(json!({"schedule": {"type": "Manual"}, "parameters": {"dry_run": true}})),
        )
        .await;
        job_id = location_id(response);
    }
    if row.route.contains("{purge_id}") || row.route.contains("{job_id}") {
        let response = send(
            http,
            Method::POST,
            api("/system/purgeaudit/schedule"),
            Some(json!({"schedule": {"type": "Manual"},
                "parameters": {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": true}})),
        )
        .await;
        job_id = location_id(response);
    }
    let mut retention = (0, 0, 0);
    if row.route.starts_with("/retentions/{id}") {
        use crate::retention::{everything, policy, run};
        let id = crate::retention::create_policy(
            server,
            http,
            policy(project_id, vec![everything("always", json!({}))], ""),
        )
        .await;
        if row.route.contains("{eid}") {
            let eid = run(server, http, id, true).await;
            let tasks: Value = send(
                http,
                Method::GET,
                api(&format!("/retentions/{id}/executions/{eid}/tasks")),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
            retention = (id, eid, tasks[0]["id"].as_i64().unwrap_or(0));
        } else {
            retention = (id, 0, 0);
        }
    }
    let mut webhook = (0, 0);
    if row.route.contains("{webhook_policy_id}") {
        let response = send(
            http,
            Method::POST,
            api(&format!("/projects/{project}/webhook/policies")),
            Some(webhook_policy("fixture")),
        )
        .await;
        webhook.0 = location_id(response);
        if row.route.contains("{execution_id}") {
            let notifier = &server.state.webhooks;
            let found = server
                .state
                .db
                .find_project(&project)
                .await
                .unwrap()
                .unwrap();
            let event = notifier.artifact_event(
                berth::webhooks::EventType::PushArtifact,
                &found,
                &format!("{project}/app"),
                "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06",
                Some("v1"),
                ADMIN_USER,
            );
            notifier.notify(event).await;
            let executions: Value = send(
                http,
                Method::GET,
                api(&format!(
                    "/projects/{project}/webhook/policies/{}/executions",
                    webhook.0
                )),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
            webhook.1 = executions[0]["id"].as_i64().unwrap();
        }
    }
    let mut replication = (0, 0, 0);
    if row.route.starts_with("/replication/policies")
        || row.route.starts_with("/replication/executions")
    {
        let response = send(
            http,
            Method::POST,
            api("/replication/policies"),
            Some(json!({"name": format!("{project}-repl"), "enabled": true,
                "dest_registry": {"id": registry_id}, "dest_namespace": project,
                "filters": [{"type": "name", "value": format!("{project}/**")}]})),
        )
        .await;
        replication.0 = location_id(response);
        let response = send(
            http,
            Method::POST,
            api("/replication/executions"),
            Some(json!({"policy_id": replication.0})),
        )
        .await;
        replication.1 = location_id(response);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let execution: Value = send(
                http,
                Method::GET,
                api(&format!("/replication/executions/{}", replication.1)),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
            if execution["status"] != "InProgress" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the fixture's replication did not finish"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let tasks: Value = send(
            http,
            Method::GET,
            api(&format!("/replication/executions/{}/tasks", replication.1)),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        replication.2 = tasks[0]["id"].as_i64().unwrap_or(0);
    }
    let mut rule_id = 0;
    if row.route.ends_with("{immutable_rule_id}") {
        let response = send(
            http,
            Method::POST,
            api(&format!("/projects/{project}/immutabletagrules")),
            Some(immutable_rule("fixture-*")),
        )
        .await;
        rule_id = location_id(response);
    }
    let mut label_id = 0;
    if row.route.contains("{label_id}") || row.route.ends_with("/labels") {
        let response = send(
            http,
            Method::POST,
            api("/labels"),
            Some(json!({"name": "fixture", "scope": "p", "project_id": project_id})),
        )
        .await;
        label_id = location_id(response);
    }
    if row.route.ends_with("/labels/{label_id}") && row.route.starts_with("/projects/") {
        let response = send(
            http,
            Method::POST,
            api(&format!(
                "/projects/{project}/repositories/app/artifacts/v1/labels"
            )),
            Some(json!({"id": label_id})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let caller_robot = match who {
        RobotIn | RobotOut => {
            let unrelated = [("quota", "read"), ("member", "list")]
                .into_iter()
                .find(|p| !row.robot.contains(p))
                .unwrap();
            let pairs: Vec<(&str, &str)> = if who == RobotIn && !row.robot.is_empty() {
                row.robot.to_vec()
            } else {
                vec![unrelated]
            };
            let created: Value = send(
                http,
                Method::POST,
                api("/robots"),
                Some(robot("caller", &pairs)),
            )
            .await
            .json()
            .await
            .unwrap();
            Some((
                created["name"].as_str().unwrap().to_owned(),
                created["secret"].as_str().unwrap().to_owned(),
            ))
        }
        _ => None,
    };
    let digest = sha256(&manifest);
    let mut report_id = String::new();
    if row.route.contains("{report_id}") {
        let artifact = api(&format!(
            "/projects/{project}/repositories/app/artifacts/v1"
        ));
        let response = send(
            http,
            Method::POST,
            format!("{artifact}/scan"),
            Some(json!({"scan_type": "vulnerability"})),
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let found: Value = send(
            http,
            Method::GET,
            format!("{artifact}?with_scan_overview=true"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        report_id = found["scan_overview"]["application/vnd.security.vulnerability.report; version=1.1"]
            ["report_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no report for the scan: {found}"))
            .to_owned();
    }
    Fixture {
        project,
        project_id,
        manifest,
        digest,
        config_digest: sha256(&config),
        member_id,
        robot_id,
        caller_robot,
        user_id,
        group_id,
        registry_id,
        rule_id,
        label_id,
        job_id,
        retention,
        webhook,
        report_id,
        replication,
    }
}

/// The concrete request for `row` against `fx`.
fn request(row: &Row, fx: &Fixture, padmin_id: i64) -> (String, Option<Value>, Option<Vec<u8>>) {
    let p = &fx.project;
    let repo = format!("/projects/{p}/repositories/app");
    let artifact = format!("{repo}/artifacts/v1");
    let api = |path: String| (format!("/api/v2.0{path}"), None, None);
    let with = |path: String, body: Value| (format!("/api/v2.0{path}"), Some(body), None);
    match (row.method, row.route) {
        (
            _,
            "/ping"
            | "/health"
            | "/systeminfo"
            | "/systeminfo/volumes"
            | "/systeminfo/getcert"
            | "/permissions"
            | "/auditlog-exts"
            | "/auditlog-exts/events"
            | "/p2p/preheat/providers"
            | "/p2p/preheat/instances"
            | "/projects"
            | "/repositories"
            | "/quotas"
            | "/robots"
            | "/users"
            | "/users/current",
        ) if row.method != "post" && row.method != "head" => api(row.route.to_owned()),
        ("get", "/configurations") => api("/configurations".to_owned()),
        (_, "/icons/{digest}") => api(format!(
            "/icons/{}",
            "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06"
        )),
        ("put", "/configurations") => with(
            "/configurations".to_owned(),
            json!({"robot_token_duration": 45}),
        ),
        ("post", "/ldap/ping") => with("/ldap/ping".to_owned(), json!({})),
        ("get", "/ldap/users/search") => api("/ldap/users/search?username=ali".to_owned()),
        ("post", "/ldap/users/import") => with(
            "/ldap/users/import".to_owned(),
            json!({"ldap_uid_list": ["bob"]}),
        ),
        ("get", "/ldap/groups/search") => api("/ldap/groups/search?groupname=dev".to_owned()),
        ("post", "/projects") => with(
            "/projects".to_owned(),
            json!({"project_name": format!("{p}-new")}),
        ),
        ("post", "/users") => with(
            "/users".to_owned(),
            json!({"username": format!("{p}-u"), "password": "Password1", "email": format!("{p}@example.com"), "realname": "U"}),
        ),
        (_, "/users/search") => api("/users/search?username=dev".to_owned()),
        ("put", "/users/{user_id}") => with(
            format!("/users/{padmin_id}"),
            json!({"email": "padmin@example.com", "realname": "Project Admin", "comment": "matrix"}),
        ),
        ("delete", "/users/{user_id}") => api(format!("/users/{}", fx.user_id)),
        (_, "/users/{user_id}") => api(format!("/users/{padmin_id}")),
        (_, "/users/current/permissions") => api(format!(
            "/users/current/permissions?scope=/project/{}&relative=true",
            fx.project_id
        )),
        (_, "/users/{user_id}/password") => with(
            format!("/users/{}/password", fx.user_id),
            json!({"new_password": "Changed123"}),
        ),
        (_, "/users/{user_id}/cli_secret") => with(
            format!("/users/{}/cli_secret", fx.user_id),
            json!({"secret": "Secret1234"}),
        ),
        ("post", "/system/oidc/ping") => with(
            "/system/oidc/ping".to_owned(),
            json!({"url": OIDC_ISSUER.get().expect("the matrix starts a provider")}),
        ),
        (_, "/users/{user_id}/sysadmin") => with(
            format!("/users/{}/sysadmin", fx.user_id),
            json!({"sysadmin_flag": false}),
        ),
        ("post", "/usergroups") => with(
            "/usergroups".to_owned(),
            json!({"group_name": format!("{p}-new"), "group_type": 3}),
        ),
        (_, "/usergroups") => api("/usergroups".to_owned()),
        (_, "/usergroups/search") => api("/usergroups/search?groupname=g".to_owned()),
        ("put", "/usergroups/{group_id}") => with(
            format!("/usergroups/{}", fx.group_id),
            json!({"group_name": format!("{p}-renamed")}),
        ),
        (_, "/usergroups/{group_id}") => api(format!("/usergroups/{}", fx.group_id)),
        ("post", "/registries") => with(
            "/registries".to_owned(),
            json!({"name": format!("{p}-new"), "type": "docker-hub"}),
        ),
        (_, "/registries") => api("/registries".to_owned()),
        (_, "/registries/ping") => {
            with("/registries/ping".to_owned(), json!({"id": fx.registry_id}))
        }
        ("put", "/registries/{id}") => with(
            format!("/registries/{}", fx.registry_id),
            json!({"description": "matrix"}),
        ),
        (_, "/registries/{id}") => api(format!("/registries/{}", fx.registry_id)),
        (_, "/registries/{id}/info") => api(format!("/registries/{}/info", fx.registry_id)),
        (_, "/replication/adapters") => api("/replication/adapters".to_owned()),
        (_, "/replication/adapterinfos") => api("/replication/adapterinfos".to_owned()),
        ("post", "/replication/policies") => with(
            "/replication/policies".to_owned(),
            json!({"name": format!("{p}-new"), "dest_registry": {"id": fx.registry_id}}),
        ),
        (_, "/replication/policies") => api("/replication/policies".to_owned()),
        ("put", "/replication/policies/{id}") => with(
            format!("/replication/policies/{}", fx.replication.0),
            json!({"name": format!("{p}-repl"), "dest_registry": {"id": fx.registry_id}, "description": "matrix"}),
        ),
        (_, "/replication/policies/{id}") => {
            api(format!("/replication/policies/{}", fx.replication.0))
        }
        ("post", "/replication/executions") => with(
            "/replication/executions".to_owned(),
            json!({"policy_id": fx.replication.0}),
        ),
        (_, "/replication/executions") => api("/replication/executions".to_owned()),
        (_, "/replication/executions/{id}") => {
            api(format!("/replication/executions/{}", fx.replication.1))
        }
        (_, "/replication/executions/{id}/tasks") => api(format!(
            "/replication/executions/{}/tasks",
            fx.replication.1
        )),
        (_, "/replication/executions/{id}/tasks/{task_id}/log") => api(format!(
            "/replication/executions/{}/tasks/{}/log",
            fx.replication.1, fx.replication.2
        )),
        ("head", "/projects") => api(format!("/projects?project_name={p}")),
        ("put", "/projects/{project_name_or_id}") => with(
            format!("/projects/{p}"),
            json!({"metadata": {"auto_scan": "true"}}),
        ),
        (_, "/projects/{project_name_or_id}") => api(format!("/projects/{p}")),
        (_, "/projects/{project_name_or_id}/summary") => api(format!("/projects/{p}/summary")),
        (_, "/projects/{project_name_or_id}/_deletable") => {
            api(format!("/projects/{p}/_deletable"))
        }
        ("post", "/projects/{project_name_or_id}/metadatas/") => with(
            format!("/projects/{p}/metadatas/"),
            json!({"enable_content_trust": "true"}),
        ),
        (_, "/projects/{project_name_or_id}/metadatas/") => {
            api(format!("/projects/{p}/metadatas/"))
        }
        ("put", "/projects/{project_name_or_id}/metadatas/{meta_name}") => with(
            format!("/projects/{p}/metadatas/auto_scan"),
            json!({"auto_scan": "true"}),
        ),
        ("delete", "/projects/{project_name_or_id}/metadatas/{meta_name}") => {
            api(format!("/projects/{p}/metadatas/auto_scan"))
        }
        (_, "/projects/{project_name_or_id}/metadatas/{meta_name}") => {
            api(format!("/projects/{p}/metadatas/public"))
        }
        (_, "/statistics") => api("/statistics".to_owned()),
        (_, "/search") => api(format!("/search?q={p}")),
        ("post", "/projects/{project_name_or_id}/members") => with(
            format!("/projects/{p}/members"),
            json!({"role_id": 3, "member_user": {"username": "spare"}}),
        ),
        ("put", "/projects/{project_name_or_id}/members/{mid}") => with(
            format!("/projects/{p}/members/{}", fx.member_id),
            json!({"role_id": 2}),
        ),
        (_, "/projects/{project_name_or_id}/members/{mid}") => {
            api(format!("/projects/{p}/members/{}", fx.member_id))
        }
        (_, "/projects/{project_name_or_id}/members") => api(format!("/projects/{p}/members")),
        ("post", "/projects/{project_name_or_id}/immutabletagrules") => with(
            format!("/projects/{p}/immutabletagrules"),
            immutable_rule("new-*"),
        ),
        (_, "/projects/{project_name_or_id}/immutabletagrules") => {
            api(format!("/projects/{p}/immutabletagrules"))
        }
        ("put", "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}") => {
            let mut body = immutable_rule("changed-*");
            body["id"] = json!(fx.rule_id);
            with(
                format!("/projects/{p}/immutabletagrules/{}", fx.rule_id),
                body,
            )
        }
        (_, "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}") => {
            api(format!("/projects/{p}/immutabletagrules/{}", fx.rule_id))
        }
        ("get", "/labels") => api(format!("/labels?scope=p&project_id={}", fx.project_id)),
        ("post", "/labels") => with(
            "/labels".to_owned(),
            json!({"name": "new", "scope": "p", "project_id": fx.project_id}),
        ),
        ("put", "/labels/{label_id}") => with(
            format!("/labels/{}", fx.label_id),
            json!({"name": "renamed", "color": "#123456"}),
        ),
        (_, "/labels/{label_id}") => api(format!("/labels/{}", fx.label_id)),
        (
            "post",
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels",
        ) => with(format!("{artifact}/labels"), json!({"id": fx.label_id})),
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels/{label_id}",
        ) => api(format!("{artifact}/labels/{}", fx.label_id)),
        (_, "/projects/{project_name}/repositories") => api(format!("/projects/{p}/repositories")),
        ("put", "/projects/{project_name}/repositories/{repository_name}") => {
            with(repo, json!({"description": "changed"}))
        }
        (_, "/projects/{project_name}/repositories/{repository_name}") => api(repo),
        ("post", "/projects/{project_name}/repositories/{repository_name}/artifacts") => api(
            format!("/projects/{p}/repositories/copy/artifacts?from={p}/app:v1"),
        ),
        (_, "/projects/{project_name_or_id}/artifacts") => api(format!("/projects/{p}/artifacts")),
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories",
        ) => api(format!("{artifact}/accessories")),
        (_, "/projects/{project_name}/repositories/{repository_name}/artifacts") => {
            api(format!("{repo}/artifacts"))
        }
        (
            "post",
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan",
        ) => with(
            format!("{artifact}/scan"),
            json!({"scan_type": "vulnerability"}),
        ),
        (
            "post",
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/stop",
        ) => with(
            format!("{artifact}/scan/stop"),
            json!({"scan_type": "vulnerability"}),
        ),
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/{report_id}/log",
        ) => api(format!("{artifact}/scan/{}/log", fx.report_id)),
        ("patch", "/scanners/{registration_id}") => with(
            format!("/scanners/{BUILT_IN_SCANNER}"),
            json!({"is_default": true}),
        ),
        (_, "/scanners/{registration_id}") => api(format!("/scanners/{BUILT_IN_SCANNER}")),
        (_, "/scanners/{registration_id}/metadata") => {
            api(format!("/scanners/{BUILT_IN_SCANNER}/metadata"))
        }
        (_, "/scanners") => api("/scanners".to_owned()),
        ("put", "/projects/{project_name_or_id}/scanner") => with(
            format!("/projects/{p}/scanner"),
            json!({"uuid": BUILT_IN_SCANNER}),
        ),
        (_, "/projects/{project_name_or_id}/scanner") => api(format!("/projects/{p}/scanner")),
        (_, "/projects/{project_name_or_id}/scanner/candidates") => {
            api(format!("/projects/{p}/scanner/candidates"))
        }
        ("put", "/system/scanAll/schedule") => with(
            "/system/scanAll/schedule".to_owned(),
            json!({"schedule": {"type": "None"}}),
        ),
        (_, "/system/scanAll/schedule" | "/scans/all/metrics" | "/scans/schedule/metrics") => {
            api(row.route.to_owned())
        }
        (_, "/security/summary" | "/security/vul" | "/export/cve/executions") => {
            api(row.route.to_owned())
        }
        ("put", "/system/CVEAllowlist") => with(
            "/system/CVEAllowlist".to_owned(),
            json!({"items": [{"cve_id": "CVE-2024-0001"}]}),
        ),
        (_, "/system/CVEAllowlist") => api("/system/CVEAllowlist".to_owned()),
        (_, "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}") => {
            api(artifact)
        }
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}",
        ) => api(format!("{artifact}/additions/build_history")),
        (
            "post",
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
        ) => with(format!("{artifact}/tags"), json!({"name": "extra"})),
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
        ) => api(format!("{artifact}/tags")),
        (
            _,
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}",
        ) => api(format!("{artifact}/tags/v1")),
        (_, "/audit-logs") => api("/audit-logs".to_owned()),
        (_, "/projects/{project_name}/logs") => api(format!("/projects/{p}/logs")),
        ("post", "/p2p/preheat/instances") => with(
            "/p2p/preheat/instances".to_owned(),
            json!({"name": "d7y", "vendor": "dragonfly", "endpoint": "http://d7y.example"}),
        ),
        ("post", "/projects/{project_name}/preheat/policies") => with(
            format!("/projects/{p}/preheat/policies"),
            json!({"name": "warm", "provider_id": 1}),
        ),
        (_, "/projects/{project_name}/preheat/policies") => {
            api(format!("/projects/{p}/preheat/policies"))
        }
        (_, "/projects/{project_name}/auditlog-exts") => {
            api(format!("/projects/{p}/auditlog-exts"))
        }
        ("put", "/quotas/{id}") => with(
            format!("/quotas/{}", fx.project_id),
            json!({"hard": {"storage": 1_000_000}}),
        ),
        (_, "/quotas/{id}") => api(format!("/quotas/{}", fx.project_id)),
        ("post", "/robots") => with(
            "/robots".to_owned(),
            json!({"name": "made", "level": "project", "permissions": [{"kind": "project", "namespace": p, "access": [{"resource": "repository", "action": "pull"}]}]}),
        ),
        (_, "/robots?project") => api(format!(
            "/robots?q=Level=project,ProjectID={}",
            fx.project_id
        )),
        ("put", "/robots/{robot_id}") => with(
            format!("/robots/{}", fx.robot_id),
            json!({"name": "target", "level": "project", "disable": true, "permissions": [{"kind": "project", "namespace": p, "access": [{"resource": "repository", "action": "pull"}]}]}),
        ),
        ("patch", "/robots/{robot_id}") => with(format!("/robots/{}", fx.robot_id), json!({})),
        (_, "/robots/{robot_id}") => api(format!("/robots/{}", fx.robot_id)),
        ("put", "/v2/{name}/manifests/{reference}") => (
            format!("/v2/{p}/app/manifests/v2"),
            None,
            Some(fx.manifest.clone()),
        ),
        (_, "/v2/{name}/manifests/{reference}") if row.method == "delete" => {
            (format!("/v2/{p}/app/manifests/{}", fx.digest), None, None)
        }
        (_, "/v2/{name}/manifests/{reference}") => {
            (format!("/v2/{p}/app/manifests/v1"), None, None)
        }
        (_, "/v2/{name}/blobs/{digest}") => (
            format!("/v2/{p}/app/blobs/{}", fx.config_digest),
            None,
            None,
        ),
        (_, "/v2/{name}/tags/list") => (format!("/v2/{p}/app/tags/list"), None, None),
        (_, "/v2/{name}/referrers/{digest}") => {
            (format!("/v2/{p}/app/referrers/{}", fx.digest), None, None)
        }
        (_, "/v2/{name}/blobs/uploads/") => (format!("/v2/{p}/app/blobs/uploads/"), None, None),
        (_, "/v2/_catalog") => ("/v2/_catalog".to_owned(), None, None),
        ("post" | "put", "/system/purgeaudit/schedule") => with(
            "/system/purgeaudit/schedule".to_owned(),
            json!({"schedule": {"type": "Manual"},
                "parameters": {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": true}}),
        ),
        ("post" | "put", "/system/gc/schedule") => with(
            "/system/gc/schedule".to_owned(),
            json!({"schedule": {"type": "Manual"}, "parameters": {"dry_run": true}}),
        ),
        (_, "/system/gc/{gc_id}") => api(format!("/system/gc/{}", fx.job_id)),
        (_, "/system/gc/{gc_id}/log") => api(format!("/system/gc/{}/log", fx.job_id)),
        ("get", "/system/gc" | "/system/gc/schedule") => api(row.route.to_owned()),
        (_, "/system/purgeaudit/{purge_id}") => api(format!("/system/purgeaudit/{}", fx.job_id)),
        (_, "/system/purgeaudit/{purge_id}/log") => {
            api(format!("/system/purgeaudit/{}/log", fx.job_id))
        }
        (_, "/jobservice/pools/{pool_id}/workers") => {
            api("/jobservice/pools/all/workers".to_owned())
        }
        (_, "/jobservice/jobs/{job_id}") => api(format!("/jobservice/jobs/{}", fx.job_id)),
        (_, "/jobservice/jobs/{job_id}/log") => api(format!("/jobservice/jobs/{}/log", fx.job_id)),
        ("put", "/jobservice/queues/{job_type}") => with(
            "/jobservice/queues/all".to_owned(),
            json!({"action": "resume"}),
        ),
        (_, "/schedules/{job_type}/paused") => api("/schedules/all/paused".to_owned()),
        (
            "get",
            "/system/purgeaudit"
            | "/system/purgeaudit/schedule"
            | "/jobservice/pools"
            | "/jobservice/queues"
            | "/schedules",
        ) => api(row.route.to_owned()),
        (_, "/retentions/metadatas") => api("/retentions/metadatas".to_owned()),
        ("post", "/retentions") => with(
            "/retentions".to_owned(),
            crate::retention::policy(
                fx.project_id,
                vec![crate::retention::everything("always", json!({}))],
                "",
            ),
        ),
        ("put", "/retentions/{id}") => with(
            format!("/retentions/{}", fx.retention.0),
            crate::retention::policy(
                fx.project_id,
                vec![crate::retention::everything(
                    "latestPushedK",
                    json!({"latestPushedK": 3}),
                )],
                "",
            ),
        ),
        (_, "/retentions/{id}") => api(format!("/retentions/{}", fx.retention.0)),
        ("post", "/retentions/{id}/executions") => with(
            format!("/retentions/{}/executions", fx.retention.0),
            json!({"dry_run": true}),
        ),
        (_, "/retentions/{id}/executions") => {
            api(format!("/retentions/{}/executions", fx.retention.0))
        }
        (_, "/retentions/{id}/executions/{eid}") => with(
            format!(
                "/retentions/{}/executions/{}",
                fx.retention.0, fx.retention.1
            ),
            json!({"action": "stop"}),
        ),
        (_, "/retentions/{id}/executions/{eid}/tasks") => api(format!(
            "/retentions/{}/executions/{}/tasks",
            fx.retention.0, fx.retention.1
        )),
        (_, "/retentions/{id}/executions/{eid}/tasks/{tid}") => api(format!(
            "/retentions/{}/executions/{}/tasks/{}",
            fx.retention.0, fx.retention.1, fx.retention.2
        )),
        (_, "/retentions/{id}/executions/{eid}/tasks/{tid}/reasons") => api(format!(
            "/retentions/{}/executions/{}/tasks/{}/reasons",
            fx.retention.0, fx.retention.1, fx.retention.2
        )),
        ("post", "/projects/{project_name_or_id}/webhook/policies") => with(
            format!("/projects/{p}/webhook/policies"),
            webhook_policy("new"),
        ),
        (_, "/projects/{project_name_or_id}/webhook/policies") => {
            api(format!("/projects/{p}/webhook/policies"))
        }
        ("put", "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}") => with(
            format!("/projects/{p}/webhook/policies/{}", fx.webhook.0),
            webhook_policy("changed"),
        ),
        (_, "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}") => {
            api(format!("/projects/{p}/webhook/policies/{}", fx.webhook.0))
        }
        (_, "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions") => {
            api(format!(
                "/projects/{p}/webhook/policies/{}/executions",
                fx.webhook.0
            ))
        }
        (
            _,
            "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks",
        ) => api(format!(
            "/projects/{p}/webhook/policies/{}/executions/{}/tasks",
            fx.webhook.0, fx.webhook.1
        )),
        (
            _,
            "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks/{task_id}/log",
        ) => api(format!(
            "/projects/{p}/webhook/policies/{}/executions/{}/tasks/{}/log",
            fx.webhook.0, fx.webhook.1, fx.webhook.1
        )),
        (_, "/projects/{project_name_or_id}/webhook/lasttrigger") => {
            api(format!("/projects/{p}/webhook/lasttrigger"))
        }
        (_, "/projects/{project_name_or_id}/webhook/events") => {
            api(format!("/projects/{p}/webhook/events"))
        }
        (method, route) => panic!("the authorization matrix has no request for {method} {route}"),
    }
}

fn credentials(who: Who, fx: &Fixture) -> Option<(String, String)> {
    let user = |name: &str| Some((name.to_owned(), "Password1".to_owned()));
    match who {
        Anonymous => None,
        Outsider => user("outsider"),
        OtherMember => user("othermember"),
        LimitedGuest => user("lg"),
        Guest => user("guest"),
        Developer => user("dev"),
        Maintainer => user("maint"),
        ProjectAdmin => user("padmin"),
        SysAdmin => Some((ADMIN_USER.to_owned(), ADMIN_PASSWORD.to_owned())),
        RobotIn | RobotOut => fx.caller_robot.clone(),
    }
}

#[test]
fn every_rest_endpoint_has_a_row() {
    let mut rows: BTreeSet<(&str, &str)> = TABLE.iter().map(|r| (r.method, r.route)).collect();
    rows.extend(
        NOT_IN_MATRIX
            .iter()
            .map(|(method, route, _)| (*method, *route)),
    );
    let missing: Vec<String> = berth::api::ENDPOINTS
        .iter()
        .filter(|(method, path)| !rows.contains(&(*method, *path)))
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "endpoints without a row in the authorization matrix: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_matrix_holds() {
    // Webhook policies of the matrix post to a closed port on the loopback, which fails at once.
    let server = TestServer::start_with(|c| {
        c.jobs.poll_ms = 50;
        c.webhooks.allow_local_targets = true;
    })
    .await;
    let http = client();
    for name in [
        "outsider",
        "othermember",
        "lg",
        "guest",
        "dev",
        "maint",
        "padmin",
        "target",
        "spare",
    ] {
        server.create_user(name, "Password1", false).await;
    }
    // The LDAP endpoints need a directory to answer; the auth mode stays db_auth.
    let slapd = Slapd::start();
    let status = send(
        &http,
        Method::PUT,
        server.url("/api/v2.0/configurations"),
        Some(ldap_configuration(&slapd.settings())),
    )
    .await
    .status();
    assert_eq!(status, StatusCode::OK, "configuring LDAP");
    let provider = OidcProvider::start(&[super::oidc::provider::REDIRECT_URI]);
    let _ = OIDC_ISSUER.set(provider.issuer().to_owned());
    let padmin_id: i64 = {
        let users: Value = send(
            &http,
            Method::GET,
            server.url("/api/v2.0/users?page_size=100"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "padmin")
            .unwrap()["user_id"]
            .as_i64()
            .unwrap()
    };
    berth::service::projects::create(&server.state.db, "elsewhere", "othermember", false)
        .await
        .unwrap();

    let mut failures = Vec::new();
    let mut n = 0;
    for row in TABLE {
        for public in [false, true] {
            for who in EVERYONE {
                n += 1;
                let fx = fixture(&server, &http, n, public, who, row).await;
                let (path, json_body, raw_body) = request(row, &fx, padmin_id);
                let method = Method::from_bytes(row.method.to_uppercase().as_bytes()).unwrap();
                let mut request = http.request(method, server.url(&path));
                if let Some((user, password)) = credentials(who, &fx) {
                    request = request.basic_auth(user, Some(password));
                }
                if let Some(body) = json_body {
                    request = request.json(&body);
                }
                if let Some(body) = raw_body {
                    request = request
                        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                        .body(body);
                }
                let status = request.send().await.unwrap().status();
                let expected = row.private.contains(&who) || (public && row.public_read);
                // CLI secrets exist only in oidc_auth: past authorization, the matrix's db_auth server answers
                // 412, which is what "allowed" looks like here.
                // Berth has no P2P provider: past authorization, creating an instance or a preheat policy is
                // a 400.
                let allowed = status.is_success()
                    || (row.route == "/users/{user_id}/cli_secret" && status.as_u16() == 412)
                    || (row.method == "post"
                        && row.route.contains("preheat")
                        && status.as_u16() == 400);
                // `POST /retentions` names its project in the body: a project the caller may not see is answered
                // as one that does not exist, with Harbor's 400 "invalid Project id".
                let denied = matches!(status.as_u16(), 401 | 403 | 404)
                    || (row.route == "/retentions" && status.as_u16() == 400);
                let visibility = if public { "public" } else { "private" };
                if !(allowed || denied) || allowed != expected {
                    failures.push(format!(
                        "{} {} on a {visibility} project as {who:?}: got {status}, expected {}",
                        row.method.to_uppercase(),
                        row.route,
                        if expected { "allow" } else { "deny" }
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} combinations wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    server.stop().await;
}
