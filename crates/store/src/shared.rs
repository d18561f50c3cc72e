//! A shared PostgreSQL server, for the many workstations of a trust on one
//! patient record. The site names it by a URL without a password; the password
//! comes from a file only the account can read, or from the OS keyring, or is
//! not needed (a client certificate, or a local socket). TLS is required, with
//! the server's name verified, for any host that is not this machine.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use zeroize::Zeroizing;

use crate::backend::{Pool, on_pool};
use crate::connection::{Place, has_migrations_table, refuse_newer_schema};
use crate::error::database;
use crate::{Store, StoreError};

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The keyring service under which a shared store's password may be kept; the
/// account is the store's URL as `SharedDatabase::display` shows it.
pub const PASSWORD_KEYRING_SERVICE: &str = "uk.example.clinicalworkstation.store-password";

/// How many connections one workstation keeps to the server: a trust runs
/// hundreds of workstations against one server, so each keeps few.
const CONNECTIONS_PER_WORKSTATION: u32 = 3;

/// A shared store's server and database, and how to prove who we are to it.
#[derive(Clone, Debug)]
pub struct SharedDatabase {
    url: url::Url,
    /// A file holding the password, readable by the account alone.
    pub password_file: Option<PathBuf>,
    /// The CA that signed the server's certificate, where it is not in the OS store.
    pub ca: Option<PathBuf>,
    /// A client certificate and its key, where the server asks for one.
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl SharedDatabase {
    /// Reads a `postgres://user@host:port/database` URL. Refused with the reason:
    /// a password in the URL (it would sit in the settings and in logs), and, for
    /// a host that is not this machine, a TLS mode weaker than `verify-full`.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::Invalid { field: "store.url".into(), reason: reason.into() };
        let url = url::Url::parse(text.trim()).map_err(|_| {
            invalid("is not a URL; give postgres://user@host:port/database (no password in it)")
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(invalid("a shared store's URL begins postgres://"));
        }
        if url.password().is_some() {
            return Err(invalid(
                "holds a password; a password never goes in the URL, where settings files and logs would show it. Put it in the keyring or a password file readable by this account alone",
            ));
        }
        if url.path().trim_start_matches('/').is_empty() {
            return Err(invalid("names no database; give postgres://user@host:port/database"));
        }
        let database =
            Self { url, password_file: None, ca: None, client_certificate: None, client_key: None };
        let mode = database.ssl_mode()?;
        if !database.is_loopback() && !matches!(mode, PgSslMode::VerifyFull) {
            return Err(invalid(
                "asks for weaker TLS than verify-full for a server that is not this machine; patient data crosses the network only over TLS with the server's name verified",
            ));
        }
        Ok(database)
    }

    /// The URL without any secret, for messages, logs and the keyring account.
    pub fn display(&self) -> String {
        let mut shown = self.url.clone();
        shown.set_query(None);
        shown.to_string()
    }

    fn host(&self) -> &str {
        self.url.host_str().unwrap_or("localhost")
    }

    /// This machine: a loopback address, `localhost`, or a local socket folder.
    fn is_loopback(&self) -> bool {
        let host = self.host().trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.starts_with('/')
            || host.starts_with("%2F")
            || IpAddr::from_str(host).is_ok_and(|ip| ip.is_loopback())
    }

    /// `sslmode` from the URL; for another machine it defaults to `verify-full`.
    fn ssl_mode(&self) -> Result<PgSslMode, StoreError> {
        let given = self.url.query_pairs().find(|(name, _)| name == "sslmode").map(|(_, v)| v.into_owned());
        match given {
            Some(mode) => PgSslMode::from_str(&mode).map_err(|_| StoreError::Invalid {
                field: "store.url".into(),
                reason: format!("sslmode={mode} is not a PostgreSQL TLS mode"),
            }),
            None if self.is_loopback() => Ok(PgSslMode::Prefer),
            None => Ok(PgSslMode::VerifyFull),
        }
    }

    async fn connect_options(&self) -> Result<PgConnectOptions, StoreError> {
        // The URL without its query: the TLS mode is decided above, not by the URL alone.
        let mut base = self.url.clone();
        base.set_query(None);
        let mut options = PgConnectOptions::from_str(base.as_str())
            .map_err(database)?
            .ssl_mode(self.ssl_mode()?)
            .application_name("clinical-workstation")
            // Statements are not logged: their values may be patient data.
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::ZERO);
        if let Some(ca) = &self.ca {
            options = options.ssl_root_cert(ca);
        }
        if let (Some(certificate), Some(key)) = (&self.client_certificate, &self.client_key) {
            options = options.ssl_client_cert(certificate).ssl_client_key(key);
        }
        if let Some(password) = self.password().await? {
            options = options.password(&password);
        }
        Ok(options)
    }

    /// The password from the site's file, else the keyring, else none.
    async fn password(&self) -> Result<Option<Zeroizing<String>>, StoreError> {
        if let Some(file) = &self.password_file {
            return read_password_file(file).map(Some);
        }
        let account = self.display();
        let found = tokio::task::spawn_blocking(move || {
            keyring::Entry::new(PASSWORD_KEYRING_SERVICE, &account).and_then(|entry| entry.get_password())
        })
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?;
        match found {
            Ok(password) => Ok(Some(Zeroizing::new(password))),
            // No entry, or no keyring at all: connect without a password (certificate or trust).
            Err(_) => Ok(None),
        }
    }

