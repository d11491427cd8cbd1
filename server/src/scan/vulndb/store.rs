//! Every SQL statement of the vulnerability database (its own SQLite file, never Berth's main database; see the
//! module documentation for why this SQL lives here and not in `db/`).

use std::collections::{BTreeSet, HashMap};

use sqlx::{QueryBuilder, Row as _, Sqlite, SqliteConnection, SqlitePool};

use super::record::{Record, VulnWrite, split_ecosystem};
use crate::scan::model::{Advisory, AffectedEntry, AffectedRange, Severity};

/// Bumped when the schema changes: a generation of another version is not carried over (the next import
/// starts from an empty file).
pub const SCHEMA_VERSION: &str = "1";
/// The most values in one `IN (…)` list (SQLite's default limit on bound parameters is 32766).
pub const IN_CHUNK: usize = 500;
/// How many generations of `changed` keys are kept; a re-match from an older generation re-matches everything.
pub const CHANGED_HISTORY: i64 = 32;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS source (name TEXT PRIMARY KEY, imported_at TEXT NOT NULL, \
     generation BIGINT NOT NULL, max_modified TEXT, record_count BIGINT NOT NULL, \
     affected_count BIGINT NOT NULL, archive_sha256 TEXT, etag TEXT, watermark TEXT)",
    "CREATE TABLE IF NOT EXISTS record (source TEXT NOT NULL, record_id TEXT NOT NULL, vuln_id TEXT, \
     modified TEXT, content_sha256 TEXT NOT NULL, seen_generation BIGINT NOT NULL, \
     PRIMARY KEY (source, record_id))",
    "CREATE INDEX IF NOT EXISTS record_vuln ON record (vuln_id)",
    "CREATE TABLE IF NOT EXISTS vuln (id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT, \
     published TEXT, withdrawn TEXT, summary TEXT, details TEXT, severity TEXT NOT NULL, \
     cvss3_vector TEXT, cvss3_score REAL, cvss4_vector TEXT, cvss4_score REAL, \
     cwe_ids TEXT NOT NULL, refs TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alias (source TEXT NOT NULL, record_id TEXT NOT NULL, alias TEXT NOT NULL, \
     vuln_id TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (source, record_id, alias, vuln_id))",
    "CREATE INDEX IF NOT EXISTS alias_alias ON alias (alias)",
    "CREATE INDEX IF NOT EXISTS alias_vuln ON alias (vuln_id)",
    "CREATE TABLE IF NOT EXISTS affected (id INTEGER PRIMARY KEY, source TEXT NOT NULL, \
     record_id TEXT NOT NULL, vuln_id TEXT NOT NULL, ecosystem TEXT NOT NULL, eco_base TEXT NOT NULL, \
     eco_release TEXT NOT NULL, package TEXT NOT NULL, ranges TEXT NOT NULL, versions TEXT NOT NULL, \
     fixed TEXT, severity TEXT, status TEXT)",
    "CREATE INDEX IF NOT EXISTS affected_lookup ON affected (eco_base, eco_release, package)",
    "CREATE INDEX IF NOT EXISTS affected_record ON affected (source, record_id)",
    "CREATE INDEX IF NOT EXISTS affected_vuln ON affected (vuln_id)",
    "CREATE TABLE IF NOT EXISTS changed (generation BIGINT NOT NULL, ecosystem TEXT NOT NULL, \
     package TEXT NOT NULL, PRIMARY KEY (generation, ecosystem, package))",
    // The online refresh's state per ecosystem (added without a schema bump: a carried-over file gets it here).
    "CREATE TABLE IF NOT EXISTS online_state (ecosystem TEXT PRIMARY KEY, url TEXT NOT NULL, \
     refreshed_at TEXT NOT NULL, method TEXT NOT NULL, detail TEXT NOT NULL, watermark TEXT, \
     watermark_ids TEXT NOT NULL, etag TEXT)",
];

