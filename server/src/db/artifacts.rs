//! Artifacts (manifests), tags, referrers and the catalog.

use bytes::Bytes;

use super::Db;
use super::blobs::ensure_repository;
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
    #[error(transparent)]
    Db(#[from] sqlx::Error),
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

impl Db {
    /// Stores a manifest, its references and its tag in one transaction, after checking that every
    /// referenced blob and child manifest is present in the repository.
    pub async fn put_manifest(&self, a: &NewArtifact<'_>) -> Result<(), PutManifestError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let repository_id = ensure_repository(&mut tx, a.project_id, a.repository).await?;
        for digest in a.blobs {
            let linked: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM repository_blobs WHERE repository_id = $1 AND digest = $2",
            )
            .bind(repository_id)
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await?;
            if linked.is_none() {
                return Err(PutManifestError::MissingBlob(digest.clone()));
            }
        }
        for digest in a.children {
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
    pub async fn delete_manifest(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT a.id, r.project_id FROM artifacts a JOIN repositories r ON r.id = a.repository_id
             WHERE r.name = $1 AND a.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((artifact_id, project_id)) = found else {
            return Ok(false);
        };
        let blobs: Vec<String> =
            sqlx::query_scalar("SELECT digest FROM artifact_blobs WHERE artifact_id = $1")
                .bind(artifact_id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM artifacts WHERE id = $1")
            .bind(artifact_id)
            .execute(&mut *tx)
            .await?;
        for blob in &blobs {
            let still_used: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM artifact_blobs ab JOIN artifacts a ON a.id = ab.artifact_id
                 JOIN repositories r ON r.id = a.repository_id
                 WHERE r.project_id = $1 AND ab.digest = $2 LIMIT 1",
            )
            .bind(project_id)
            .bind(blob)
            .fetch_optional(&mut *tx)
            .await?;
            if still_used.is_none() {
                sqlx::query(
                    "DELETE FROM repository_blobs WHERE digest = $2
                     AND repository_id IN (SELECT id FROM repositories WHERE project_id = $1)",
                )
                .bind(project_id)
                .bind(blob)
                .execute(&mut *tx)
                .await?;
                quota::release_if_unused(&mut tx, project_id, blob).await?;
            }
        }
        quota::release_if_unused(&mut tx, project_id, digest).await?;
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| repo == repository);
        Ok(true)
    }

    /// Deletes tag `tag`, leaving its manifest; returns whether it existed.
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM tags WHERE repository_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2",
        )
        .bind(repository)
        .bind(tag)
        .execute(&self.write)
        .await?;
        self.tagged_manifests
            .invalidate(&(repository.to_owned(), tag.to_owned()));
        Ok(done.rows_affected() > 0)
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
               AND ($2 IS NULL OR r.project_id IN (SELECT value FROM json_each($2)))
             ORDER BY r.name LIMIT $3",
        )
        .bind(last.unwrap_or(""))
        .bind(projects)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}

fn into_manifest((digest, media_type, content): (String, String, Vec<u8>)) -> Manifest {
    Manifest {
        digest,
        media_type,
        content: Bytes::from(content),
    }
}
