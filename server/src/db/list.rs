//! Harbor's list query language in SQL: each list endpoint's whitelist of keys (API key → SQL expression and
//! value kind), and one builder that turns a [`ListQuery`] — filters and sort keys, parsed and typed by
//! `api::query` — into `WHERE` and `ORDER BY` with bound parameters.
//!
//! Rule: only the expressions written in the whitelists below (and the fixed [`Scope`]s of the list functions)
//! reach the SQL text; every value a client sends is a bound parameter. The builder is
//! [`SqlBuilder`], which numbers its placeholders `$N` for both backends.
//!
//! Timestamps are compared as the fixed-width text [`super::timestamp`] stores, so a time value is a span
//! `[from, until)` of that text: a time given to the second covers the whole second, a date the whole day.
//!
//! At scale (`bench/lists.py`, a million artifacts in one repository): a list reads its total from a counter
//! the database keeps when the request has no filter ([`StoredTotal`]), reads a page nearer the end than the
//! start in the reverse order (so `OFFSET` never steps over more than half the rows, and an index serves
//! each order the console sorts by), and starts a `~` filter on tags from their index ([`SubstringIndex`]).

use std::sync::LazyLock;

use sqlx::AnyPool;
use sqlx::any::AnyRow;

use super::Backend;
use super::sql_builder::SqlBuilder;
use sqlx::FromRow;

pub use super::text_search::Substrings;

/// The type of a key's values, which decides how `api::query` parses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    /// `true` or `false`.
    Bool,
    /// `2024-01-31 23:59:59` (Harbor's format), RFC 3339, or a date.
    Time,
}

/// Where a key's values are in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A column or expression of the listed row. Such keys can also be sorted by.
    Expr(String),
    /// A value of rows related to the listed one, such as an artifact's tag names: `from` is
    /// `table alias WHERE <join to the listed row>`, `column` the value. A term matches when some related row
    /// matches; `*` matches listed rows that have any related row and `nil` those with none (Harbor's
    /// `tags=*` and `tags=nil`); an intersection list `(a b)` needs a related row for each value.
    Related {
        from: &'static str,
        column: &'static str,
        /// Where a `~` filter on `column` is answered from an index instead of testing every listed row.
        substring_index: Option<SubstringIndex>,
    },
}

/// An index of substrings of a related value: a list filtered by `~part` on it reads the keys of the rows
/// with a related value containing `part` first ([`Substrings::push_keys`], the index's SQL), then those rows
/// by `key`. Only lists with [`ListSql::key_first`] read it; others test each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubstringIndex {
    pub substrings: Substrings,
    /// The listed row's key that the index's keys name, e.g. `a.id`.
    pub key: &'static str,
    /// A column of the listed rows that the related rows share (e.g. `a.repository_id`, as tags have their
    /// artifact's repository): when the list's [`Scope`] fixes it, only related rows with that value are read.
    pub within: Option<&'static str>,
}

/// One key a list accepts in `q` (and in `sort`, unless [`Column::Related`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub column: Column,
    pub kind: Kind,
}

impl Field {
    fn new(key: &'static str, column: impl Into<String>, kind: Kind) -> Field {
        Field {
            key,
            column: Column::Expr(column.into()),
            kind,
        }
    }

    /// Whether lists can be sorted by this key.
    pub fn sortable(&self) -> bool {
        matches!(self.column, Column::Expr(_))
    }
}

/// The key `key` of `fields`.
pub fn field(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    fields.iter().find(|f| f.key == key)
}

/// A typed value of a term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(i64),
    Bool(bool),
    /// The stored-time span `[from, until)` a time value covers.
    Time {
        from: String,
        until: String,
    },
}

/// What a term asks of a key (Harbor's `k=v`, `k=~v`, `k=[min~max]`, `k={a b}`, `k=(a b)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Exact(Value),
    /// A substring (text keys only).
    Fuzzy(String),
    /// Inclusive bounds; either may be open.
    Range(Option<Value>, Option<Value>),
    /// Any of the values (union).
    AnyOf(Vec<Value>),
    /// All of the values (intersection): meaningful for [`Column::Related`] keys such as tags.
    AllOf(Vec<Value>),
}

