//! Queries assembled at run time (lists, filters, bulk inserts), for both backends.
//!
//! sqlx's `QueryBuilder` writes its `Any` placeholders as `?`, which PostgreSQL does not read. [`SqlBuilder`]
//! has the same shape (`push`, `push_bind`, `separated`, `build…`) and numbers its placeholders `$1, $2, …`,
//! which SQLite and PostgreSQL both accept.

use std::fmt::{Display, Write as _};

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments as _, Encode, FromRow, Type};

/// SQL text with its bound values, placeholders numbered as they are pushed.
#[derive(Default)]
pub struct SqlBuilder<'args> {
    sql: String,
    arguments: AnyArguments<'args>,
    /// The first value that could not be encoded: the query is refused when it is built.
    failed: Option<sqlx::error::BoxDynError>,
}

impl<'args> SqlBuilder<'args> {
    pub fn new(init: impl Into<String>) -> SqlBuilder<'args> {
        SqlBuilder {
            sql: init.into(),
            ..SqlBuilder::default()
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: impl Display) -> &mut Self {
        let _ = write!(self.sql, "{sql}");
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        if let Err(e) = self.arguments.add(value) {
            self.failed.get_or_insert(e);
        }
        let _ = write!(self.sql, "${}", self.arguments.len());
        self
    }

    /// A list whose items are separated by `separator`.
    pub fn separated<'b>(&'b mut self, separator: &'static str) -> Separated<'b, 'args> {
        Separated {
            builder: self,
            separator,
            first: true,
        }
    }

    /// The SQL so far.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The bound values, or the error of the first that failed to encode.
    fn arguments(&mut self) -> Result<AnyArguments<'args>, sqlx::Error> {
        match self.failed.take() {
            Some(e) => Err(sqlx::Error::Encode(e)),
            None => Ok(std::mem::take(&mut self.arguments)),
        }
    }

    /// The statement, for `execute`.
    pub fn build(&mut self) -> Result<Query<'_, Any, AnyArguments<'_>>, sqlx::Error> {
        let arguments = self.arguments()?;
        Ok(sqlx::query_with(&self.sql, arguments))
    }

    /// The statement, its rows read as `T`.
    pub fn build_query_as<T>(
        &mut self,
    ) -> Result<QueryAs<'_, Any, T, AnyArguments<'_>>, sqlx::Error>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.arguments()?;
        Ok(sqlx::query_as_with(&self.sql, arguments))
    }

    /// The statement, its rows' first column read as `T`.
    pub fn build_query_scalar<T>(
        &mut self,
    ) -> Result<QueryScalar<'_, Any, T, AnyArguments<'_>>, sqlx::Error>
    where
        (T,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let arguments = self.arguments()?;
        Ok(sqlx::query_scalar_with(&self.sql, arguments))
    }
}

/// Items of a list, separated (see [`SqlBuilder::separated`]).
pub struct Separated<'b, 'args> {
    builder: &'b mut SqlBuilder<'args>,
    separator: &'static str,
    first: bool,
}

impl<'args> Separated<'_, 'args> {
    fn separate(&mut self) {
        if !self.first {
            self.builder.push(self.separator);
        }
        self.first = false;
    }

    /// Appends an item of SQL text.
    pub fn push(&mut self, sql: impl Display) -> &mut Self {
        self.separate();
        self.builder.push(sql);
        self
    }

    /// Appends an item that is a bound value.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        self.separate();
        self.builder.push_bind(value);
        self
    }

    /// Appends SQL text to the current item (no separator).
    pub fn push_unseparated(&mut self, sql: impl Display) -> &mut Self {
        self.builder.push(sql);
        self
    }

    /// Appends a bound value to the current item (no separator).
    pub fn push_bind_unseparated<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut qb = SqlBuilder::new("SELECT 1 WHERE a = ");
        qb.push_bind(1_i64).push(" AND b IN (");
        let mut list = qb.separated(", ");
        list.push_bind("x").push_bind("y");
        qb.push(")");
        assert_eq!(qb.sql(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
    }
}
