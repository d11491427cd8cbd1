//! The size and free space of the filesystem holding a directory, for `GET /systeminfo/volumes`.

use std::path::Path;

/// A filesystem's size and the space an unprivileged process may still use, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub total: u64,
    pub free: u64,
}

/// The capacity of the filesystem that holds `path` (statvfs).
pub fn capacity(path: &Path) -> std::io::Result<Capacity> {
    let stat = rustix::fs::statvfs(path)?;
    let block = stat.f_frsize;
    Ok(Capacity {
        total: stat.f_blocks.saturating_mul(block),
        free: stat.f_bavail.saturating_mul(block),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_has_the_capacity_of_its_filesystem() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let found = capacity(dir.path())?;
        assert!(found.total > 0);
        assert!(found.free <= found.total);
        assert!(capacity(&dir.path().join("missing")).is_err());
        Ok(())
    }
}
