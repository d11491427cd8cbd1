//! Artifacts (manifests), tags, referrers and the catalog.

use bytes::Bytes;
use sqlx::AnyConnection;

use crate::immutable::TagLocked;

use super::Db;
use super::artifact_rows::refresh_listing;
use super::blobs::ensure_repository;
use super::immutable::{GuardedError, refuse_locked};
use super::quota::{self, ChargeError, QuotaExceeded};

/// A manifest to store, already parsed and verified against its digest.
#[derive(Debug, Clone)]
pub struct NewArtifact<'a> {
    pub project_id: i64,
    pub repository: &'a str,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// JSON object of the manifest's annotations.
    pub annotations: Option<String>,
    pub content: &'a [u8],
    /// Config and layer digests; each must already be linked to the repository.
    pub blobs: &'a [String],
    /// Child manifest digests of an index; each must already be in the repository.
    pub children: &'a [String],
    pub tag: Option<&'a str>,
    /// Fetched from a proxy-cache upstream: its blobs and children are fetched when clients ask for them, so
    /// they need not be present yet.
    pub proxied: bool,
}

/// Why a manifest could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PutManifestError {
    #[error("blob {0} is not in the repository")]
    MissingBlob(String),
    #[error("manifest {0} is not in the repository")]
    MissingManifest(String),
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// The tag exists on another digest and an immutable tag rule locks it.
    #[error(transparent)]
    Immutable(#[from] TagLocked),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<GuardedError> for PutManifestError {
    fn from(error: GuardedError) -> Self {
        match error {
            GuardedError::Locked(locked) => PutManifestError::Immutable(locked),
            GuardedError::Db(e) => PutManifestError::Db(e),
        }
    }
}

/// A stored manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub digest: String,
    pub media_type: String,
    pub content: Bytes,
}

/// A manifest whose `subject` is a given digest.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Referrer {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

impl super::TransientConflict for PutManifestError {
    fn is_transient_conflict(&self) -> bool {
        matches!(self, PutManifestError::Db(e) if super::is_transient_conflict(e))
    }
}

impl Db {
    /// Stores a manifest, its references and its tag in one transaction, after checking that every
    /// referenced blob and child manifest is present in the repository, and that the tag, if it names another
    /// digest now, is not locked by an immutable tag rule. Proxy-cache writes follow their upstream and are
    /// not checked (as in Harbor, whose cache writes bypass its immutability middleware).
    pub async fn put_manifest(&self, a: &NewArtifact<'_>) -> Result<(), PutManifestError> {
        super::retrying_conflicts("storing a manifest", || self.put_manifest_once(a)).await
    }