/// Creates the tables of an empty file (or checks a carried-over one has them).
pub async fn create_schema(conn: &mut SqliteConnection) -> sqlx::Result<()> {
    for statement in SCHEMA {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn meta(pool: &SqlitePool, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
}

pub async fn set_meta(conn: &mut SqliteConnection, key: &str, value: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// What writing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Unchanged,
    Changed,
}

/// Records the (ecosystem, package) keys of a record's stored affected rows as changed in `generation`.
async fn mark_stored_changed(
    conn: &mut SqliteConnection,
    generation: i64,
    source: &str,
    record_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO changed (generation, ecosystem, package) \
         SELECT DISTINCT $1, ecosystem, package FROM affected WHERE source = $2 AND record_id = $3 \
         ON CONFLICT DO NOTHING",
    )
    .bind(generation)
    .bind(source)
    .bind(record_id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn delete_record_rows(
    conn: &mut SqliteConnection,
    source: &str,
    record_id: &str,
) -> sqlx::Result<()> {
    for statement in [
        "DELETE FROM affected WHERE source = $1 AND record_id = $2",
        "DELETE FROM alias WHERE source = $1 AND record_id = $2",
    ] {
        sqlx::query(statement)
            .bind(source)
            .bind(record_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Writes one record in the open transaction, unless it is stored unchanged.
pub async fn write_record(
    conn: &mut SqliteConnection,
    generation: i64,
    record: &Record,
) -> anyhow::Result<Written> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT content_sha256 FROM record WHERE source = $1 AND record_id = $2",
    )
    .bind(&record.source)
    .bind(&record.record_id)
    .fetch_optional(&mut *conn)
    .await?;
    if stored.as_deref() == Some(record.content_sha256.as_str()) {
        sqlx::query("UPDATE record SET seen_generation = $1 WHERE source = $2 AND record_id = $3")
            .bind(generation)
            .bind(&record.source)
            .bind(&record.record_id)
            .execute(&mut *conn)
            .await?;
        return Ok(Written::Unchanged);
    }
    if stored.is_some() {
        mark_stored_changed(conn, generation, &record.source, &record.record_id).await?;
        delete_record_rows(conn, &record.source, &record.record_id).await?;
    }
    for vuln in &record.vulns {
        let a = &vuln.advisory;
        let sql = match vuln.write {
            VulnWrite::Replace => {
                "INSERT INTO vuln (id, source, modified, published, withdrawn, summary, details, severity, \
                 cvss3_vector, cvss3_score, cvss4_vector, cvss4_score, cwe_ids, refs) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET source = excluded.source, modified = excluded.modified, \
                 published = excluded.published, withdrawn = excluded.withdrawn, summary = excluded.summary, \
                 details = excluded.details, severity = excluded.severity, cvss3_vector = excluded.cvss3_vector, \
                 cvss3_score = excluded.cvss3_score, cvss4_vector = excluded.cvss4_vector, \
                 cvss4_score = excluded.cvss4_score, cwe_ids = excluded.cwe_ids, refs = excluded.refs"
            }
            VulnWrite::Fill => {
                "INSERT INTO vuln (id, source, modified, published, withdrawn, summary, details, severity, \
                 cvss3_vector, cvss3_score, cvss4_vector, cvss4_score, cwe_ids, refs) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET summary = COALESCE(vuln.summary, excluded.summary)"
            }
        };
        sqlx::query(sql)
            .bind(&a.id)
            .bind(&record.source)
            .bind(&a.modified)
            .bind(&a.published)
            .bind(&vuln.withdrawn)
            .bind(&a.summary)
            .bind(&a.details)
            .bind(a.severity.as_str())
            .bind(&a.cvss3_vector)
            .bind(a.cvss3_score)
            .bind(&vuln.cvss4_vector)
            .bind(vuln.cvss4_score)
            .bind(serde_json::to_string(&a.cwe_ids)?)
            .bind(serde_json::to_string(&a.links)?)
            .execute(&mut *conn)
            .await?;
    }
    for alias in &record.aliases {
        sqlx::query(
            "INSERT INTO alias (source, record_id, alias, vuln_id, kind) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&record.source)
        .bind(&record.record_id)
        .bind(&alias.alias)
        .bind(&alias.vuln_id)
        .bind(alias.kind)
        .execute(&mut *conn)
        .await?;
    }
    for entry in &record.affected {
        let (base, release) = split_ecosystem(&entry.ecosystem);
        let fixed = entry.ranges.iter().find_map(|r| {
            r.events.iter().find_map(|e| match e {
                crate::scan::model::RangeEvent::Fixed(v) => Some(v.clone()),
                _ => None,
            })
        });
        sqlx::query(
            "INSERT INTO affected (source, record_id, vuln_id, ecosystem, eco_base, eco_release, package, \
             ranges, versions, fixed, severity, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&record.source)
        .bind(&record.record_id)
        .bind(&entry.vuln_id)
        .bind(&entry.ecosystem)
        .bind(base)
        .bind(release)
        .bind(&entry.package)
        .bind(serde_json::to_string(&entry.ranges)?)
        .bind(serde_json::to_string(&entry.versions)?)
        .bind(fixed)
        .bind(entry.severity.map(Severity::as_str))
        .bind(&entry.status)
        .execute(&mut *conn)
        .await?;
    }
    mark_stored_changed(conn, generation, &record.source, &record.record_id).await?;
    sqlx::query(
        "INSERT INTO record (source, record_id, vuln_id, modified, content_sha256, seen_generation) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (source, record_id) DO UPDATE SET vuln_id = excluded.vuln_id, \
         modified = excluded.modified, content_sha256 = excluded.content_sha256, \
         seen_generation = excluded.seen_generation",
    )
    .bind(&record.source)
    .bind(&record.record_id)
    .bind(&record.vuln_id)
    .bind(&record.modified)
    .bind(&record.content_sha256)
    .bind(generation)
    .execute(&mut *conn)
    .await?;
    Ok(Written::Changed)
}

/// After a full dump of `source`: deletes its records this generation did not see; returns how many.
pub async fn delete_unseen(
    conn: &mut SqliteConnection,
    generation: i64,
    source: &str,
) -> sqlx::Result<u64> {
    let unseen = "SELECT record_id FROM record WHERE source = $2 AND seen_generation <> $1";
    sqlx::query(&format!(
        "INSERT INTO changed (generation, ecosystem, package) \
         SELECT DISTINCT $1, ecosystem, package FROM affected WHERE source = $2 AND record_id IN ({unseen}) \
         ON CONFLICT DO NOTHING"
    ))
    .bind(generation)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    for table in ["affected", "alias"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE source = $2 AND record_id IN ({unseen})"
        ))
        .bind(generation)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    }
    let done = sqlx::query("DELETE FROM record WHERE source = $2 AND seen_generation <> $1")
        .bind(generation)
        .bind(source)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Closes a generation: drops advisories nothing refers to any more, refreshes the sources' counts, prunes old
/// `changed` keys and stamps the generation.
pub async fn finish(
    conn: &mut SqliteConnection,
    generation: i64,
    built_at: &str,
    sources: &BTreeSet<String>,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM vuln WHERE NOT EXISTS (SELECT 1 FROM affected a WHERE a.vuln_id = vuln.id) \
         AND NOT EXISTS (SELECT 1 FROM record r WHERE r.vuln_id = vuln.id)",
    )
    .execute(&mut *conn)
    .await?;
    for source in sources {
        sqlx::query(
            "INSERT INTO source (name, imported_at, generation, max_modified, record_count, affected_count) \
             VALUES ($1, $2, $3, \
               (SELECT MAX(modified) FROM record WHERE source = $1), \
               (SELECT COUNT(*) FROM record WHERE source = $1), \
               (SELECT COUNT(*) FROM affected WHERE source = $1)) \
             ON CONFLICT (name) DO UPDATE SET imported_at = excluded.imported_at, \
             generation = excluded.generation, max_modified = excluded.max_modified, \
             record_count = excluded.record_count, affected_count = excluded.affected_count",
        )
        .bind(source)
        .bind(built_at)
        .bind(generation)
        .execute(&mut *conn)
        .await?;
    }
    // A source whose every record went away is dropped from the list.
    sqlx::query(
        "DELETE FROM source WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.source = source.name)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM changed WHERE generation <= $1")
        .bind(generation - CHANGED_HISTORY)
        .execute(&mut *conn)
        .await?;
    set_meta(conn, "schema_version", SCHEMA_VERSION).await?;
    set_meta(conn, "generation", &generation.to_string()).await?;
    set_meta(conn, "built_at", built_at).await?;
    Ok(())
}

/// What the online refresh last brought into the database for one ecosystem (`online_state`), written in the
/// same generation as the records, so the watermark never runs ahead of the data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnlineState {
    /// The ecosystem's folder on the mirror: `Debian`, `crates.io`.
    pub ecosystem: String,
    /// The mirror's base URL it came from (a watermark from another mirror is not used).
    pub url: String,
    /// RFC 3339: when this generation brought it.
    pub refreshed_at: String,
    /// `all.zip` or `records`.
    pub method: String,
    /// What was read, in words: `2 changed record(s)`, or the dump's size and why it was read.
    pub detail: String,
    /// The newest `modified` of `modified_id.csv` the data covers (RFC 3339, UTC); `None` when the mirror has
    /// no `modified_id.csv` (every refresh then asks for `all.zip` with its ETag).
    pub watermark: Option<String>,
    /// The ids listed at exactly the watermark's time (so a record of the same second that comes later is
    /// still fetched).
    pub watermark_ids: Vec<String>,
    /// The `ETag` of the last `all.zip` read.
    pub etag: Option<String>,
}

pub async fn put_online_state(
    conn: &mut SqliteConnection,
    state: &OnlineState,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO online_state (ecosystem, url, refreshed_at, method, detail, watermark, watermark_ids, etag) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (ecosystem) DO UPDATE SET url = excluded.url, refreshed_at = excluded.refreshed_at, \
         method = excluded.method, detail = excluded.detail, watermark = excluded.watermark, \
         watermark_ids = excluded.watermark_ids, etag = excluded.etag",
    )
    .bind(&state.ecosystem)
    .bind(&state.url)
    .bind(&state.refreshed_at)
    .bind(&state.method)
    .bind(&state.detail)
    .bind(&state.watermark)
    .bind(serde_json::to_string(&state.watermark_ids)?)
    .bind(&state.etag)
    .execute(conn)
    .await?;
    Ok(())
}

/// The online refresh's state of every ecosystem, by name; none from a generation that predates the table.
pub async fn online_states(pool: &SqlitePool) -> anyhow::Result<Vec<OnlineState>> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'online_state'",
    )
    .fetch_optional(pool)
    .await?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT ecosystem, url, refreshed_at, method, detail, watermark, watermark_ids, etag \
         FROM online_state ORDER BY ecosystem",
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let ids: String = r.try_get(6)?;
        out.push(OnlineState {
            ecosystem: r.try_get(0)?,
            url: r.try_get(1)?,
            refreshed_at: r.try_get(2)?,
            method: r.try_get(3)?,
            detail: r.try_get(4)?,
            watermark: r.try_get(5)?,
            watermark_ids: serde_json::from_str(&ids)?,
            etag: r.try_get(7)?,
        });
    }
    Ok(out)
}

