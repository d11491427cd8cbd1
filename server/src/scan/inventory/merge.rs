//! Stacks the layers of an image into its inventory, as an overlay filesystem would: in layer order, a file
//! written by a later layer replaces the earlier one (dpkg `status`, apk `installed` and `rpmdb.sqlite` are whole
//! files, so the last writer wins), a whiteout deletes a path and everything under it from the lower layers, and
//! an opaque directory hides all their files under it.
//!
//! Known gap: a layer records only the files it read (and links or skipped files at the paths analyzers read),
//! so a Go or cargo-auditable binary replaced in a later layer by a file that yields no packages (a script, a
//! stripped rebuild) still shows its lower layer's packages; a whiteout or a new binary at that path is honoured.

use std::collections::BTreeMap;

use crate::scan::model::{Inventory, OsIdentity};

use super::paths::OS_FILES;
use super::{FileContent, LayerInventory};

/// The image's inventory from its layers, lowest first, each with its digest. Each package records the digest of
/// the layer that last wrote its file. The OS identity comes from the most authoritative OS file left in the
/// merged filesystem (`etc/os-release`, then `usr/lib/os-release`, then the one-line fallbacks); a link is not
/// followed (Debian's `etc/os-release` links to `usr/lib/os-release`, the next candidate).
pub fn merge(layers: &[(String, LayerInventory)]) -> Inventory {
    let mut files: BTreeMap<&str, (&str, &FileContent)> = BTreeMap::new();
    for (digest, layer) in layers {
        for dir in &layer.opaque_dirs {
            remove_under(&mut files, dir, false);
        }
        for path in &layer.whiteouts {
            remove_under(&mut files, path, true);
        }
        for file in &layer.files {
            files.insert(&file.path, (digest, &file.content));
        }
    }
    let os = OS_FILES.iter().find_map(|path| match files.get(path) {
        Some((_, FileContent::Os(os))) => Some(os.clone()),
        _ => None,
    });
    let packages = files
        .values()
        .flat_map(|(digest, content)| {
            let packages = match content {
                FileContent::Packages(packages) => packages.as_slice(),
                _ => &[],
            };
            packages.iter().map(move |p| {
                let mut p = p.clone();
                p.layer = (*digest).to_owned();
                p
            })
        })
        .collect();
    Inventory { os, packages }
}

/// Removes the files under `dir` (and `dir` itself when `itself`); an empty `dir` is the root.
fn remove_under<V>(files: &mut BTreeMap<&str, V>, dir: &str, itself: bool) {
    if dir.is_empty() {
        files.clear();
        return;
    }
    if itself {
        files.remove(dir);
    }
    let start = format!("{dir}/");
    // '0' is the character after '/': the range holds exactly the paths that start with `dir/`.
    let end = format!("{dir}0");
    let doomed: Vec<&str> = files
        .range::<str, _>((
            std::ops::Bound::Included(start.as_str()),
            std::ops::Bound::Excluded(end.as_str()),
        ))
        .map(|(k, _)| *k)
        .collect();
    for key in doomed {
        files.remove(key);
    }
}

/// The OS identity a single layer's files name, by the same precedence as [`merge`].
pub fn layer_os(layer: &LayerInventory) -> Option<OsIdentity> {
    OS_FILES.iter().find_map(|path| {
        layer.files.iter().find_map(|f| match &f.content {
            FileContent::Os(os) if f.path == *path => Some(os.clone()),
            _ => None,
        })
    })
}
