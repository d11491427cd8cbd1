//! Quotas: Harbor's `Quota`, `QuotaUpdateReq` and `ResourceList`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `ResourceList`: amounts by resource; Berth has `storage` (bytes, -1 for unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResourceList {
    pub storage: i64,
}

/// What a quota belongs to: its project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuotaRef {
    pub id: i64,
    pub name: String,
    pub owner_name: String,
}

/// Harbor's `Quota`. Berth keeps one per project; its id is the project id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Quota {
    pub id: i64,
    #[serde(rename = "ref")]
    pub reference: QuotaRef,
    pub hard: ResourceList,
    pub used: ResourceList,
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `QuotaUpdateReq`: the body of `PUT /quotas/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuotaUpdateReq {
    pub hard: ResourceList,
}