/// One source's line in [`super::Status`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub imported_at: String,
    /// The generation that last imported it.
    pub generation: i64,
    pub max_modified: Option<String>,
    pub records: i64,
    pub affected: i64,
}

pub async fn sources(pool: &SqlitePool) -> sqlx::Result<Vec<SourceStatus>> {
    let rows = sqlx::query(
        "SELECT name, imported_at, generation, max_modified, record_count, affected_count \
         FROM source ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SourceStatus {
                name: r.try_get(0)?,
                imported_at: r.try_get(1)?,
                generation: r.try_get(2)?,
                max_modified: r.try_get(3)?,
                records: r.try_get(4)?,
                affected: r.try_get(5)?,
            })
        })
        .collect()
}

pub async fn count(pool: &SqlitePool, table: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
}

/// The affected rows of `packages` in one ecosystem (base, release).
pub async fn affected(
    pool: &SqlitePool,
    eco_base: &str,
    eco_release: &str,
    packages: &[String],
) -> anyhow::Result<Vec<AffectedEntry>> {
    let mut out = Vec::new();
    for chunk in packages.chunks(IN_CHUNK) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT vuln_id, ecosystem, package, ranges, versions, severity, status FROM affected \
             WHERE eco_base = ",
        );
        query.push_bind(eco_base);
        query.push(" AND eco_release = ");
        query.push_bind(eco_release);
        query.push(" AND package IN (");
        let mut list = query.separated(", ");
        for p in chunk {
            list.push_bind(p);
        }
        query.push(") ORDER BY package, vuln_id, id");
        for row in query.build().fetch_all(pool).await? {
            let ranges: String = row.try_get(3)?;
            let versions: String = row.try_get(4)?;
            let severity: Option<String> = row.try_get(5)?;
            out.push(AffectedEntry {
                vuln_id: row.try_get(0)?,
                ecosystem: row.try_get(1)?,
                package: row.try_get(2)?,
                ranges: serde_json::from_str::<Vec<AffectedRange>>(&ranges)?,
                versions: serde_json::from_str(&versions)?,
                severity: severity.as_deref().and_then(Severity::parse),
                status: row.try_get(6)?,
            });
        }
    }
    Ok(out)
}