/// The filters and order of one list request. Every filter must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    filters: Vec<(&'static Field, Condition)>,
    sort: Vec<(&'static Field, bool)>,
}

impl ListQuery {
    /// Adds a filter.
    pub fn filter(&mut self, field: &'static Field, condition: Condition) {
        self.filters.push((field, condition));
    }

    /// Adds a sort key (after those already given); `descending` for `-key`.
    pub fn sort_by(&mut self, field: &'static Field, descending: bool) {
        self.sort.push((field, descending));
    }

    /// The values of the exact-match filters on `key`.
    pub fn exact(&self, key: &str) -> impl Iterator<Item = &Value> {
        self.filters
            .iter()
            .filter(move |(f, _)| f.key == key)
            .filter_map(|(_, c)| match c {
                Condition::Exact(v) => Some(v),
                _ => None,
            })
    }

    /// Whether some filter (of any form) is on `key`.
    pub fn filters_on(&self, key: &str) -> bool {
        self.filters.iter().any(|(f, _)| f.key == key)
    }
}

/// The fixed SQL of one list.
pub(super) struct ListSql<'a> {
    /// `SELECT … FROM …` of the rows, without `WHERE`.
    pub select: &'a str,
    /// `SELECT COUNT(*) FROM …` over the same tables and aliases.
    pub count: &'a str,
    /// The order when the request gives no `sort`, e.g. `a.push_time DESC`.
    pub default_order: &'a str,
    /// Appended to every order so that pages are stable, e.g. `a.id DESC`. It must tell every two rows
    /// apart: a page far from the start is read in the reverse order (see [`fetch_page`]).
    pub tie_breaker: &'a str,
    /// For lists whose `select` computes costly columns (sizes, counts): the row's key over the tables of
    /// `count` (e.g. `a.id`). The page's keys are then chosen first, from `count`'s tables alone, and the
    /// costly columns computed for that page only, not for every matching row before sorting.
    pub key_first: Option<&'a str>,
}

/// A total the database keeps (a counter its triggers maintain), read instead of counting the rows when a
/// request has no filter: `sql` returns it for the list's scope, given `key` as its one parameter.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredTotal<'a> {
    pub sql: &'a str,
    pub key: i64,
}

