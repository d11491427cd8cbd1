//! Substring search from an index: the one part of the lists that is SQLite's own.
//!
//! Harbor's `k=~part` filter matches values containing `part`, case-sensitively (`instr` here, `LIKE '%part%'`
//! in Harbor on PostgreSQL). Testing every artifact's tags for a substring reads the whole repository, so
//! the tag names are indexed by trigrams:
//!
//! - SQLite: the FTS5 table `tags_fts` (tokenizer `trigram case_sensitive 1`, migration 0013, kept in step
//!   with `tags` by triggers) finds the tags whose names contain a part of three characters or more; each
//!   is then checked with `instr`, so the index only narrows. A shorter part (trigrams cannot index it), or
//!   one with a character no tag name can hold (and that FTS5's query syntax might read), is found by
//!   reading the tag names: every tag, never every artifact.
//! - PostgreSQL: a `pg_trgm` GIN index (`tags_name_trgm`, migration 0013) answers
//!   `t.name LIKE '%part%' ESCAPE '\'`, with `\`, `%` and `_` escaped in the part, for parts of any length.

use super::sql_builder::SqlBuilder;

use super::Backend;

/// The related values that have a substring index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Substrings {
    /// Tag names (`tags`), naming artifacts by id.
    TagNames,
}

/// The characters of a tag name (`[A-Za-z0-9_][A-Za-z0-9._-]*`, OCI distribution spec, "Pulling manifests").
fn tag_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

impl Substrings {
    /// Appends a query of one column, `listed_key`: the key of each listed row with a related value
    /// containing `part`, each once; only related rows of repository `within` when given.
    pub fn push_keys(
        self,
        qb: &mut SqlBuilder<'_>,
        backend: Backend,
        part: &str,
        within: Option<i64>,
    ) {
        match self {
            Substrings::TagNames if backend == Backend::Postgres => {
                qb.push("SELECT DISTINCT t.artifact_id AS listed_key FROM tags t WHERE ");
                if let Some(repository_id) = within {
                    qb.push("t.repository_id = ")
                        .push_bind(repository_id)
                        .push(" AND ");
                }
                let escaped = part
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                qb.push("t.name LIKE ")
                    .push_bind(format!("%{escaped}%"))
                    .push(" ESCAPE '\\'");
            }
            Substrings::TagNames => {
                qb.push("SELECT DISTINCT t.artifact_id AS listed_key FROM ");
                if part.chars().count() >= 3 && part.chars().all(tag_character) {
                    // A phrase of FTS5's query syntax: the part's trigrams, in a row. The matches come first
                    // (`CROSS JOIN` keeps that order), then their tags by rowid.
                    qb.push("(SELECT rowid FROM tags_fts WHERE tags_fts MATCH ")
                        .push_bind(format!("\"{part}\""))
                        .push(") f CROSS JOIN tags t WHERE t.rowid = f.rowid AND ");
                } else {
                    qb.push("tags t WHERE ");
                }
                if let Some(repository_id) = within {
                    qb.push("t.repository_id = ")
                        .push_bind(repository_id)
                        .push(" AND ");
                }
                qb.push("instr(t.name, ")
                    .push_bind(part.to_owned())
                    .push(") > 0");
            }
        }
    }
}
