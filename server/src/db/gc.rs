//! Garbage collection's queries (`crate::gc`). Every deletion is decided by a statement that re-checks its
//! condition, so concurrent pushes are never undone: a stale link is removed only if it is still stale and
//! still unreferenced, a blob is claimed (`live` → `deleting`) only if nothing links or references it and
//! nothing linked it since the grace cutoff, an orphan file is claimed by inserting a `deleting` row only
//! if no row exists. Link paths touch a blob's row with `WHERE state = 'live'` first
//! ([`super::blobs::claim_for_link`]), which makes links and claims exclusive on SQLite (one writer) and on
//! PostgreSQL under READ COMMITTED (the row lock, then the re-checked `linked_at`). Every batch is its own
//! short transaction.

use std::collections::HashSet;

use super::Db;
use super::quota;

/// A blob row's states (migration 0020).
pub const LIVE: &str = "live";
pub const DELETING: &str = "deleting";

/// A blob garbage collection deletes (or, in a dry run, would delete).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GcBlob {
    pub digest: String,
    pub size: i64,
}

/// A link from a repository to a blob that nothing there references.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaleLink {
    pub repository_id: i64,
    pub project_id: i64,
    pub digest: String,
}

/// One batch of stale links: those removed (or, in a dry run, found), and where the next batch starts.
#[derive(Debug, Default)]
pub struct UnlinkBatch {
    pub unlinked: Vec<StaleLink>,
    /// `(repository_id, digest)` after which to continue, `None` when this was the last batch.
    pub next: Option<(i64, String)>,
}

/// An untagged artifact that nothing needs: no tag, no index in its repository lists it, and no tagged
/// artifact has it as subject.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UntaggedArtifact {
    pub id: i64,
    pub project_id: i64,
    pub repository: String,
    pub digest: String,
    pub size: i64,
}

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A blob is unreferenced when no artifact lists it and no repository links it.
const UNREFERENCED: &str = "NOT EXISTS (SELECT 1 FROM artifact_blobs ab WHERE ab.digest = b.digest)
     AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)";

impl Db {
    /// Blobs left `deleting` by an interrupted collection, from digest `after`, at most `limit`.
    pub async fn gc_deleting_blobs(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<GcBlob>, sqlx::Error> {
        sqlx::query_as(
            "SELECT digest, size FROM blobs WHERE state = $1 AND digest > $2 ORDER BY digest LIMIT $3",
        )
        .bind(DELETING)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// Removes the rows of blobs in `digests` that are `deleting` (their files are gone).
    pub async fn gc_forget_blobs(&self, digests: &[String]) -> Result<u64, sqlx::Error> {
        if digests.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM blobs WHERE state = $1 AND digest IN ({})",
            placeholders(2, digests.len())
        );
        let mut query = sqlx::query(&sql).bind(DELETING);
        for d in digests {
            query = query.bind(d);
        }
        Ok(query.execute(&self.write).await?.rows_affected())
    }

    /// Links older than `cutoff` that no artifact of their repository references, after `after`
    /// (`(repository_id, digest)`), at most `limit`. Unless `dry_run`, each is removed by a statement that
    /// re-checks both conditions (a manifest push touching the link meanwhile keeps it) and its project's
    /// quota is released when the project no longer uses the blob; one transaction per batch.
    ///
    /// `+a.repository_id` keeps the planner off the artifacts-by-repository index: the reference check must go
    /// from the blob's digest (few artifacts) rather than scan the repository's artifacts for each link (with
    /// 100,000 artifacts in one repository that took 200 s for one batch, and a read that long stops SQLite
    /// from recycling its write-ahead log).
    pub async fn gc_unlink_stale(
        &self,
        cutoff: &str,
        after: &(i64, String),
        limit: i64,
        dry_run: bool,
    ) -> Result<UnlinkBatch, sqlx::Error> {
        let found: Vec<StaleLink> = sqlx::query_as(
            "SELECT rb.repository_id, r.project_id, rb.digest
             FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
             WHERE (rb.repository_id, rb.digest) > ($1, $2)
               AND rb.created_at < $3
               AND NOT EXISTS (SELECT 1 FROM artifact_blobs ab JOIN artifacts a ON a.id = ab.artifact_id
                               WHERE ab.digest = rb.digest AND +a.repository_id = rb.repository_id)
             ORDER BY rb.repository_id, rb.digest LIMIT $4",
        )
        .bind(after.0)
        .bind(&after.1)
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let next = (found.len() as i64 >= limit)
            .then(|| found.last().map(|l| (l.repository_id, l.digest.clone())))
            .flatten();
        if dry_run || found.is_empty() {
            return Ok(UnlinkBatch {
                unlinked: found,
                next,
            });
        }
        let unlinked =
            super::retrying_conflicts("unlinking stale blobs", || self.gc_unlink(cutoff, &found))
                .await?;
        Ok(UnlinkBatch { unlinked, next })
    }

    /// Deletes the links of `found` that are still stale, releasing their projects' charges, in one
    /// transaction. The projects' rows are locked first, in order, as pushes lock their project first.
    async fn gc_unlink(
        &self,
        cutoff: &str,
        found: &[StaleLink],
    ) -> Result<Vec<StaleLink>, sqlx::Error> {
        let mut unlinked = Vec::with_capacity(found.len());
        let mut tx = self.write.begin().await?;
        let projects: std::collections::BTreeSet<i64> =
            found.iter().map(|l| l.project_id).collect();
        for project_id in projects {
            quota::lock_project(&mut tx, project_id).await?;
        }
        for link in found {
            let done = sqlx::query(
                "DELETE FROM repository_blobs
                 WHERE repository_id = $1 AND digest = $2 AND created_at < $3
                   AND NOT EXISTS (SELECT 1 FROM artifact_blobs ab JOIN artifacts a ON a.id = ab.artifact_id
                                   WHERE ab.digest = $2 AND +a.repository_id = $1)",
            )
            .bind(link.repository_id)
            .bind(&link.digest)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                quota::release_if_unused(&mut tx, link.project_id, &link.digest).await?;
                unlinked.push(link.clone());
            }
        }
        tx.commit().await?;
        Ok(unlinked)
    }