/// The advisory rows of `ids` (without aliases).
pub async fn vulns(pool: &SqlitePool, ids: &[String]) -> anyhow::Result<Vec<Advisory>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, summary, details, severity, cvss3_vector, cvss3_score, cwe_ids, refs, published, \
             modified, cvss4_score FROM vuln WHERE id IN (",
        );
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id);
        }
        query.push(")");
        for row in query.build().fetch_all(pool).await? {
            let severity: String = row.try_get(3)?;
            let cwe_ids: String = row.try_get(6)?;
            let refs: String = row.try_get(7)?;
            out.push(Advisory {
                id: row.try_get(0)?,
                aliases: Vec::new(),
                summary: row.try_get(1)?,
                details: row.try_get(2)?,
                severity: Severity::parse(&severity).unwrap_or_default(),
                cvss3_vector: row.try_get(4)?,
                cvss3_score: row.try_get(5)?,
                cwe_ids: serde_json::from_str(&cwe_ids)?,
                links: serde_json::from_str(&refs)?,
                published: row.try_get(8)?,
                modified: row.try_get(9)?,
            });
        }
    }
    Ok(out)
}

/// The alias pairs (alias, vuln_id) touching any of `ids`, on either side.
pub async fn alias_pairs(
    pool: &SqlitePool,
    ids: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        for column in ["vuln_id", "alias"] {
            let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
                "SELECT DISTINCT alias, vuln_id FROM alias WHERE {column} IN ("
            ));
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(id);
            }
            query.push(")");
            for row in query.build().fetch_all(pool).await? {
                out.push((row.try_get(0)?, row.try_get(1)?));
            }
        }
    }
    Ok(out)
}