    async fn pool(&self) -> Result<Pool, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS_PER_WORKSTATION)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(self.connect_options().await?)
            .await
            .map_err(|error| self.unreachable(error))?;
        Ok(Pool::Shared(pool))
    }

    fn unreachable(&self, error: sqlx::Error) -> StoreError {
        let detail = match &error {
            sqlx::Error::Database(db) => format!("the server refused: {}", db.message()),
            sqlx::Error::Tls(tls) => format!("TLS failed: {tls}"),
            sqlx::Error::Io(io) => io.to_string(),
            sqlx::Error::PoolTimedOut => "it did not answer within 10 s".into(),
            other => other.to_string(),
        };
        StoreError::Unreachable { location: self.display(), detail }
    }
}

/// A password file is read only where no other account can read or change it.
/// No table at all; or this store's schema with not one row in it, as a copy
/// interrupted after the schema was made leaves it, so the copy can be run again.
async fn holds_nothing(pool: &Pool) -> Result<bool, StoreError> {
    let (tables,): (i64,) = on_pool!(pool, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    .fetch_one(c)
    .await)
    .map_err(database)?;
    if tables == 0 {
        return Ok(true);
    }
    if !has_migrations_table(pool).await? {
        return Ok(false);
    }
    let rows: Result<(i64,), sqlx::Error> = on_pool!(pool, |c| {
        sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM patients) + (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM audit_log)
              + (SELECT COUNT(*) FROM audit_head) + (SELECT COUNT(*) FROM store_facts)"
    )
    .fetch_one(c)
    .await
    });
    // A table of ours missing means someone else's schema: not empty.
    Ok(rows.is_ok_and(|(count,)| count == 0))
}

fn read_password_file(path: &Path) -> Result<Zeroizing<String>, StoreError> {
    let refuse = |reason: &str| StoreError::Invalid {
        field: "store.password_file".into(),
        reason: format!("{}: {reason}", path.display()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).map_err(|e| refuse(&e.to_string()))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if metadata.uid() != unsafe { libc::geteuid() } {
            return Err(refuse("belongs to another account; it must be this account's own"));
        }
        if metadata.mode() & 0o077 != 0 {
            return Err(refuse("others may read it; make it readable by this account alone (chmod 600)"));
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| refuse(&e.to_string()))?);
    Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned()))
}

impl Store {
    /// Makes a new shared store in an empty database: the schema, and the
    /// trail's genesis entry. Refused where the database holds any table.
    pub async fn create_shared(shared: &SharedDatabase) -> Result<Self, StoreError> {
        let store = Self::create_shared_schema(shared).await?;
        store.write_genesis().await?;
        Ok(store)
    }

    /// The schema alone in an empty database, for a copy that brings its own trail.
    pub(crate) async fn create_shared_schema(shared: &SharedDatabase) -> Result<Self, StoreError> {
        let pool = shared.pool().await?;
        if !holds_nothing(&pool).await? {
            on_pool!(&pool, |c| c.close().await);
            return Err(StoreError::NotEmpty { location: shared.display() });
        }
        Self::migrated(pool, shared).await
    }

    /// Opens a shared store made by `create_shared`, migrating it if this
    /// version is newer than the schema (the migrator locks out other openers).
    pub async fn open_shared(shared: &SharedDatabase) -> Result<Self, StoreError> {
        let pool = shared.pool().await?;
        if !has_migrations_table(&pool).await? {
            on_pool!(&pool, |c| c.close().await);
            return Err(StoreError::NotInitialised { location: shared.display() });
        }
        Self::migrated(pool, shared).await
    }

    async fn migrated(pool: Pool, shared: &SharedDatabase) -> Result<Self, StoreError> {
        let place = Place::Shared(shared.clone());
        refuse_newer_schema(&pool, &place).await?;
        if let Pool::Shared(pool) = &pool {
            MIGRATOR.run(pool).await.map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        }
        Ok(Self { pool, writer: None, direct: None, place })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        SharedDatabase::parse(url).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_password_in_the_url_is_refused() {
        assert!(
            refused("postgres://cws:secret@db.example.nhs.uk/cws").contains("password never goes in the URL")
        );
    }

    #[test]
    fn another_machine_needs_verified_tls() {
        for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
            let error = refused(&format!("postgres://cws@db.example.nhs.uk/cws?sslmode={weak}"));
            assert!(error.contains("verify-full"), "{weak}: {error}");
        }
        let database = SharedDatabase::parse("postgres://cws@db.example.nhs.uk/cws").expect("accepted");
        assert!(
            matches!(database.ssl_mode().expect("mode"), PgSslMode::VerifyFull),
            "the default for another machine"
        );
    }

    #[test]
    fn this_machine_may_go_without_tls() {
        for url in [
            "postgres://cws@127.0.0.1:5432/cws?sslmode=disable",
            "postgres://cws@localhost/cws?sslmode=disable",
            "postgres://cws@[::1]:5432/cws?sslmode=disable",
        ] {
            assert!(SharedDatabase::parse(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn a_url_without_a_database_or_of_another_kind_is_refused() {
        assert!(refused("postgres://cws@127.0.0.1:5432").contains("names no database"));
        assert!(refused("mysql://cws@127.0.0.1/cws").contains("postgres://"));
        assert!(refused("not a url").contains("is not a URL"));
    }

    #[test]
    fn the_shown_location_carries_no_query() {
        let database =
            SharedDatabase::parse("postgres://cws@127.0.0.1:5432/cws?sslmode=disable").expect("ok");
        assert_eq!(database.display(), "postgres://cws@127.0.0.1:5432/cws");
    }

    #[test]
    fn a_password_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().expect("temp");
        let file = folder.path().join("password");
        std::fs::write(&file, "not-a-real-password\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let Err(error) = read_password_file(&file) else {
            panic!("a password file others can read is refused")
        };
        let error = error.to_string();
        assert!(error.contains("chmod 600"), "{error}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(read_password_file(&file).expect("read").as_str(), "not-a-real-password");
    }
}