/// A condition the list function sets whatever the request asks (the project, what the caller may see).
pub(super) enum Scope<'a> {
    /// Trusted SQL without parameters.
    Sql(&'a str),
    /// `column = value`.
    Is(&'a str, i64),
    /// `column` is one of `ids` (none: nothing matches).
    OneOf(&'a str, &'a [i64]),
}

/// One page of the rows of `sql` within `scope` that match `query`, in its order, and how many match in all.
pub(super) async fn fetch_page<T>(
    pool: &AnyPool,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    fetch_page_of(pool, sql, scope, query, (limit, offset), None).await
}

/// [`fetch_page`] of a list whose unfiltered total is `stored`.
///
/// The total and the page are read in one transaction, so they agree. A page nearer the end than the start
/// is read in the reverse order from the end: with an index for the order, no page steps over more than
/// half the rows (SQLite's `OFFSET` steps over each).
pub(super) async fn fetch_page_of<T>(
    pool: &AnyPool,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    (limit, offset): (i64, i64),
    stored: Option<StoredTotal<'_>>,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let backend = Backend::of_pool(pool);
    let mut tx = pool.begin().await?;
    if let (Some(key), Some(_)) = (sql.key_first, query.driver()) {
        let rows =
            fetch_driven_page(&mut tx, backend, key, sql, scope, query, (limit, offset)).await?;
        tx.commit().await?;
        return Ok(rows);
    }
    let total: i64 = match stored {
        Some(stored) if query.filters.is_empty() => {
            sqlx::query_scalar(stored.sql)
                .bind(stored.key)
                .fetch_one(&mut *tx)
                .await?
        }
        _ => {
            let mut count = SqlBuilder::new("");
            push_count(&mut count, backend, sql, scope, query);
            count.build_query_scalar()?.fetch_one(&mut *tx).await?
        }
    };
    if offset >= total {
        tx.commit().await?;
        return Ok((Vec::new(), total));
    }
    let window = Window::of(total, limit, offset);
    let mut select = SqlBuilder::new(sql.select);
    match sql.key_first {
        Some(key) => {
            select.push(format!(" WHERE {key} IN ("));
            push_keys(
                &mut select,
                backend,
                key,
                sql,
                scope,
                query,
                (window, false),
            );
            select.push(")");
            push_order(&mut select, &order_terms(sql, query), false);
        }
        None => {
            push_where(&mut select, scope, query, None);
            push_order(&mut select, &order_terms(sql, query), window.reversed);
            push_page(&mut select, window);
        }
    }
    let mut rows = select.build_query_as::<T>()?.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    if window.reversed && sql.key_first.is_none() {
        rows.reverse();
    }
    Ok((rows, total))
}

/// [`fetch_page_of`] when a filter's index finds the rows ([`ListQuery::driver`]). Its matches are sorted
/// whatever the page, so one pass over them chooses the page's keys and counts them all (a window count);
/// the rows are then read by key.
async fn fetch_driven_page<T>(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    key: &str,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    (limit, offset): (i64, i64),
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    let mut keys = SqlBuilder::new("");
    let window = Window {
        limit,
        offset,
        reversed: false,
    };
    push_keys(&mut keys, backend, key, sql, scope, query, (window, true));
    let found: Vec<(i64, i64)> = keys.build_query_as()?.fetch_all(&mut *tx).await?;
    let total = match found.first() {
        Some((_, total)) => *total,
        None => {
            let mut count = SqlBuilder::new("");
            push_count(&mut count, backend, sql, scope, query);
            let total: i64 = count.build_query_scalar()?.fetch_one(&mut *tx).await?;
            return Ok((Vec::new(), total));
        }
    };
    let keys: Vec<i64> = found.into_iter().map(|(key, _)| key).collect();
    let mut select = SqlBuilder::new(sql.select);
    select
        .push(format!(
            " WHERE {key} IN (SELECT CAST(value AS BIGINT) FROM json_each("
        ))
        .push_bind(serde_json::Value::from(keys).to_string())
        .push("))");
    push_order(&mut select, &order_terms(sql, query), false);
    let rows = select.build_query_as::<T>()?.fetch_all(&mut *tx).await?;
    Ok((rows, total))
}

/// `SELECT COUNT(*) …` of the rows of `sql` within `scope` that match `query`.
fn push_count(
    qb: &mut SqlBuilder<'_>,
    backend: Backend,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
) {
    let driver = sql.key_first.and_then(|_| query.driver());
    qb.push("SELECT COUNT(*)");
    push_from(qb, backend, sql.count, scope, query, driver);
    push_where(qb, scope, query, driver);
}

/// `SELECT key …` of a page of a [`ListSql::key_first`] list: the keys of the rows in `window`, chosen from
/// `count`'s tables alone; with `counted`, each with the number of rows that match in all.
fn push_keys(
    qb: &mut SqlBuilder<'_>,
    backend: Backend,
    key: &str,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    (window, counted): (Window, bool),
) {
    let driver = sql.key_first.and_then(|_| query.driver());
    qb.push(format!("SELECT {key}"));
    if counted {
        qb.push(", COUNT(*) OVER ()");
    }
    push_from(qb, backend, sql.count, scope, query, driver);
    push_where(qb, scope, query, driver);
    push_order(qb, &order_terms(sql, query), window.reversed);
    push_page(qb, window);
}

/// What SQLite plans for the count and for the choice of keys of the page of `limit` rows from `offset`
/// out of `total` (`EXPLAIN QUERY PLAN`, one line per step), for tests that lists read indexes.
#[cfg(test)]
pub(super) async fn plans(
    pool: &AnyPool,
    sql: &ListSql<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    (limit, offset, total): (i64, i64, i64),
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    async fn plan(pool: &AnyPool, mut qb: SqlBuilder<'_>) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(i64, i64, i64, String)> = qb.build_query_as()?.fetch_all(pool).await?;
        Ok(rows.into_iter().map(|(.., detail)| detail).collect())
    }
    let mut count = SqlBuilder::new("EXPLAIN QUERY PLAN ");
    push_count(&mut count, Backend::Sqlite, sql, scope, query);
    let mut keys = SqlBuilder::new("EXPLAIN QUERY PLAN ");
    let key = sql.key_first.unwrap_or("rowid");
    push_keys(
        &mut keys,
        Backend::Sqlite,
        key,
        sql,
        scope,
        query,
        (Window::of(total, limit, offset), query.driver().is_some()),
    );
    Ok((plan(pool, count).await?, plan(pool, keys).await?))
}

/// Which rows of a list's order a page reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    limit: i64,
    offset: i64,
    /// Counted from the end, in the reverse order.
    reversed: bool,
}