/// The (ecosystem, package) keys changed by the generations after `from` up to `to`; `None` when the history
/// kept does not reach back to `from` (re-match everything then).
pub async fn changed(
    pool: &SqlitePool,
    from: i64,
    to: i64,
) -> sqlx::Result<Option<Vec<(String, String)>>> {
    // This file's lineage started (empty) at `history_from`: that generation's keys are everything it holds.
    let history_from: i64 = meta(pool, "history_from")
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(i64::MAX);
    if from < to - CHANGED_HISTORY || from < history_from - 1 {
        return Ok(None);
    }
    let rows = sqlx::query(
        "SELECT DISTINCT ecosystem, package FROM changed WHERE generation > $1 AND generation <= $2 \
         ORDER BY ecosystem, package",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push((row.try_get(0)?, row.try_get(1)?));
    }
    Ok(Some(out))
}

/// Groups package names by ecosystem (base, release), for [`affected`].
pub fn group_by_ecosystem<'q>(
    queries: impl Iterator<Item = (&'q str, String)>,
) -> HashMap<(String, String), Vec<String>> {
    let mut groups: HashMap<(String, String), BTreeSet<String>> = HashMap::new();
    for (ecosystem, package) in queries {
        let (base, release) = split_ecosystem(ecosystem);
        groups
            .entry((base.to_owned(), release.to_owned()))
            .or_default()
            .insert(package);
    }
    groups
        .into_iter()
        .map(|(key, packages)| (key, packages.into_iter().collect()))
        .collect()
}