    async fn put_manifest_once(&self, a: &NewArtifact<'_>) -> Result<(), PutManifestError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        quota::lock_project(&mut tx, a.project_id).await?;
        let repository_id = ensure_repository(&mut tx, a.project_id, a.repository).await?;
        if let (Some(tag), false) = (a.tag, a.proxied) {
            let current: Option<String> = sqlx::query_scalar(
                "SELECT a.digest FROM tags t JOIN artifacts a ON a.id = t.artifact_id
                 WHERE t.repository_id = $1 AND t.name = $2",
            )
            .bind(repository_id)
            .bind(tag)
            .fetch_optional(&mut *tx)
            .await?;
            if current.is_some_and(|digest| digest != a.digest) {
                refuse_locked(&mut tx, self, a.project_id, a.repository, &[tag.to_owned()]).await?;
            }
        }
        let required: &[String] = if a.proxied { &[] } else { a.blobs };
        for digest in required {
            // Touching the link and the blob (rather than reading them) takes their row locks on PostgreSQL:
            // garbage collection's conditional unlink and claim then wait for this push and see it, and a blob
            // garbage collection already claimed is missing here (the client uploads it again).
            let linked = sqlx::query(
                "UPDATE repository_blobs SET created_at = $3 WHERE repository_id = $1 AND digest = $2
                   AND EXISTS (SELECT 1 FROM blobs b WHERE b.digest = $2 AND b.state = 'live')",
            )
            .bind(repository_id)
            .bind(digest)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            let live =
                sqlx::query("UPDATE blobs SET linked_at = $2 WHERE digest = $1 AND state = 'live'")
                    .bind(digest)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            if linked.rows_affected() == 0 || live.rows_affected() == 0 {
                return Err(PutManifestError::MissingBlob(digest.clone()));
            }
        }
        let required: &[String] = if a.proxied { &[] } else { a.children };
        for digest in required {
            let present: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM artifacts WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repository_id)
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await?;
            if present.is_none() {
                return Err(PutManifestError::MissingManifest(digest.clone()));
            }
        }
        quota::charge(&mut tx, a.project_id, a.digest, a.content.len() as i64)
            .await
            .map_err(|e| match e {
                ChargeError::Quota(q) => PutManifestError::Quota(q),
                ChargeError::BlobDeleting(d) => PutManifestError::MissingBlob(d),
                ChargeError::Db(e) => PutManifestError::Db(e),
            })?;
        let artifact_id: i64 = sqlx::query_scalar(
            "INSERT INTO artifacts (repository_id, digest, media_type, artifact_type, subject_digest, annotations,
                                    size, content, push_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (repository_id, digest) DO UPDATE SET push_time = excluded.push_time
             RETURNING id",
        )
        .bind(repository_id)
        .bind(a.digest)
        .bind(a.media_type)
        .bind(a.artifact_type)
        .bind(a.subject)
        .bind(&a.annotations)
        .bind(a.content.len() as i64)
        .bind(a.content)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        for digest in a.blobs {
            sqlx::query("INSERT INTO artifact_blobs (artifact_id, digest) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(artifact_id)
                .bind(digest)
                .execute(&mut *tx)
                .await?;
        }
        for digest in a.children {
            sqlx::query(
                "INSERT INTO artifact_children (parent_id, child_digest) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(artifact_id)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(tag) = a.tag {
            sqlx::query(
                "INSERT INTO tags (repository_id, name, artifact_id, push_time) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (repository_id, name) DO UPDATE SET artifact_id = excluded.artifact_id,
                                                                 push_time = excluded.push_time",
            )
            .bind(repository_id)
            .bind(tag)
            .bind(artifact_id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        refresh_listing(&mut tx, repository_id, &[a.digest.to_owned()]).await?;
        tx.commit().await?;
        if let Some(tag) = a.tag {
            self.tagged_manifests
                .invalidate(&(a.repository.to_owned(), tag.to_owned()));
        }
        Ok(())
    }

    /// The manifest tagged `tag` in `repository`. Cached: see [`super::cache`].
    pub async fn manifest_by_tag(
        &self,
        repository: &str,
        tag: &str,
    ) -> Result<Option<Manifest>, sqlx::Error> {
        let key = (repository.to_owned(), tag.to_owned());
        if let Some(manifest) = self.tagged_manifests.get(&key) {
            return Ok(Some(manifest));
        }
        let generation = self.tagged_manifests.generation();
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT a.digest, a.media_type, a.content FROM tags t
             JOIN repositories r ON r.id = t.repository_id
             JOIN artifacts a ON a.id = t.artifact_id
             WHERE r.name = $1 AND t.name = $2",
        )
        .bind(repository)
        .bind(tag)
        .fetch_optional(&self.read)
        .await?;
        let manifest = row.map(into_manifest);
        if let Some(manifest) = &manifest {
            self.tagged_manifests
                .insert(key, manifest.clone(), generation);
        }
        Ok(manifest)
    }

    /// The manifest `digest` in `repository`.
    pub async fn manifest_by_digest(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<Manifest>, sqlx::Error> {
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT a.digest, a.media_type, a.content FROM artifacts a
             JOIN repositories r ON r.id = a.repository_id
             WHERE r.name = $1 AND a.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(into_manifest))
    }

    /// Deletes manifest `digest` and every tag on it; returns whether it existed. The blobs it referenced that
    /// no other artifact of the project references are unlinked, and the project's quota gives them back.
    /// Refused when an immutable tag rule locks one of its tags.
    pub async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<bool, GuardedError> {
        let mut tx = self.write.begin().await?;
        quota::lock_project_of(&mut tx, repository).await?;
        let deleted = delete_manifest_in(&mut tx, self, repository, digest).await?;
        if !deleted {
            return Ok(false);
        }
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| repo == repository);
        Ok(true)
    }

    /// Deletes tag `tag`, leaving its manifest; returns whether it existed. Refused when an immutable tag
    /// rule locks it.
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool, GuardedError> {
        let mut tx = self.write.begin().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.project_id FROM tags t JOIN repositories r ON r.id = t.repository_id
             WHERE r.name = $1 AND t.name = $2",
        )
        .bind(repository)
        .bind(tag)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((repository_id, project_id)) = found else {
            return Ok(false);
        };
        refuse_locked(&mut tx, self, project_id, repository, &[tag.to_owned()]).await?;
        sqlx::query("DELETE FROM tags WHERE repository_id = $1 AND name = $2")
            .bind(repository_id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.tagged_manifests
            .invalidate(&(repository.to_owned(), tag.to_owned()));
        Ok(true)
    }

    /// Up to `limit` tags of `repository` after `last`, in lexical order; `None` if the repository is unknown.
    pub async fn list_tags(
        &self,
        repository: &str,
        last: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<String>>, sqlx::Error> {
        let repository_id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM repositories WHERE name = $1")
                .bind(repository)
                .fetch_optional(&self.read)
                .await?;
        let Some(repository_id) = repository_id else {
            return Ok(None);
        };
        let tags = sqlx::query_scalar(
            "SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(repository_id)
        .bind(last.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(tags))
    }

    /// Manifests in `repository` whose subject is `subject`, optionally of one artifact type.
    pub async fn referrers(
        &self,
        repository: &str,
        subject: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Referrer>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.digest, a.media_type, a.size, a.artifact_type, a.annotations FROM artifacts a
             JOIN repositories r ON r.id = a.repository_id
             WHERE r.name = $1 AND a.subject_digest = $2 AND ($3 IS NULL OR a.artifact_type = $3)
             ORDER BY a.push_time, a.digest",
        )
        .bind(repository)
        .bind(subject)
        .bind(artifact_type)
        .fetch_all(&self.read)
        .await
    }

    /// Up to `limit` names of repositories holding at least one manifest, after `last`, in lexical order.
    /// `project_ids` limits the result to those projects; `None` means every project.
    pub async fn catalog(
        &self,
        last: Option<&str>,
        limit: i64,
        project_ids: Option<&[i64]>,
    ) -> Result<Vec<String>, sqlx::Error> {
        let projects = project_ids.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        sqlx::query_scalar(
            "SELECT r.name FROM repositories r
             WHERE r.name > $1
               AND EXISTS (SELECT 1 FROM artifacts a WHERE a.repository_id = r.id)
               AND ($2 IS NULL OR r.project_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)))
             ORDER BY r.name LIMIT $3",
        )
        .bind(last.unwrap_or(""))
        .bind(projects)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}

/// An artifact to copy into another repository, with its blobs and (for an index) its children.
#[derive(Debug, Clone, Copy)]
pub struct CopyArtifact<'a> {
    pub source_repository_id: i64,
    pub digest: &'a str,
    pub target_project_id: i64,
    pub target_repository: &'a str,
    /// Tags the copy gets in the target repository; a tag there already is moved to the copy.
    pub tags: &'a [String],
}

