//! Harbor's REST API v2.0 under `/api/v2.0`: one module per resource.
//!
//! Every endpoint is listed once, in the [`api_routes!`] table below, which builds the router and the
//! [`ENDPOINTS`] list that the tests check against Harbor's swagger.

mod artifacts;
mod audit;
mod caller;
mod configurations;
pub mod error;
pub mod extract;
mod gc;
mod icons;
mod immutable;
mod jobservice;
mod labels;
mod ldap;
mod members;
mod oidc;
mod openapi;
mod pagination;
mod permissions;
mod preheat;
mod project_metadata;
mod projects;
mod purgeaudit;
pub mod query;
pub mod query_bool;
mod quotas;
mod registries;
mod replication;
mod repositories;
mod retentions;
mod robots;
mod scan;
mod scan_all;
mod scan_export;
mod scanners;
mod search;
mod security_hub;
mod statistics;
pub(crate) mod system;
mod tags;
mod usergroups;
mod users;
mod webhooks;

use axum::Router;
use axum::routing::{delete, get, head, patch, post, put};

use berth_api::artifacts::{Accessory, Artifact, Icon, Tag};
use berth_api::audit::{AuditLog, AuditLogEventType, AuditLogExt};
use berth_api::configurations::{Configurations, ConfigurationsResponse};
use berth_api::immutable::ImmutableRule;
use berth_api::jobs::{
    ActionRequest, ExecHistory, JobQueue, Schedule, ScheduleTask, SchedulerStatus, Worker,
    WorkerPool,
};
use berth_api::labels::Label;
use berth_api::ldap::{LdapConf, LdapImportUsers, LdapPingResult, LdapUser};
use berth_api::members::{ProjectMember, ProjectMemberEntity, RoleRequest, UserGroup};
use berth_api::oidc::{OidcCliSecretReq, OidcPingReq};
use berth_api::preheat::{Instance, PreheatPolicy, ProviderMetadata};
use berth_api::projects::{
    CveAllowlist, Project, ProjectDeletable, ProjectMetadata, ProjectReq, ProjectSummary,
};
use berth_api::quotas::{Quota, QuotaUpdateReq};
use berth_api::registries::{Registry, RegistryInfo, RegistryPing, RegistryUpdate};
use berth_api::replication::{
    AdapterInfos, ReplicationExecution, ReplicationPolicy, ReplicationTask,
    StartReplicationExecution,
};
use berth_api::repositories::Repository;
use berth_api::retention::{
    RetentionExecution, RetentionExecutionAction, RetentionExecutionTask, RetentionMetadata,
    RetentionPolicy, RetentionReason, RetentionRun,
};
use berth_api::robots::{Robot, RobotCreate, RobotCreated, RobotSec};
use berth_api::scanners::{
    IsDefault, ProjectScanner, ScannerAdapterMetadata, ScannerRegistration, ScannerRegistrationReq,
    ScannerRegistrationSettings,
};
use berth_api::search::Search;
use berth_api::security_hub::{
    HubVulnerabilityItem, ScanDataExportExecution, ScanDataExportExecutionList, ScanDataExportJob,
    ScanDataExportRequest, SecuritySummary,
};
use berth_api::statistics::Statistic;
use berth_api::system::{GeneralInfo, OverallHealthStatus, SystemInfo};
use berth_api::usergroups::UserGroupSearchItem;
use berth_api::users::{
    PasswordReq, Permission, Permissions, UserCreationReq, UserProfile, UserResp,
    UserSearchRespItem, UserSysAdminFlag,
};
use berth_api::vulnerabilities::Stats;
use berth_api::webhooks::{
    Execution as WebhookExecution, SupportedWebhookEventTypes, Task as WebhookTask,
    WebhookLastTrigger, WebhookPolicy,
};
use utoipa::openapi::schema::Type;

use crate::app::AppState;
pub use caller::Caller;
pub use error::ApiError;

/// Endpoints Berth serves beyond Harbor's API (documented as additions in the OpenAPI document); every other
/// row of the route table is in Harbor's swagger.
pub const BERTH_ADDITIONS: &[(&str, &str)] = &[(
    "get",
    "/retentions/{id}/executions/{eid}/tasks/{tid}/reasons",
)];