impl Window {
    /// The rows `offset..offset + limit` of `total` (`offset < total`), read from the nearer end.
    fn of(total: i64, limit: i64, offset: i64) -> Window {
        let end = offset.saturating_add(limit).min(total);
        let from_end = total - end;
        if from_end < offset {
            Window {
                limit: end - offset,
                offset: from_end,
                reversed: true,
            }
        } else {
            Window {
                limit,
                offset,
                reversed: false,
            }
        }
    }
}

fn push_page(qb: &mut SqlBuilder<'_>, window: Window) {
    qb.push(" LIMIT ")
        .push_bind(window.limit)
        .push(" OFFSET ")
        .push_bind(window.offset);
}

impl ListQuery {
    /// The filter rows are found from when a list reads its keys first: the first `~` filter on a related
    /// value with a substring index.
    fn driver(&self) -> Option<usize> {
        self.filters.iter().position(|(field, condition)| {
            matches!(
                (&field.column, condition),
                (
                    Column::Related {
                        substring_index: Some(_),
                        ..
                    },
                    Condition::Fuzzy(_)
                )
            )
        })
    }
}

/// ` FROM …` of `count` (`SELECT COUNT(*) FROM …`); with a driving filter, the keys it reads from its
/// index come first: ` FROM (keys) matched CROSS JOIN …`, which SQLite joins in that order (PostgreSQL
/// chooses the order itself).
fn push_from(
    qb: &mut SqlBuilder<'_>,
    backend: Backend,
    count: &str,
    scope: &[Scope<'_>],
    query: &ListQuery,
    driver: Option<usize>,
) {
    let from = count.trim_start_matches("SELECT COUNT(*)");
    let Some((field, Condition::Fuzzy(part))) = driver.and_then(|i| query.filters.get(i)) else {
        qb.push(from);
        return;
    };
    let Column::Related {
        substring_index: Some(index),
        ..
    } = &field.column
    else {
        qb.push(from);
        return;
    };
    let within = scope.iter().find_map(|condition| match condition {
        Scope::Is(column, value) if Some(*column) == index.within => Some(*value),
        _ => None,
    });
    qb.push(" FROM (");
    index.substrings.push_keys(qb, backend, part, within);
    qb.push(") matched CROSS JOIN ")
        .push(from.trim_start().trim_start_matches("FROM"));
}

fn push_where(
    qb: &mut SqlBuilder<'_>,
    scope: &[Scope<'_>],
    query: &ListQuery,
    driver: Option<usize>,
) {
    let mut first = true;
    let mut next = |qb: &mut SqlBuilder<'_>| {
        qb.push(if first { " WHERE " } else { " AND " });
        first = false;
    };
    for condition in scope {
        next(qb);
        match condition {
            Scope::Sql(sql) => {
                qb.push("(").push(*sql).push(")");
            }
            Scope::Is(column, value) => {
                qb.push(*column).push(" = ").push_bind(*value);
            }
            Scope::OneOf(_, []) => {
                qb.push("1 = 0");
            }
            Scope::OneOf(column, ids) => {
                let ids = serde_json::Value::from(ids.to_vec()).to_string();
                qb.push(*column)
                    .push(" IN (SELECT CAST(value AS BIGINT) FROM json_each(")
                    .push_bind(ids)
                    .push("))");
            }
        }
    }
    for (i, (field, condition)) in query.filters.iter().enumerate() {
        next(qb);
        match (&field.column, driver == Some(i)) {
            (
                Column::Related {
                    substring_index: Some(index),
                    ..
                },
                true,
            ) => {
                qb.push(index.key).push(" = matched.listed_key");
            }
            (column, _) => push_condition(qb, column, condition),
        }
    }
}

/// The terms of the order of `query` over `sql`: its sort keys or the default order, then the
/// tie-breaker, as `(expression, descending)`.
fn order_terms(sql: &ListSql<'_>, query: &ListQuery) -> Vec<(String, bool)> {
    let mut terms: Vec<(String, bool)> = query
        .sort
        .iter()
        .filter_map(|(field, descending)| match &field.column {
            Column::Expr(expr) => Some((expr.clone(), *descending)),
            Column::Related { .. } => None,
        })
        .collect();
    if terms.is_empty() {
        terms = parse_order(sql.default_order);
    }
    terms.extend(parse_order(sql.tie_breaker));
    terms
}

/// The terms of a trusted `ORDER BY` list such as `t.push_time DESC, t.name`.
fn parse_order(order: &str) -> Vec<(String, bool)> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    let mut push = |term: &str| {
        let term = term.trim();
        if let Some(expr) = term.strip_suffix(" DESC") {
            terms.push((expr.trim_end().to_owned(), true));
        } else if !term.is_empty() {
            let expr = term.strip_suffix(" ASC").unwrap_or(term);
            terms.push((expr.trim_end().to_owned(), false));
        }
    };
    for (i, c) in order.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                push(&order[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&order[start..]);
    terms
}

/// ` ORDER BY` the `terms`, each turned the other way if `reversed`.
fn push_order(qb: &mut SqlBuilder<'_>, terms: &[(String, bool)], reversed: bool) {
    let keys: Vec<String> = terms
        .iter()
        .map(|(expr, descending)| {
            // SQLite's NULL order, spelled out so PostgreSQL (whose default is the reverse) agrees.
            let direction = if *descending != reversed {
                "DESC NULLS LAST"
            } else {
                "ASC NULLS FIRST"
            };
            format!("{expr} {direction}")
        })
        .collect();
    qb.push(" ORDER BY ").push(keys.join(", "));
}

fn push_condition(qb: &mut SqlBuilder<'_>, column: &Column, condition: &Condition) {
    let (from, related) = match column {
        Column::Expr(expr) => return push_match(qb, expr, condition),
        Column::Related { from, column, .. } => (*from, *column),
    };
    let exists = |qb: &mut SqlBuilder<'_>, condition: &Condition| {
        qb.push("EXISTS (SELECT 1 FROM ").push(from).push(" AND ");
        push_match(qb, related, condition);
        qb.push(")");
    };
    match condition {
        Condition::Exact(Value::Text(v)) if v == "*" => {
            qb.push("EXISTS (SELECT 1 FROM ").push(from).push(")");
        }
        Condition::Exact(Value::Text(v)) if v == "nil" => {
            qb.push("NOT EXISTS (SELECT 1 FROM ").push(from).push(")");
        }
        Condition::AllOf(values) => {
            qb.push("(");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    qb.push(" AND ");
                }
                exists(qb, &Condition::Exact(value.clone()));
            }
            qb.push(")");
        }
        other => exists(qb, other),
    }
}

