//! Opening the register: the connection pool for SQLite or PostgreSQL with each connection's
//! settings, the schema brought up to date, and closing with the write-ahead log emptied.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::{Backend, Result, Store, StoreError};

pub(super) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Whether opening may create the register. Only the commands that write letters into it
/// (`serve`, `ingest`, `send`) and `db migrate` create one; a command that only reads, run
/// from the wrong folder, must not leave an empty register behind and report it empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    CreateIfMissing,
    Existing,
}

/// The pool for `url`, each connection set up for the register (see `Store::open`).
pub(super) async fn connect(url: &str, mode: OpenMode) -> Result<(Backend, AnyPool)> {
    sqlx::any::install_default_drivers();
    let (backend, url) = if url.starts_with("sqlite:") {
        (Backend::Sqlite, sqlite_url(url, mode)?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (Backend::Postgres, url.to_string())
    } else {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    };
    let mut options = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 8 });
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _| {
            Box::pin(async move {
                // WAL lets readers work while the listener writes; the busy timeout lets a
                // second process wait for the write lock instead of failing.
                // Register databases are mostly message bytes: bigger pages mean fewer overflow
                // pages (takes effect only when the file is created).
                sqlx::query("PRAGMA page_size = 16384").execute(&mut *conn).await?;
                sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut *conn).await?;
                // A batch of letters is one transaction of a few megabytes: a cache that holds
                // it avoids spilling pages mid-transaction, and statement journals stay in RAM.
                // A larger cache buys little more: a letter of 50 MB spills anyway, and each
                // of the pool's connections would keep its cache full afterwards.
                sqlx::query("PRAGMA cache_size = -4096").execute(&mut *conn).await?;
                sqlx::query("PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
                // Checkpoints run beside registration (see `checkpoint_soon`), not inside the
                // commit of whichever batch happens to fill the log.
                sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut *conn).await?;
                Ok(())
            })
        });
    } else {
        options = options.after_connect(|conn, _| {
            Box::pin(async move {
                // The server's NOTICEs ("relation _sqlx_migrations already exists, skipping" on
                // every start) are chatter; sqlx would log each one on stderr at INFO.
                sqlx::query("SET client_min_messages = warning").execute(&mut *conn).await?;
                Ok(())
            })
        });
    }
    Ok((backend, options.connect(&url).await?))
}

impl Store {
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Copies the write-ahead log into the database and empties it (SQLite), then closes.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.ok();
        }
        self.pool.close().await;
    }

    /// Starts a checkpoint on another connection unless one is running, so the log is copied
    /// into the database while the next batch is being registered (SQLite; a no-op elsewhere).
    pub(super) fn checkpoint_soon(&self) {
        use std::sync::atomic::Ordering;
        if self.backend != Backend::Sqlite || self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, flag) = (self.pool.clone(), std::sync::Arc::clone(&self.checkpointing));
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                tracing::warn!(%error, "WAL checkpoint failed; it will be retried after the next batch");
            }
            flag.store(false, Ordering::Release);
        });
    }
}

/// The SQLite URL to connect with: it creates the file on first use, as an embedded default
/// should, only when `mode` allows; otherwise a missing file is an error naming where it was
/// looked for.
fn sqlite_url(url: &str, mode: OpenMode) -> Result<String> {
    if url.contains("mode=") || url.contains(":memory:") {
        return Ok(url.to_string());
    }
    let access = match mode {
        OpenMode::CreateIfMissing => "rwc",
        OpenMode::Existing => {
            let path = sqlite_path(url);
            if !path.exists() {
                let absolute = std::path::absolute(&path).unwrap_or(path);
                return Err(StoreError::Missing { path: absolute.display().to_string(), url: url.to_string() });
            }
            "rw"
        }
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}mode={access}"))
}

/// The file a `sqlite:` URL names: `sqlite://chancery.db`, `sqlite:///var/lib/x.db`, `sqlite:x.db`.
pub(super) fn sqlite_path(url: &str) -> std::path::PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    std::path::PathBuf::from(path)
}
