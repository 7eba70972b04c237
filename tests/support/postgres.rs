//! Fresh PostgreSQL databases on the test server (`CHANCERY_TEST_POSTGRES_URL`, by default
//! `postgres://root@127.0.0.1:5432/test`), made one way for every test: each test gets a
//! database no other test (or earlier run) uses, so tests run in parallel on one server.

use sqlx::AnyPool;

/// The server's URL, naming the database that new ones are created from.
pub fn server_url() -> String {
    std::env::var("CHANCERY_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// Creates an empty database whose name carries `tag` (lower case letters); returns its name and
/// URL. The server must be running: without it the test fails loudly rather than skips.
pub async fn create_database(tag: &str) -> (String, String) {
    sqlx::any::install_default_drivers();
    let server = server_url();
    let name = format!("chancery_{}", super::unique(tag).replace('-', "_"));
    let admin = AnyPool::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {server} cannot be reached ({e}): these tests need it running"));
    for statement in [format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await.unwrap_or_else(|e| panic!("cannot create {name}: {e}"));
    }
    admin.close().await;
    let url = database_url(&server, &name);
    (name, url)
}

/// The URL of database `name` on the server of `server`, with the same connection options.
fn database_url(server: &str, name: &str) -> String {
    let (address, options) = server.split_once('?').map_or((server, None), |(a, o)| (a, Some(o)));
    let (root, _) = address.rsplit_once('/').expect("the PostgreSQL URL names a database");
    match options {
        Some(options) => format!("{root}/{name}?{options}"),
        None => format!("{root}/{name}"),
    }
}

/// A fresh database that is dropped with this value, for tests that run outside an async
/// runtime (those that run the `chancery` binary).
pub struct PostgresDatabase {
    pub name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub fn fresh(tag: &str) -> PostgresDatabase {
        let (name, url) = super::block_on(create_database(tag));
        PostgresDatabase { name, url }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        super::sql(&server_url(), &[&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)]);
    }
}