/// The endpoints of Harbor's API v2.0 swagger that Berth does not serve, each with the reason; every other
/// path of the swagger is in the route table (`api::swagger` checks both).
pub const LEFT_OUT: &[(&str, &str, &str)] = &[
    (
        "get",
        "/internalconfig",
        "Harbor's internal configuration, read by its own components (core, jobservice); Berth is one process",
    ),
    (
        "get",
        "/projects/{project_name_or_id}/webhook/jobs",
        "deprecated since Harbor 2.2 in favour of …/webhook/policies/{id}/executions, which Berth serves",
    ),
    (
        "get",
        "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/vulnerabilities",
        "served by the general …/additions/{addition} route",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/providers",
        "P2P preheat: a project can use no provider (GET /p2p/preheat/providers answers the empty list)",
    ),
    (
        "post",
        "/p2p/preheat/instances/ping",
        "P2P preheat needs Dragonfly or Kraken, which Berth does not ship; the instance and policy lists answer empty",
    ),
    (
        "get",
        "/p2p/preheat/instances/{preheat_instance_name}",
        "P2P preheat: no instance can exist",
    ),
    (
        "put",
        "/p2p/preheat/instances/{preheat_instance_name}",
        "P2P preheat: no instance can exist",
    ),
    (
        "delete",
        "/p2p/preheat/instances/{preheat_instance_name}",
        "P2P preheat: no instance can exist",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}",
        "P2P preheat: no policy can exist",
    ),
    (
        "put",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}",
        "P2P preheat: no policy can exist",
    ),
    (
        "delete",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}",
        "P2P preheat: no policy can exist",
    ),
    (
        "post",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}",
        "P2P preheat: no policy can exist",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}/executions",
        "P2P preheat: no policy can exist",
    ),
    (
        "patch",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}/executions/{execution_id}",
        "P2P preheat: no policy can exist",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}/executions/{execution_id}",
        "P2P preheat: no policy can exist",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}/executions/{execution_id}/tasks",
        "P2P preheat: no policy can exist",
    ),
    (
        "get",
        "/projects/{project_name}/preheat/policies/{preheat_policy_name}/executions/{execution_id}/tasks/{task_id}/logs",
        "P2P preheat: no policy can exist",
    ),
];

/// Where the REST API is mounted.
pub const BASE: &str = "/api/v2.0";

/// Each row is `method "path" => handler`, optionally followed by `[...]`: [`openapi::RouteDoc`] builder calls
/// that document the row's request and response bodies, e.g. `[.body::<ProjectReq>().created()]`.
macro_rules! api_routes {
    ($( $method:ident $path:literal => $handler:path $([ $($doc:tt)* ])? ),* $(,)?) => {
        /// Every REST endpoint as `(method, path under /api/v2.0)`, in Harbor's spelling.
        pub const ENDPOINTS: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The REST routes, mounted under [`BASE`], and the OpenAPI document at `/openapi.json`.
        pub fn routes() -> Router<AppState> {
            let api = Router::new()$(.route($path, $method($handler)))*
                .fallback(|| async { ApiError::NotFound("no such API endpoint".to_owned()) })
                .layer(axum::extract::DefaultBodyLimit::max(extract::MAX_JSON_BODY_BYTES));
            Router::new()
                .nest(BASE, api)
                .route("/openapi.json", get(openapi::serve))
        }

        /// The table's rows, documented, for [`openapi::document`].
        fn route_docs() -> Vec<openapi::RouteDoc> {
            vec![$(openapi::RouteDoc::new(stringify!($method), $path, stringify!($handler)) $($($doc)*)?),*]
        }
    };
}

