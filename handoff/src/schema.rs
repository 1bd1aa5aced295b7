//! The journal's SQLite schema, and how a connection to it is opened. The crate docs show the
//! same schema to consumers in other languages; a test checks that the two agree.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::entry::FORMAT_VERSION;
use crate::error::OpenError;

/// The schema of format version 1, as the crate docs show it.
pub(crate) const SCHEMA: &str = include_str!("schema.sql");

/// How long a connection waits for another one's write lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the journal at `path` for writing: creates it and its schema if it is new, and sets
/// WAL with `synchronous=FULL`, so that a commit is on disk when it returns.
pub(crate) fn open_for_writing(path: &Path) -> Result<Connection, OpenError> {
    let fail = |source: rusqlite::Error| OpenError::journal(path, source);
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::journal_format(
            path,
            format!("SQLite cannot use WAL for it (journal_mode is {mode})"),
        ));
    }
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .map_err(fail)?;
    let version: u32 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(fail)?;
    match version {
        0 => {
            // A new file, or an SQLite database of something else: never add tables to that.
            let tables: u64 = connection
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |row| row.get(0),
                )
                .map_err(fail)?;
            if tables > 0 {
                return Err(OpenError::journal_format(
                    path,
                    "it is an SQLite database of something else (it has tables and no journal format version)".to_owned(),
                ));
            }
            let create = format!(
                "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {FORMAT_VERSION}; COMMIT;"
            );
            connection.execute_batch(&create).map_err(fail)?;
        }
        FORMAT_VERSION => check(&connection, path)?,
        newer => {
            return Err(OpenError::journal_format(
                path,
                format!("its format is version {newer}; this build reads {FORMAT_VERSION}"),
            ))
        }
    }
    Ok(connection)
}

/// Checks that a journal of this format version has exactly the documented tables and indexes:
/// a file whose schema was changed by hand (or by a build from before the format was fixed) is
/// refused at open, not at its first write.
fn check(connection: &Connection, path: &Path) -> Result<(), OpenError> {
    let fail = |source: rusqlite::Error| OpenError::journal(path, source);
    let mut select = connection
        .prepare(
            "SELECT sql FROM sqlite_schema \
             WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        )
        .map_err(fail)?;
    let found = select
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(fail)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let documented = SCHEMA
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty());
    if found.iter().map(String::as_str).eq(documented) {
        Ok(())
    } else {
        Err(OpenError::journal_format(
            path,
            format!("its tables are not those of format version {FORMAT_VERSION}"),
        ))
    }
}

/// Opens an existing journal for a consumer: reading never blocks the writer (WAL), and
/// marking entries done waits for the writer's lock at most [`BUSY_TIMEOUT`].
pub(crate) fn open_for_reading(path: &Path) -> Result<Connection, OpenError> {
    let fail = |source: rusqlite::Error| OpenError::journal(path, source);
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    let version: u32 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(fail)?;
    if version != FORMAT_VERSION {
        return Err(OpenError::journal_format(
            path,
            format!("its format is version {version}; this build reads {FORMAT_VERSION}"),
        ));
    }
    check(&connection, path)?;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_commits_to_disk_and_readers_never_block_it() {
        let dir = std::env::temp_dir().join(format!("tim-recall-schema-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.db");
        let writer = open_for_writing(&path).unwrap();
        let pragma = |name: &str| -> String {
            writer
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .map(|value| match value {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        // FULL is 2: each commit syncs the WAL before it returns. A kill -9 keeps what the
        // operating system was given, so only this setting makes a commit survive a power cut.
        assert_eq!(pragma("synchronous"), "2");
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("user_version"), FORMAT_VERSION.to_string());
        // A reader reads while the writer holds its write lock.
        writer
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO claims VALUES ('k', 'c', 1)")
            .unwrap();
        let reader = open_for_reading(&path).unwrap();
        let count: i64 = reader
            .query_row("SELECT count(*) FROM claims", [], |row| row.get(0))
            .unwrap();
        assert_eq!(
            count, 0,
            "the reader sees the last commit, not the open transaction"
        );
        writer.execute_batch("COMMIT").unwrap();
        drop(writer);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