/// `expr` meets `condition`.
fn push_match(qb: &mut SqlBuilder<'_>, expr: &str, condition: &Condition) {
    match condition {
        Condition::Exact(value) => push_equals(qb, expr, value),
        Condition::Fuzzy(part) => {
            qb.push("instr(")
                .push(expr)
                .push(", ")
                .push_bind(part.clone())
                .push(") > 0");
        }
        Condition::Range(min, max) => {
            qb.push("(");
            if let Some(min) = min {
                qb.push(expr).push(" >= ");
                match min {
                    Value::Time { from, .. } => qb.push_bind(from.clone()),
                    other => push_value(qb, other),
                };
            }
            if let Some(max) = max {
                if min.is_some() {
                    qb.push(" AND ");
                }
                match max {
                    Value::Time { until, .. } => qb.push(expr).push(" < ").push_bind(until.clone()),
                    other => push_value(qb.push(expr).push(" <= "), other),
                };
            }
            if min.is_none() && max.is_none() {
                qb.push("1 = 1");
            }
            qb.push(")");
        }
        Condition::AnyOf(values) | Condition::AllOf(values) => {
            let join = if matches!(condition, Condition::AnyOf(_)) {
                " OR "
            } else {
                " AND "
            };
            qb.push("(");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    qb.push(join);
                }
                push_equals(qb, expr, value);
            }
            if values.is_empty() {
                qb.push("1 = 0");
            }
            qb.push(")");
        }
    }
}