/// Why an artifact could not be copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("artifact {0} is not in the source repository")]
    SourceGone(String),
    #[error("artifact {0} is already in the target repository")]
    AlreadyThere(String),
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// A tag of the target repository would move to the copy, and an immutable tag rule locks it.
    #[error(transparent)]
    Immutable(#[from] TagLocked),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<GuardedError> for CopyError {
    fn from(error: GuardedError) -> Self {
        match error {
            GuardedError::Locked(locked) => CopyError::Immutable(locked),
            GuardedError::Db(e) => CopyError::Db(e),
        }
    }
}

impl From<ChargeError> for CopyError {
    fn from(error: ChargeError) -> Self {
        match error {
            ChargeError::Quota(q) => CopyError::Quota(q),
            ChargeError::BlobDeleting(d) => CopyError::SourceGone(d),
            ChargeError::Db(e) => CopyError::Db(e),
        }
    }
}

/// What deleting an artifact through the REST API did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteArtifact {
    Deleted,
    NotFound,
    /// Refused: an index in the repository still references it (its digest).
    ReferencedBy(String),
    /// Refused: an immutable tag rule locks a tag of it (or of an accessory deleted with it).
    Immutable(TagLocked),
}

/// How many artifacts one copy or delete may touch: a bound on malformed graphs, far above real indexes.
const MAX_ARTIFACT_TREE: usize = 10_000;