api_routes! {
    get "/ping" => system::ping,
    get "/health" => system::health [.ok::<OverallHealthStatus>()],
    get "/systeminfo" => system::info [.ok::<GeneralInfo>()],
    get "/systeminfo/volumes" => system::volumes [.ok::<SystemInfo>()],
    get "/systeminfo/getcert" => system::get_cert,
    get "/statistics" => statistics::get [.ok::<Statistic>()],
    get "/search" => search::search [.ok::<Search>().query("q", Type::String, "Project or repository name part, label name, or digest (sha256: and at least 12 hex digits)")],

    get "/configurations" => configurations::get [.ok::<ConfigurationsResponse>()],
    put "/configurations" => configurations::update [.body::<Configurations>()],

    post "/ldap/ping" => ldap::ping [.body::<LdapConf>().ok::<LdapPingResult>()],
    get "/ldap/users/search" => ldap::search_users [.ok::<Vec<LdapUser>>().query("username", Type::String, "A part of the uid")],
    post "/ldap/users/import" => ldap::import_users [.body::<LdapImportUsers>()],
    get "/ldap/groups/search" => ldap::search_groups [.ok::<Vec<UserGroup>>().query("groupname", Type::String, "A part of the group name").query("groupdn", Type::String, "The group's DN")],
    post "/system/oidc/ping" => oidc::ping [.body::<OidcPingReq>()],

    get "/projects" => projects::list [.list::<Project>()
        .query("name", Type::String, "Name part")
        .query("public", Type::Boolean, "Only public (true) or private (false) projects")
        .query("owner", Type::String, "The owner's username")
        .query("with_detail", Type::Boolean, "Accepted; details are always included")],
    head "/projects" => projects::exists [.query("project_name", Type::String, "The name to look for")],
    post "/projects" => projects::create [.body::<ProjectReq>().created()],
    get "/projects/{project_name_or_id}" => projects::get [.ok::<Project>()],
    put "/projects/{project_name_or_id}" => projects::update [.body::<ProjectReq>()],
    delete "/projects/{project_name_or_id}" => projects::remove,
    get "/projects/{project_name_or_id}/summary" => projects::summary [.ok::<ProjectSummary>()],
    get "/projects/{project_name_or_id}/_deletable" => projects::deletable [.ok::<ProjectDeletable>()],

    get "/projects/{project_name_or_id}/metadatas/" => project_metadata::list [.ok::<ProjectMetadata>()],
    post "/projects/{project_name_or_id}/metadatas/" => project_metadata::create [.body::<ProjectMetadata>()],
    get "/projects/{project_name_or_id}/metadatas/{meta_name}" => project_metadata::get [.ok::<ProjectMetadata>()],
    put "/projects/{project_name_or_id}/metadatas/{meta_name}" => project_metadata::update [.body::<ProjectMetadata>()],
    delete "/projects/{project_name_or_id}/metadatas/{meta_name}" => project_metadata::remove,

    get "/projects/{project_name_or_id}/immutabletagrules" => immutable::list [.list::<ImmutableRule>()],
    post "/projects/{project_name_or_id}/immutabletagrules" => immutable::create [.body::<ImmutableRule>().created()],
    put "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}" => immutable::update [.body::<ImmutableRule>()],
    delete "/projects/{project_name_or_id}/immutabletagrules/{immutable_rule_id}" => immutable::remove,

    get "/projects/{project_name_or_id}/members" => members::list [.list::<ProjectMemberEntity>().query("entityname", Type::String, "Member name part")],
    post "/projects/{project_name_or_id}/members" => members::create [.body::<ProjectMember>().created()],
    get "/projects/{project_name_or_id}/members/{mid}" => members::get [.ok::<ProjectMemberEntity>()],
    put "/projects/{project_name_or_id}/members/{mid}" => members::update [.body::<RoleRequest>()],
    delete "/projects/{project_name_or_id}/members/{mid}" => members::remove,

    get "/repositories" => repositories::list_all [.list::<Repository>()],
    get "/projects/{project_name}/repositories" => repositories::list [.list::<Repository>()],
    get "/projects/{project_name}/repositories/{repository_name}" => repositories::get [.ok::<Repository>()],
    put "/projects/{project_name}/repositories/{repository_name}" => repositories::update [.body::<Repository>()],
    delete "/projects/{project_name}/repositories/{repository_name}" => repositories::remove,

    get "/projects/{project_name_or_id}/artifacts" => artifacts::list_of_project [.list::<Artifact>()
        .query("latest_in_repository", Type::Boolean, "Only the newest artifact of each repository")
        .query("with_tag", Type::Boolean, "Include tags (default true)")
        .query("with_label", Type::Boolean, "Include labels")
        .query("with_scan_overview", Type::Boolean, "Include the scan overview")
        .query("with_sbom_overview", Type::Boolean, "Include the SBOM overview")
        .query("with_immutable_status", Type::Boolean, "Include tags' immutable status")
        .query("with_accessory", Type::Boolean, "Include accessories")
        .query("with_inherited_accessory", Type::Boolean, "Include accessories of accessories")],
    get "/projects/{project_name}/repositories/{repository_name}/artifacts" => artifacts::list [.list::<Artifact>()
        .query("with_tag", Type::Boolean, "Include tags (default true)")
        .query("with_label", Type::Boolean, "Include labels")
        .query("with_scan_overview", Type::Boolean, "Include the scan overview")
        .query("with_sbom_overview", Type::Boolean, "Include the SBOM overview")
        .query("with_immutable_status", Type::Boolean, "Include tags' immutable status")
        .query("with_accessory", Type::Boolean, "Include accessories")
        .query("with_inherited_accessory", Type::Boolean, "Include accessories of accessories")],
    post "/projects/{project_name}/repositories/{repository_name}/artifacts" => artifacts::copy [.query("from", Type::String, "The source, project/repository:tag or @digest").created()],
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}" => artifacts::get [.ok::<Artifact>()
        .query("with_tag", Type::Boolean, "Include tags (default true)")
        .query("with_label", Type::Boolean, "Include labels")
        .query("with_scan_overview", Type::Boolean, "Include the scan overview")
        .query("with_sbom_overview", Type::Boolean, "Include the SBOM overview")
        .query("with_accessory", Type::Boolean, "Include accessories")
        .query("with_inherited_accessory", Type::Boolean, "Include accessories of accessories")
        .query("with_signature", Type::Boolean, "Include the signature status")
        .query("with_immutable_status", Type::Boolean, "Include tags' immutable status")],
    delete "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}" => artifacts::remove,
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories" => artifacts::list_accessories [.list::<Accessory>()],
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}" => artifacts::addition,
    post "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan" => scan::scan [.accepted()],
    post "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/stop" => scan::stop [.accepted()],
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/{report_id}/log" => scan::log [.text().text_id("report_id")],
    post "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels" => labels::attach [.body::<Label>()],
    delete "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels/{label_id}" => labels::detach,
    get "/icons/{digest}" => icons::get [.ok::<Icon>()],

    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags" => tags::list [.list::<Tag>()
        .query("with_immutable_status", Type::Boolean, "Include the immutable status")],
    post "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags" => tags::create [.body::<Tag>().created()],
    delete "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}" => tags::remove,

    get "/projects/{project_name_or_id}/webhook/policies" => webhooks::list [.pages::<WebhookPolicy>()],
    post "/projects/{project_name_or_id}/webhook/policies" => webhooks::create [.body::<WebhookPolicy>().created()],
    get "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}" => webhooks::get [.ok::<WebhookPolicy>()],
    put "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}" => webhooks::update [.body::<WebhookPolicy>()],
    delete "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}" => webhooks::remove,
    get "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions" => webhooks::list_executions [.pages::<WebhookExecution>()],
    get "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks" => webhooks::list_tasks [.pages::<WebhookTask>()],
    get "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks/{task_id}/log" => webhooks::task_log [.text()],
    get "/projects/{project_name_or_id}/webhook/lasttrigger" => webhooks::last_trigger [.ok::<Vec<WebhookLastTrigger>>()],
    get "/projects/{project_name_or_id}/webhook/events" => webhooks::events [.ok::<SupportedWebhookEventTypes>()],

    get "/labels" => labels::list [.list::<Label>()
        .query("scope", Type::String, "g (global labels) or p (a project's labels, with project_id)")
        .query("project_id", Type::Integer, "The project of scope=p")
        .query("name", Type::String, "Name part")],
    post "/labels" => labels::create [.body::<Label>().created()],
    get "/labels/{label_id}" => labels::get [.ok::<Label>()],
    put "/labels/{label_id}" => labels::update [.body::<Label>()],
    delete "/labels/{label_id}" => labels::remove,

    get "/quotas" => quotas::list [.list::<Quota>()
        .query("reference", Type::String, "project")
        .query("reference_id", Type::String, "The project id")],
    get "/quotas/{id}" => quotas::get [.ok::<Quota>()],
    put "/quotas/{id}" => quotas::update [.body::<QuotaUpdateReq>()],

    get "/registries" => registries::list [.list::<Registry>().query("name", Type::String, "Deprecated: a substring of the name; use q")],
    post "/registries" => registries::create [.body::<Registry>().created()],
    post "/registries/ping" => registries::ping [.body::<RegistryPing>()],
    get "/registries/{id}" => registries::get [.ok::<Registry>()],
    put "/registries/{id}" => registries::update [.body::<RegistryUpdate>()],
    delete "/registries/{id}" => registries::remove,
    get "/registries/{id}/info" => registries::info [.ok::<RegistryInfo>()],
    get "/replication/adapters" => registries::adapters [.items::<String>()],
    get "/replication/adapterinfos" => replication::adapter_infos [.ok::<AdapterInfos>()],
    get "/replication/policies" => replication::list [.list::<ReplicationPolicy>().query("name", Type::String, "A part of the name")],
    post "/replication/policies" => replication::create [.body::<ReplicationPolicy>().created()],
    get "/replication/policies/{id}" => replication::get [.ok::<ReplicationPolicy>()],
    put "/replication/policies/{id}" => replication::update [.body::<ReplicationPolicy>()],
    delete "/replication/policies/{id}" => replication::remove,
    get "/replication/executions" => replication::list_executions [.pages::<ReplicationExecution>()
        .query("policy_id", Type::Integer, "The policy's executions only")
        .query("trigger", Type::String, "manual, scheduled or event_based")],
    post "/replication/executions" => replication::start [.body::<StartReplicationExecution>().created()],
    get "/replication/executions/{id}" => replication::get_execution [.ok::<ReplicationExecution>()],
    put "/replication/executions/{id}" => replication::stop,
    get "/replication/executions/{id}/tasks" => replication::list_tasks [.pages::<ReplicationTask>()
        .query("status", Type::String, "Pending, InProgress, Succeed, Failed or Stopped")
        .query("resource_type", Type::String, "artifact")],
    get "/replication/executions/{id}/tasks/{task_id}/log" => replication::task_log [.text()],

    get "/scanners" => scanners::list [.list::<ScannerRegistration>()
        .query("name", Type::String, "Deprecated: a part of the name; use q")
        .query("description", Type::String, "Deprecated: a part of the description; use q")
        .query("url", Type::String, "Deprecated: a part of the URL; use q")],
    post "/scanners" => scanners::create [.body::<ScannerRegistrationReq>().created()],
    post "/scanners/ping" => scanners::ping [.body::<ScannerRegistrationSettings>()],
    get "/scanners/{registration_id}" => scanners::get [.ok::<ScannerRegistration>().text_id("registration_id")],
    put "/scanners/{registration_id}" => scanners::update [.body::<ScannerRegistrationReq>().text_id("registration_id")],
    delete "/scanners/{registration_id}" => scanners::remove [.ok::<ScannerRegistration>().text_id("registration_id")],
    patch "/scanners/{registration_id}" => scanners::set_default [.body::<IsDefault>().text_id("registration_id")],
    get "/scanners/{registration_id}/metadata" => scanners::metadata [.ok::<ScannerAdapterMetadata>().text_id("registration_id")],
    get "/projects/{project_name_or_id}/scanner" => scanners::project_scanner [.ok::<ScannerRegistration>()],
    put "/projects/{project_name_or_id}/scanner" => scanners::set_project_scanner [.body::<ProjectScanner>()],
    get "/projects/{project_name_or_id}/scanner/candidates" => scanners::candidates [.list::<ScannerRegistration>()],
    get "/system/CVEAllowlist" => scanners::system_allowlist [.ok::<CveAllowlist>()],
    put "/system/CVEAllowlist" => scanners::put_system_allowlist [.body::<CveAllowlist>()],

    get "/robots" => robots::list [.list::<Robot>()],
    post "/robots" => robots::create [.body::<RobotCreate>().created_with::<RobotCreated>()],
    get "/robots/{robot_id}" => robots::get [.ok::<Robot>()],
    put "/robots/{robot_id}" => robots::update [.body::<RobotCreate>()],
    patch "/robots/{robot_id}" => robots::refresh [.body::<RobotSec>().ok::<RobotSec>()],
    delete "/robots/{robot_id}" => robots::remove,

    get "/users" => users::list [.list::<UserResp>()],
    post "/users" => users::create [.body::<UserCreationReq>().created()],
    get "/users/current" => users::current [.ok::<UserResp>()],
    get "/users/current/permissions" => users::permissions [.items::<Permission>()
        .query("scope", Type::String, "/system or /project/{id}")
        .query("relative", Type::Boolean, "Resources relative to the scope")],
    get "/permissions" => permissions::list [.ok::<Permissions>()],
    get "/users/search" => users::search [.list::<UserSearchRespItem>().query("username", Type::String, "Name part")],
    get "/users/{user_id}" => users::get [.ok::<UserResp>()],
    put "/users/{user_id}" => users::update [.body::<UserProfile>()],
    delete "/users/{user_id}" => users::remove,
    put "/users/{user_id}/password" => users::update_password [.body::<PasswordReq>()],
    put "/users/{user_id}/sysadmin" => users::set_sysadmin [.body::<UserSysAdminFlag>()],
    put "/users/{user_id}/cli_secret" => users::set_cli_secret [.body::<OidcCliSecretReq>()],

    get "/usergroups" => usergroups::list [.list::<UserGroup>()
        .query("group_name", Type::String, "Name part")
        .query("ldap_group_dn", Type::String, "The LDAP group DN")],
    post "/usergroups" => usergroups::create [.body::<UserGroup>().created()],
    get "/usergroups/search" => usergroups::search [.list::<UserGroupSearchItem>().query("groupname", Type::String, "Name part")],
    get "/usergroups/{group_id}" => usergroups::get [.ok::<UserGroup>()],
    put "/usergroups/{group_id}" => usergroups::update [.body::<UserGroup>()],
    delete "/usergroups/{group_id}" => usergroups::remove,

    get "/audit-logs" => audit::list [.list::<AuditLog>()],
    get "/projects/{project_name}/logs" => audit::list_project [.list::<AuditLog>()],
    get "/auditlog-exts" => audit::list_ext [.list::<AuditLogExt>()],
    get "/auditlog-exts/events" => audit::event_types [.items::<AuditLogEventType>()],
    get "/projects/{project_name}/auditlog-exts" => audit::list_project_ext [.list::<AuditLogExt>()],

    get "/p2p/preheat/providers" => preheat::providers [.items::<ProviderMetadata>()],
    get "/p2p/preheat/instances" => preheat::instances [.list::<Instance>()],
    post "/p2p/preheat/instances" => preheat::create_instance [.body::<Instance>().created()],
    get "/projects/{project_name}/preheat/policies" => preheat::policies [.list::<PreheatPolicy>()],
    post "/projects/{project_name}/preheat/policies" => preheat::create_policy [.body::<PreheatPolicy>().created()],

    get "/system/gc" => gc::list [.pages::<ExecHistory>()],
    get "/system/gc/schedule" => gc::get_schedule [.ok::<ExecHistory>()],
    post "/system/gc/schedule" => gc::create_schedule [.body::<Schedule>().created()],
    put "/system/gc/schedule" => gc::update_schedule [.body::<Schedule>()],
    get "/system/gc/{gc_id}" => gc::get [.ok::<ExecHistory>()],
    put "/system/gc/{gc_id}" => gc::stop_run,
    get "/system/gc/{gc_id}/log" => gc::log [.text()],
    get "/system/scanAll/schedule" => scan_all::get_schedule [.ok::<Schedule>()],
    post "/system/scanAll/schedule" => scan_all::create_schedule [.body::<Schedule>().created()],
    put "/system/scanAll/schedule" => scan_all::update_schedule [.body::<Schedule>()],
    post "/system/scanAll/stop" => scan_all::stop [.accepted()],
    get "/scans/all/metrics" => scan_all::metrics [.ok::<Stats>()],
    get "/scans/schedule/metrics" => scan_all::schedule_metrics [.ok::<Stats>()],
    get "/security/summary" => security_hub::summary [.ok::<SecuritySummary>()
        .query("with_dangerous_cve", Type::Boolean, "Include the five most dangerous CVEs")
        .query("with_dangerous_artifact", Type::Boolean, "Include the five most dangerous artifacts")],
    get "/security/vul" => security_hub::list [.pages::<HubVulnerabilityItem>()
        .query("q", Type::String, "Exact cve_id, severity, repository_name, project_id, package, tag, digest; cvss_score_v3=[min~max]")
        .query("tune_count", Type::Boolean, "X-Total-Count is -1 past 1000 matches")
        .query("with_tag", Type::Boolean, "Include up to ten tags of each artifact")],
    post "/export/cve" => scan_export::start [.body::<ScanDataExportRequest>().ok::<ScanDataExportJob>()],
    get "/export/cve/executions" => scan_export::list [.ok::<ScanDataExportExecutionList>()],
    get "/export/cve/execution/{execution_id}" => scan_export::get [.ok::<ScanDataExportExecution>()],
    get "/export/cve/download/{execution_id}" => scan_export::download [.csv()],
    get "/system/purgeaudit" => purgeaudit::list [.pages::<ExecHistory>()],
    get "/system/purgeaudit/schedule" => purgeaudit::get_schedule [.ok::<ExecHistory>()],
    post "/system/purgeaudit/schedule" => purgeaudit::create_schedule [.body::<Schedule>().created()],
    put "/system/purgeaudit/schedule" => purgeaudit::update_schedule [.body::<Schedule>()],
    get "/system/purgeaudit/{purge_id}" => purgeaudit::get [.ok::<ExecHistory>()],
    put "/system/purgeaudit/{purge_id}" => purgeaudit::stop_run,
    get "/system/purgeaudit/{purge_id}/log" => purgeaudit::log [.text()],

    get "/retentions/metadatas" => retentions::metadatas [.ok::<RetentionMetadata>()],
    post "/retentions" => retentions::create [.body::<RetentionPolicy>().created()],
    get "/retentions/{id}" => retentions::get [.ok::<RetentionPolicy>()],
    put "/retentions/{id}" => retentions::update [.body::<RetentionPolicy>()],
    delete "/retentions/{id}" => retentions::remove,
    post "/retentions/{id}/executions" => retentions::trigger [.body::<RetentionRun>().created()],
    get "/retentions/{id}/executions" => retentions::list_executions [.pages::<RetentionExecution>()],
    patch "/retentions/{id}/executions/{eid}" => retentions::operate [.body::<RetentionExecutionAction>()],
    get "/retentions/{id}/executions/{eid}/tasks" => retentions::list_tasks [.pages::<RetentionExecutionTask>()],
    get "/retentions/{id}/executions/{eid}/tasks/{tid}" => retentions::task_log [.text()],
    get "/retentions/{id}/executions/{eid}/tasks/{tid}/reasons" => retentions::task_reasons [.pages::<RetentionReason>()
        .addition("Berth's addition: each tag's (and untagged artifact's) fate in the task, and why")],

    get "/jobservice/pools" => jobservice::pools [.items::<WorkerPool>()],
    get "/jobservice/pools/{pool_id}/workers" => jobservice::workers [.items::<Worker>().text_id("pool_id")],
    put "/jobservice/jobs/{job_id}" => jobservice::stop_job [.text_id("job_id")],
    get "/jobservice/jobs/{job_id}/log" => jobservice::job_log [.text().text_id("job_id")],
    get "/jobservice/queues" => jobservice::queues [.items::<JobQueue>()],
    put "/jobservice/queues/{job_type}" => jobservice::queue_action [.body::<ActionRequest>()],
    get "/schedules" => jobservice::schedules [.pages::<ScheduleTask>()],
    get "/schedules/{job_type}/paused" => jobservice::schedule_paused [.ok::<SchedulerStatus>()],
}