fn push_equals(qb: &mut SqlBuilder<'_>, expr: &str, value: &Value) {
    match value {
        Value::Time { from, until } => {
            qb.push("(")
                .push(expr)
                .push(" >= ")
                .push_bind(from.clone())
                .push(" AND ")
                .push(expr)
                .push(" < ")
                .push_bind(until.clone())
                .push(")");
        }
        other => {
            push_value(qb.push(expr).push(" = "), other);
        }
    }
}

fn push_value<'q, 'args>(
    qb: &'q mut SqlBuilder<'args>,
    value: &Value,
) -> &'q mut SqlBuilder<'args> {
    match value {
        Value::Text(text) => qb.push_bind(text.clone()),
        Value::Integer(n) => qb.push_bind(*n),
        Value::Bool(b) => qb.push_bind(*b),
        Value::Time { from, .. } => qb.push_bind(from.clone()),
    }
}

// The whitelists. Each names the aliases of its list's query in `super::<resource>`.

/// `GET /projects` (`p` projects, `u` the owner).
pub static PROJECTS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("project_id", "p.id", Kind::Integer),
        Field::new("name", "p.name", Kind::Text),
        Field::new("public", "p.public", Kind::Bool),
        Field::new("owner", "u.username", Kind::Text),
        Field::new("owner_id", "p.owner_id", Kind::Integer),
        Field::new("creation_time", "p.created_at", Kind::Time),
        Field::new("update_time", "p.updated_at", Kind::Time),
        Field::new(
            "repo_count",
            "(SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id)",
            Kind::Integer,
        ),
    ]
});

/// `GET /quotas`: each project's quota, over the project list's query. `hard` and `used` are the storage
/// resource, also spelt Harbor's way (`used.storage`).
pub static QUOTAS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "p.id", Kind::Integer),
        Field::new("reference", "'project'", Kind::Text),
        Field::new("reference_id", "p.id", Kind::Integer),
        Field::new("hard", "p.storage_limit", Kind::Integer),
        Field::new("hard.storage", "p.storage_limit", Kind::Integer),
        Field::new("used", "p.storage_used", Kind::Integer),
        Field::new("used.storage", "p.storage_used", Kind::Integer),
        Field::new("creation_time", "p.created_at", Kind::Time),
        Field::new("update_time", "p.updated_at", Kind::Time),
    ]
});