impl Db {
    /// Copies artifact `c.digest` — its manifest, the links to its blobs, its accessories and, for an index,
    /// its children — into `c.target_repository` (created if needed), charging the target project's quota, in
    /// one transaction, as Harbor does. Refused if the target already holds the artifact; children and
    /// accessories it already holds are kept as they are. Over the quota nothing is written, nor when a tag
    /// of the target that names another artifact is locked by an immutable tag rule.
    pub async fn copy_artifact(&self, c: &CopyArtifact<'_>) -> Result<(), CopyError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        quota::lock_project(&mut tx, c.target_project_id).await?;
        let target_id =
            ensure_repository(&mut tx, c.target_project_id, c.target_repository).await?;
        let present: Option<i64> =
            sqlx::query_scalar("SELECT id FROM artifacts WHERE repository_id = $1 AND digest = $2")
                .bind(target_id)
                .bind(c.digest)
                .fetch_optional(&mut *tx)
                .await?;
        if present.is_some() {
            return Err(CopyError::AlreadyThere(c.digest.to_owned()));
        }
        let mut moving = Vec::new();
        for tag in c.tags {
            let elsewhere: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM tags t JOIN artifacts a ON a.id = t.artifact_id
                 WHERE t.repository_id = $1 AND t.name = $2 AND a.digest <> $3",
            )
            .bind(target_id)
            .bind(tag)
            .bind(c.digest)
            .fetch_optional(&mut *tx)
            .await?;
            if elsewhere.is_some() {
                moving.push(tag.clone());
            }
        }
        refuse_locked(
            &mut tx,
            self,
            c.target_project_id,
            c.target_repository,
            &moving,
        )
        .await?;
        // Children (and accessories) before their parents, so each index finds its children in place.
        let mut order: Vec<(i64, String)> = Vec::new();
        let mut stack: Vec<(String, bool)> = vec![(c.digest.to_owned(), false)];
        let mut seen = std::collections::HashSet::new();
        while let Some((digest, expanded)) = stack.pop() {
            if order.len() > MAX_ARTIFACT_TREE {
                return Err(CopyError::SourceGone(format!(
                    "{} (too many children)",
                    c.digest
                )));
            }
            if expanded {
                let id: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM artifacts WHERE repository_id = $1 AND digest = $2",
                )
                .bind(c.source_repository_id)
                .bind(&digest)
                .fetch_optional(&mut *tx)
                .await?;
                let id = id.ok_or_else(|| CopyError::SourceGone(digest.clone()))?;
                order.push((id, digest));
                continue;
            }
            if !seen.insert(digest.clone()) {
                continue;
            }
            let children: Vec<String> = sqlx::query_scalar(
                "SELECT ch.child_digest FROM artifact_children ch JOIN artifacts a ON a.id = ch.parent_id
                 WHERE a.repository_id = $1 AND a.digest = $2
                 UNION SELECT digest FROM artifacts WHERE repository_id = $1 AND subject_digest = $2",
            )
            .bind(c.source_repository_id)
            .bind(&digest)
            .fetch_all(&mut *tx)
            .await?;
            stack.push((digest, true));
            stack.extend(children.into_iter().map(|child| (child, false)));
        }
        for (source_id, digest) in &order {
            let present: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM artifacts WHERE repository_id = $1 AND digest = $2",
            )
            .bind(target_id)
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await?;
            if present.is_some() {
                continue;
            }
            let blobs: Vec<(String, i64)> = sqlx::query_as(
                "SELECT ab.digest, b.size FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                 WHERE ab.artifact_id = $1",
            )
            .bind(source_id)
            .fetch_all(&mut *tx)
            .await?;
            for (blob, size) in &blobs {
                quota::charge(&mut tx, c.target_project_id, blob, *size).await?;
                sqlx::query(
                    "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (repository_id, digest) DO NOTHING",
                )
                .bind(target_id)
                .bind(blob)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
            let size: i64 = sqlx::query_scalar("SELECT size FROM artifacts WHERE id = $1")
                .bind(source_id)
                .fetch_one(&mut *tx)
                .await?;
            quota::charge(&mut tx, c.target_project_id, digest, size).await?;
            let copy_id: i64 = sqlx::query_scalar(
                "INSERT INTO artifacts (repository_id, digest, media_type, artifact_type, subject_digest,
                                        annotations, size, content, push_time)
                 SELECT $1, digest, media_type, artifact_type, subject_digest, annotations, size, content, $2
                 FROM artifacts WHERE id = $3
                 RETURNING id",
            )
            .bind(target_id)
            .bind(&now)
            .bind(source_id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO artifact_blobs (artifact_id, digest) SELECT $1, digest FROM artifact_blobs
                 WHERE artifact_id = $2",
            )
            .bind(copy_id)
            .bind(source_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO artifact_children (parent_id, child_digest) SELECT $1, child_digest
                 FROM artifact_children WHERE parent_id = $2",
            )
            .bind(copy_id)
            .bind(source_id)
            .execute(&mut *tx)
            .await?;
        }
        for tag in c.tags {
            sqlx::query(
                "INSERT INTO tags (repository_id, name, artifact_id, push_time)
                 SELECT $1, $2, id, $3 FROM artifacts WHERE repository_id = $1 AND digest = $4
                 ON CONFLICT (repository_id, name) DO UPDATE SET artifact_id = excluded.artifact_id,
                                                                 push_time = excluded.push_time",
            )
            .bind(target_id)
            .bind(tag)
            .bind(&now)
            .bind(c.digest)
            .execute(&mut *tx)
            .await?;
        }
        let copied: Vec<String> = order.into_iter().map(|(_, digest)| digest).collect();
        refresh_listing(&mut tx, target_id, &copied).await?;
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| repo == c.target_repository);
        Ok(())
    }

    /// Deletes artifact `digest` of `repository` as Harbor does, in one transaction: with its accessories
    /// (artifacts whose subject it is) and those of its children that no other index references and no tag
    /// names. Refused while an index of the repository references it, and when an immutable tag rule locks
    /// a tag of anything it would delete. Quota is released as by [`Db::delete_manifest`].
    pub async fn delete_artifact(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<DeleteArtifact, sqlx::Error> {
        super::retrying_conflicts("deleting an artifact", || {
            self.delete_artifact_once(repository, digest)
        })
        .await
    }

    async fn delete_artifact_once(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<DeleteArtifact, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        quota::lock_project_of(&mut tx, repository).await?;
        let repository_id: Option<i64> = sqlx::query_scalar(
            "SELECT repository_id FROM artifacts a JOIN repositories r ON r.id = a.repository_id
             WHERE r.name = $1 AND a.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(repository_id) = repository_id else {
            return Ok(DeleteArtifact::NotFound);
        };
        let parent: Option<String> = sqlx::query_scalar(
            "SELECT p.digest FROM artifact_children ch CROSS JOIN artifacts p
             WHERE p.id = ch.parent_id AND p.repository_id = $1 AND ch.child_digest = $2 LIMIT 1",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(parent) = parent {
            return Ok(DeleteArtifact::ReferencedBy(parent));
        }
        let mut work = vec![digest.to_owned()];
        let mut deleted = 0;
        while let Some(digest) = work.pop() {
            deleted += 1;
            if deleted > MAX_ARTIFACT_TREE {
                break;
            }
            let children: Vec<String> = sqlx::query_scalar(
                "SELECT ch.child_digest FROM artifact_children ch JOIN artifacts a ON a.id = ch.parent_id
                 WHERE a.repository_id = $1 AND a.digest = $2",
            )
            .bind(repository_id)
            .bind(&digest)
            .fetch_all(&mut *tx)
            .await?;
            let accessories: Vec<String> = sqlx::query_scalar(
                "SELECT digest FROM artifacts WHERE repository_id = $1 AND subject_digest = $2",
            )
            .bind(repository_id)
            .bind(&digest)
            .fetch_all(&mut *tx)
            .await?;
            match delete_manifest_in(&mut tx, self, repository, &digest).await {
                Ok(_) => {}
                Err(GuardedError::Locked(locked)) => return Ok(DeleteArtifact::Immutable(locked)),
                Err(GuardedError::Db(e)) => return Err(e),
            }
            work.extend(accessories);
            for child in children {
                let kept: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM artifact_children ch CROSS JOIN artifacts p
                     WHERE p.id = ch.parent_id AND p.repository_id = $1 AND ch.child_digest = $2
                     UNION ALL
                     SELECT 1 FROM tags t JOIN artifacts a ON a.id = t.artifact_id
                     WHERE a.repository_id = $1 AND a.digest = $2
                     LIMIT 1",
                )
                .bind(repository_id)
                .bind(&child)
                .fetch_optional(&mut *tx)
                .await?;
                if kept.is_none() {
                    work.push(child);
                }
            }
        }
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| repo == repository);
        Ok(DeleteArtifact::Deleted)
    }

    /// Tags artifact `artifact_id` of `repository` (whose id is `repository_id`) as `tag`. A tag of that name
    /// already in the repository is a unique violation ([`GuardedError::Db`]); when it names another artifact
    /// and an immutable tag rule locks it, the refusal is [`GuardedError::Locked`].
    pub async fn add_tag(
        &self,
        repository_id: i64,
        repository: &str,
        artifact_id: i64,
        tag: &str,
    ) -> Result<(), GuardedError> {
        let mut tx = self.write.begin().await?;
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT t.artifact_id, r.project_id FROM tags t JOIN repositories r ON r.id = t.repository_id
             WHERE t.repository_id = $1 AND t.name = $2",
        )
        .bind(repository_id)
        .bind(tag)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((current, project_id)) = current
            && current != artifact_id
        {
            refuse_locked(&mut tx, self, project_id, repository, &[tag.to_owned()]).await?;
        }
        sqlx::query(
            "INSERT INTO tags (repository_id, name, artifact_id, push_time) VALUES ($1, $2, $3, $4)",
        )
        .bind(repository_id)
        .bind(tag)
        .bind(artifact_id)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.tagged_manifests
            .invalidate(&(repository.to_owned(), tag.to_owned()));
        Ok(())
    }

    /// Deletes tag `tag` of `repository` if it names artifact `artifact_id`; returns whether it did. Refused
    /// when an immutable tag rule locks it.
    pub async fn delete_artifact_tag(
        &self,
        repository: &str,
        artifact_id: i64,
        tag: &str,
    ) -> Result<bool, GuardedError> {
        let mut tx = self.write.begin().await?;
        let project_id: Option<i64> = sqlx::query_scalar(
            "SELECT r.project_id FROM tags t JOIN repositories r ON r.id = t.repository_id
             WHERE t.artifact_id = $1 AND t.name = $2",
        )
        .bind(artifact_id)
        .bind(tag)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(project_id) = project_id else {
            return Ok(false);
        };
        refuse_locked(&mut tx, self, project_id, repository, &[tag.to_owned()]).await?;
        sqlx::query("DELETE FROM tags WHERE artifact_id = $1 AND name = $2")
            .bind(artifact_id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.tagged_manifests
            .invalidate(&(repository.to_owned(), tag.to_owned()));
        Ok(true)
    }
}

