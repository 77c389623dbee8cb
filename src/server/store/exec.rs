//! Running SQL on whichever connection a store has: sqlx's PostgreSQL and
//! SQLite connections, or the SQLite writer's own `rusqlite` connection.
//! The reads and writes of `tx` are written once against `Exec` and run on
//! any of them.

use async_trait::async_trait;
use sqlx::{PgConnection, Row, SqliteConnection};

use super::StoreError;
use super::rows::Dialect;

/// A value bound to a statement's parameter.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Blob(&'a [u8]),
    Flag(bool),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Blob(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Flag(v)
    }
}

/// An `Arg` that owns its value: one kept to be bound later.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Vec<u8>),
    Flag(bool),
}

impl From<&Arg<'_>> for Value {
    fn from(a: &Arg<'_>) -> Value {
        match *a {
            Arg::Int(v) => Value::Int(v),
            Arg::Text(v) => Value::Text(v.map(str::to_string)),
            Arg::Blob(v) => Value::Blob(v.to_vec()),
            Arg::Flag(v) => Value::Flag(v),
        }
    }
}

impl Value {
    pub fn arg(&self) -> Arg<'_> {
        match self {
            Value::Int(v) => Arg::Int(*v),
            Value::Text(v) => Arg::Text(v.as_deref()),
            Value::Blob(v) => Arg::Blob(v),
            Value::Flag(v) => Arg::Flag(*v),
        }
    }
}

/// Parameters from values of any of `Arg`'s kinds: `args![id, name]`.
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        [$($crate::server::store::exec::Arg::from($v)),*]
    };
}
pub(crate) use args;

/// A row's columns by name, whichever database gave it.
pub trait Cols {
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
}

/// A row's handler: called once for each row, in order.
pub type EachRow<'f> = dyn FnMut(&dyn Cols) -> Result<(), StoreError> + Send + 'f;

#[async_trait]
pub trait Exec: Send {
    fn dialect(&self) -> Dialect;
    /// Runs a statement; how many rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError>;
    /// Runs a statement and hands each row it returns to `row`.
    async fn each(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        row: &mut EachRow<'_>,
    ) -> Result<(), StoreError>;
}

impl dyn Exec + '_ {
    /// Every row, each read by `read`.
    pub async fn all<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl Fn(&dyn Cols) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each(sql, args, &mut |r| {
            out.push(read(r)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// The first row, if any, read by `read` (the statements asked this
    /// return one row at most).
    pub async fn optional<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl Fn(&dyn Cols) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.all(sql, args, read).await?.into_iter().next())
    }

    /// The one row a statement always returns.
    pub async fn one<T: Send>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        read: impl Fn(&dyn Cols) -> Result<T, StoreError> + Send + Sync,
    ) -> Result<T, StoreError> {
        self.optional(sql, args, read)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row came back from: {sql}")))
    }
}

/// Implements `Cols` for a row type whose method `$get` reads a column by
/// name into any type it decodes.
macro_rules! cols_by {
    ($row:ty, $get:ident) => {
        impl Cols for $row {
            fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.$get(column)?)
            }
            fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
                Ok(self.$get(column)?)
            }
            fn blob(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
                Ok(self.$get(column)?)
            }
            fn flag(&self, column: &str) -> Result<bool, StoreError> {
                Ok(self.$get(column)?)
            }
        }
    };
}

cols_by!(sqlx::sqlite::SqliteRow, try_get);
cols_by!(sqlx::postgres::PgRow, try_get);
cols_by!(rusqlite::Row<'_>, get);

/// A sqlx query of `sql` with `args` bound.
macro_rules! bound {
    ($sql:expr, $args:expr) => {{
        let mut q = sqlx::query(sqlx::AssertSqlSafe($sql));
        for a in $args {
            q = match *a {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Blob(v) => q.bind(v),
                Arg::Flag(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Implements `Exec` for a sqlx connection.
macro_rules! sqlx_exec {
    ($conn:ty, $dialect:expr) => {
        #[async_trait]
        impl Exec for $conn {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
                let q = bound!(sql, args);
                Ok(q.execute(&mut *self).await?.rows_affected())
            }

            async fn each(
                &mut self,
                sql: &str,
                args: &[Arg<'_>],
                row: &mut EachRow<'_>,
            ) -> Result<(), StoreError> {
                let q = bound!(sql, args);
                for r in q.fetch_all(&mut *self).await? {
                    row(&r)?;
                }
                Ok(())
            }
        }
    };
}

sqlx_exec!(SqliteConnection, super::rows::SQLITE);
sqlx_exec!(PgConnection, super::rows::POSTGRES);

/// A JSON object's members as columns: rows a statement gave as JSON.
impl Cols for serde_json::Map<String, serde_json::Value> {
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        json_member(self, column, serde_json::Value::as_i64)
    }
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        json_member(self, column, |v| v.as_str().map(str::to_string))
    }
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::Corrupt(format!(
            "{column}: JSON holds no bytes"
        )))
    }
    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        present(
            json_member(self, column, serde_json::Value::as_bool)?,
            column,
        )
    }
}

/// A member read as `read` reads it: `None` when absent or null, an error
/// when of another type.
fn json_member<T>(
    object: &serde_json::Map<String, serde_json::Value>,
    column: &str,
    read: impl Fn(&serde_json::Value) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    match object.get(column) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => read(v)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("{column}: {v}"))),
    }
}

/// A column that may not be NULL.
fn present<T>(v: Option<T>, column: &str) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("{column} is empty")))
}

pub fn int(row: &dyn Cols, column: &str) -> Result<i64, StoreError> {
    present(row.int(column)?, column)
}

pub fn text(row: &dyn Cols, column: &str) -> Result<String, StoreError> {
    present(row.text(column)?, column)
}

pub fn blob(row: &dyn Cols, column: &str) -> Result<Vec<u8>, StoreError> {
    present(row.blob(column)?, column)
}

#[cfg(test)]
mod tests {
    use super::{Cols, int, text};
    use crate::server::store::StoreError;

    fn object(json: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_json_object_reads_as_columns_and_names_the_one_that_is_wrong() {
        let row = object(r#"{"id": 7, "creditor": "Banco", "due": null}"#);
        assert_eq!(int(&row, "id").unwrap(), 7);
        assert_eq!(text(&row, "creditor").unwrap(), "Banco");
        assert_eq!(row.text("due").unwrap(), None);
        assert_eq!(row.int("absent").unwrap(), None);
        for wrong in [int(&row, "creditor").err(), int(&row, "due").err()] {
            assert!(
                matches!(&wrong, Some(StoreError::Corrupt(m)) if m.starts_with("creditor") || m.starts_with("due")),
                "{wrong:?}"
            );
        }
        assert!(matches!(row.flag("id"), Err(StoreError::Corrupt(m)) if m.starts_with("id")));
    }
}