/// `GET /repositories` and `GET /projects/{p}/repositories` (`r` repositories).
pub static REPOSITORIES: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "r.id", Kind::Integer),
        Field::new("project_id", "r.project_id", Kind::Integer),
        Field::new("name", "r.name", Kind::Text),
        Field::new("creation_time", "r.created_at", Kind::Time),
        Field::new("update_time", "r.updated_at", Kind::Time),
        Field::new("pull_count", "r.pull_count", Kind::Integer),
        Field::new("artifact_count", "r.artifact_count", Kind::Integer),
    ]
});

/// `GET …/artifacts` (`a` artifacts). `type` mirrors `service::artifacts::kind`.
pub static ARTIFACTS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "a.id", Kind::Integer),
        Field::new("digest", "a.digest", Kind::Text),
        Field {
            key: "tags",
            column: Column::Related {
                from: "tags t WHERE t.artifact_id = a.id",
                column: "t.name",
                substring_index: Some(SubstringIndex {
                    substrings: Substrings::TagNames,
                    key: "a.id",
                    within: Some("a.repository_id"),
                }),
            },
            kind: Kind::Text,
        },
        Field::new(
            "type",
            "CASE
               WHEN a.media_type IN ('application/vnd.oci.image.index.v1+json',
                                     'application/vnd.docker.distribution.manifest.list.v2+json') THEN 'IMAGE'
               WHEN a.artifact_type IN ('application/vnd.oci.image.config.v1+json',
                                        'application/vnd.docker.container.image.v1+json') THEN 'IMAGE'
               WHEN a.artifact_type = 'application/vnd.cncf.helm.config.v1+json' THEN 'CHART'
               WHEN a.artifact_type = 'application/vnd.cnab.config.v1+json' THEN 'CNAB'
               ELSE 'UNKNOWN' END",
            Kind::Text,
        ),
        Field {
            key: "labels",
            column: Column::Related {
                from: "artifact_labels al WHERE al.artifact_id = a.id",
                column: "al.label_id",
                substring_index: None,
            },
            kind: Kind::Integer,
        },
        Field::new("manifest_media_type", "a.media_type", Kind::Text),
        Field::new("artifact_type", "a.artifact_type", Kind::Text),
        Field::new("size", "a.total_size", Kind::Integer),
        Field::new("push_time", "a.push_time", Kind::Time),
        Field::new("pull_time", "a.pull_time", Kind::Time),
        Field::new("pull_count", "a.pull_count", Kind::Integer),
    ]
});

/// `GET …/artifacts/{reference}/accessories` (`a` artifacts). `type` mirrors
/// `service::artifacts::accessory_kind`; `creation_time` is the push time, as in Harbor's `Accessory`.
pub static ACCESSORIES: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "a.id", Kind::Integer),
        Field::new("artifact_id", "a.id", Kind::Integer),
        Field::new("digest", "a.digest", Kind::Text),
        Field::new(
            "type",
            "CASE
               WHEN a.artifact_type = 'application/vnd.cncf.notary.signature' THEN 'signature.notation'
               WHEN a.artifact_type LIKE 'application/vnd.dev.cosign%' THEN 'signature.cosign'
               WHEN a.artifact_type = 'application/vnd.goharbor.harbor.sbom.v1' THEN 'harbor.sbom'
               ELSE 'subject.accessory' END",
            Kind::Text,
        ),
        Field::new("size", "a.total_size", Kind::Integer),
        Field::new("creation_time", "a.push_time", Kind::Time),
    ]
});

/// `GET …/artifacts/{reference}/tags` (`t` tags).
pub static TAGS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "t.rowid", Kind::Integer),
        Field::new("name", "t.name", Kind::Text),
        Field::new("push_time", "t.push_time", Kind::Time),
        Field::new("pull_time", "t.pull_time", Kind::Time),
    ]
});

/// `GET /audit-logs` and `GET /projects/{p}/logs`.
pub static AUDIT_LOGS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "id", Kind::Integer),
        Field::new("username", "username", Kind::Text),
        Field::new("resource", "resource", Kind::Text),
        Field::new("resource_type", "resource_type", Kind::Text),
        Field::new("operation", "operation", Kind::Text),
        Field::new("op_time", "op_time", Kind::Time),
    ]
});