    /// Live blobs after digest `after` (at most `limit`) that nothing links or references and nothing linked
    /// since `cutoff`. With `dry_run`, links older than `cutoff` that no artifact references are counted as
    /// gone, as the real run's unlink phase removes them first: the dry run then names the same blobs.
    pub async fn gc_unreferenced_blobs(
        &self,
        cutoff: &str,
        after: &str,
        limit: i64,
        dry_run: bool,
    ) -> Result<Vec<GcBlob>, sqlx::Error> {
        let links = if dry_run {
            "NOT EXISTS (SELECT 1 FROM artifact_blobs ab WHERE ab.digest = b.digest)
             AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND rb.created_at >= $1)"
        } else {
            UNREFERENCED
        };
        sqlx::query_as(&format!(
            "SELECT b.digest, b.size FROM blobs b
             WHERE b.digest > $2 AND b.state = 'live' AND b.linked_at < $1 AND {links}
             ORDER BY b.digest LIMIT $3"
        ))
        .bind(cutoff)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// Claims blobs among `digests` for deletion (`live` → `deleting`) if they are still unreferenced and were
    /// not linked since `cutoff`, in one statement; returns those claimed. Only a claimed blob's file may be
    /// deleted.
    pub async fn gc_claim_blobs(
        &self,
        cutoff: &str,
        digests: &[String],
    ) -> Result<Vec<GcBlob>, sqlx::Error> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE blobs AS b SET state = $1
             WHERE b.digest IN ({}) AND b.state = 'live' AND b.linked_at < $2 AND {UNREFERENCED}
             RETURNING digest, size",
            placeholders(3, digests.len())
        );
        super::retrying_conflicts("claiming blobs for deletion", || {
            let mut query = sqlx::query_as(&sql).bind(DELETING).bind(cutoff);
            for d in digests {
                query = query.bind(d);
            }
            query.fetch_all(&self.write)
        })
        .await
    }

    /// Which of `digests` have a blob row, in any state.
    pub async fn gc_recorded(&self, digests: &[String]) -> Result<HashSet<String>, sqlx::Error> {
        if digests.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT digest FROM blobs WHERE digest IN ({})",
            placeholders(1, digests.len())
        );
        let mut query = sqlx::query_scalar(&sql);
        for d in digests {
            query = query.bind(d);
        }
        Ok(query.fetch_all(&self.read).await?.into_iter().collect())
    }

    /// Claims files of the store that have no row: records each of `orphans` (digest, size) as `deleting`
    /// unless a row appeared meanwhile (an upload committing it); returns those claimed.
    pub async fn gc_claim_orphans(&self, orphans: &[GcBlob]) -> Result<Vec<GcBlob>, sqlx::Error> {
        let now = super::now();
        let mut claimed = Vec::new();
        let mut tx = self.write.begin().await?;
        for orphan in orphans {
            let done = sqlx::query(
                "INSERT INTO blobs (digest, size, created_at, linked_at, state) VALUES ($1, $2, $3, $3, $4)
                 ON CONFLICT (digest) DO NOTHING",
            )
            .bind(&orphan.digest)
            .bind(orphan.size)
            .bind(&now)
            .bind(DELETING)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                claimed.push(orphan.clone());
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Untagged artifacts nothing needs, with ids above `after`, at most `limit`: no tag, no index of their
    /// repository lists them, and no tagged artifact of their repository has them as subject.
    pub async fn gc_untagged_artifacts(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<UntaggedArtifact>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id, r.project_id, r.name AS repository, a.digest, a.size
             FROM artifacts a JOIN repositories r ON r.id = a.repository_id
             WHERE a.id > $1
               AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)
               AND NOT EXISTS (SELECT 1 FROM artifact_children ch JOIN artifacts p ON p.id = ch.parent_id
                               WHERE p.repository_id = a.repository_id AND ch.child_digest = a.digest)
               AND NOT EXISTS (SELECT 1 FROM artifacts s JOIN tags st ON st.artifact_id = s.id
                               WHERE s.repository_id = a.repository_id AND s.subject_digest = a.digest)
               AND (a.subject_digest IS NULL
                    OR NOT EXISTS (SELECT 1 FROM artifacts p WHERE p.repository_id = a.repository_id
                                                             AND p.digest = a.subject_digest))
             ORDER BY a.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}

impl Db {
    /// Every blob row as `(digest, state)`, in digest order: for consistency checks (tests, the benchmark).
    /// Reads the whole table; not for the request path.
    pub async fn blob_states(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT digest, state FROM blobs ORDER BY digest")
            .fetch_all(&self.read)
            .await
    }
}