/// [`Db::delete_manifest`] inside a transaction: refused, before anything is written, when an immutable tag
/// rule locks one of the manifest's tags.
async fn delete_manifest_in(
    conn: &mut AnyConnection,
    db: &Db,
    repository: &str,
    digest: &str,
) -> Result<bool, GuardedError> {
    let found: Option<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT a.id, a.repository_id, r.project_id, a.push_time
         FROM artifacts a JOIN repositories r ON r.id = a.repository_id
         WHERE r.name = $1 AND a.digest = $2",
    )
    .bind(repository)
    .bind(digest)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((artifact_id, repository_id, project_id, pushed)) = found else {
        return Ok(false);
    };
    let tags: Vec<String> = sqlx::query_scalar("SELECT name FROM tags WHERE artifact_id = $1")
        .bind(artifact_id)
        .fetch_all(&mut *conn)
        .await?;
    refuse_locked(conn, db, project_id, repository, &tags).await?;
    let blobs: Vec<String> =
        sqlx::query_scalar("SELECT digest FROM artifact_blobs WHERE artifact_id = $1")
            .bind(artifact_id)
            .fetch_all(&mut *conn)
            .await?;
    // Its children and accessories may be listed on their own once it is gone; indexes listing it shrink.
    let mut affected: Vec<String> =
        sqlx::query_scalar("SELECT child_digest FROM artifact_children WHERE parent_id = $1")
            .bind(artifact_id)
            .fetch_all(&mut *conn)
            .await?;
    affected.push(digest.to_owned());
    sqlx::query("DELETE FROM artifacts WHERE id = $1")
        .bind(artifact_id)
        .execute(&mut *conn)
        .await?;
    refresh_listing(&mut *conn, repository_id, &affected).await?;
    for blob in &blobs {
        // This repository's link goes if no artifact left here references the blob and the link predates
        // the artifact: a link made since then (here or elsewhere) is an upload for a manifest not pushed yet.
        // Other repositories' links stay; the project pays while any link or artifact still needs the blob.
        sqlx::query(
            "DELETE FROM repository_blobs
             WHERE repository_id = $1 AND digest = $2 AND created_at <= $3
               AND NOT EXISTS (SELECT 1 FROM artifact_blobs ab JOIN artifacts a ON a.id = ab.artifact_id
                               WHERE a.repository_id = $1 AND ab.digest = $2)",
        )
        .bind(repository_id)
        .bind(blob)
        .bind(&pushed)
        .execute(&mut *conn)
        .await?;
        quota::release_if_unused(conn, project_id, blob).await?;
    }
    quota::release_if_unused(conn, project_id, digest).await?;
    Ok(true)
}

fn into_manifest((digest, media_type, content): (String, String, Vec<u8>)) -> Manifest {
    Manifest {
        digest,
        media_type,
        content: Bytes::from(content),
    }
}