/// `GET /robots`, with Harbor's spelling of `Level` and `ProjectID`.
pub static ROBOTS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "id", Kind::Integer),
        Field::new("name", "name", Kind::Text),
        Field::new("Level", "level", Kind::Text),
        Field::new("ProjectID", "project_id", Kind::Integer),
        Field::new("disable", "disabled", Kind::Bool),
        Field::new("expires_at", "expires_at", Kind::Integer),
        Field::new("creation_time", "created_at", Kind::Time),
        Field::new("update_time", "updated_at", Kind::Time),
    ]
});

/// `GET /projects/{p}/immutabletagrules`.
pub static IMMUTABLE_RULES: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "id", Kind::Integer),
        Field::new("disabled", "disabled", Kind::Bool),
        Field::new("priority", "priority", Kind::Integer),
    ]
});

/// `GET /labels`.
pub static LABELS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("id", "id", Kind::Integer),
        Field::new("name", "name", Kind::Text),
        Field::new("description", "description", Kind::Text),
        Field::new("color", "color", Kind::Text),
        Field::new("creation_time", "created_at", Kind::Time),
        Field::new("update_time", "updated_at", Kind::Time),
    ]
});

/// `GET /users`.
pub static USERS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("user_id", "id", Kind::Integer),
        Field::new("username", "username", Kind::Text),
        Field::new("email", "email", Kind::Text),
        Field::new("realname", "realname", Kind::Text),
        Field::new("sysadmin_flag", "sysadmin", Kind::Bool),
        Field::new("creation_time", "created_at", Kind::Time),
        Field::new("update_time", "updated_at", Kind::Time),
    ]
});

/// `GET /projects/{p}/members` (`m` members, `u` a user member, `g` a group member); its `entityname`
/// parameter is a substring of the name.
pub static MEMBERS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    vec![
        Field::new("entityname", super::members::MEMBER_NAME, Kind::Text),
        Field::new("entity_type", "m.entity_type", Kind::Text),
        Field::new("role", "m.role", Kind::Integer),
    ]
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_past_the_middle_are_read_from_the_end() {
        let window = |limit, offset, reversed| Window {
            limit,
            offset,
            reversed,
        };
        // 10 rows in pages of 3: 0-2, 3-5 from the start; 6-8 and the last row (9) from the end.
        assert_eq!(Window::of(10, 3, 0), window(3, 0, false));
        assert_eq!(Window::of(10, 3, 3), window(3, 3, false));
        assert_eq!(Window::of(10, 3, 6), window(3, 1, true));
        assert_eq!(Window::of(10, 3, 9), window(1, 0, true));
        // The middle page of an odd count reads forward; the last full page reads from the end.
        assert_eq!(Window::of(9, 3, 3), window(3, 3, false));
        assert_eq!(Window::of(9, 3, 6), window(3, 0, true));
        assert_eq!(Window::of(1, 100, 0), window(100, 0, false));
        assert_eq!(Window::of(1_000_000, 15, 999_990), window(10, 0, true));
        assert_eq!(Window::of(i64::MAX, 100, i64::MAX - 1), window(1, 0, true));
    }

    #[test]
    fn orders_are_read_into_terms_and_turned_around() {
        assert_eq!(
            parse_order("t.push_time DESC, t.name"),
            [
                ("t.push_time".to_owned(), true),
                ("t.name".to_owned(), false)
            ]
        );
        assert_eq!(
            parse_order("COALESCE(a, b) ASC,id DESC"),
            [
                ("COALESCE(a, b)".to_owned(), false),
                ("id".to_owned(), true)
            ]
        );
        let mut qb = SqlBuilder::new("");
        push_order(&mut qb, &parse_order("a.push_time DESC, a.id"), true);
        assert_eq!(
            qb.sql(),
            " ORDER BY a.push_time ASC NULLS FIRST, a.id DESC NULLS LAST"
        );
    }
}
