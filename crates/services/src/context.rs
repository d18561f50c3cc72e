//! What every workflow runs against: the store (local file or shared server,
//! the services cannot tell which), the site's settings and policy, the
//! regimen library, this workstation's name, and a clock. The store is reached
//! only through the service functions.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dosing::policy::SitePolicy;
use regimens::RegimenLibrary;
use settings::{Settings, StoreChoice};
use store::{SharedDatabase, Store};

use crate::ServiceError;

/// Where the store is, chosen once from the settings (or a path given for one run).
#[derive(Debug, Clone)]
pub enum StoreLocation {
    LocalFile(PathBuf),
    Shared(SharedDatabase),
}

impl StoreLocation {
    /// `given` (a path for this run, `cws --store`) wins; then the settings'
    /// choice; a local file defaults to the platform's data folder.
    pub fn choose(settings: &Settings, given: Option<PathBuf>) -> Result<Self, ServiceError> {
        if let Some(path) = given {
            return Ok(Self::LocalFile(path));
        }
        match &settings.store {
            StoreChoice::LocalFile(path) => {
                Ok(Self::LocalFile(path.clone().unwrap_or_else(store::default_path)))
            }
            StoreChoice::Shared(shared) => {
                let mut database = SharedDatabase::parse(&shared.url)?;
                database.password_file.clone_from(&shared.password_file);
                database.ca.clone_from(&shared.ca);
                database.client_certificate.clone_from(&shared.client_certificate);
                database.client_key.clone_from(&shared.client_key);
                Ok(Self::Shared(database))
            }
        }
    }

    /// The local file's path, where the store is one.
    pub fn local_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::LocalFile(path) => Some(path),
            Self::Shared(_) => None,
        }
    }

    /// Where, in words for a person (a path, or a server URL without secrets).
    pub fn describe(&self) -> String {
        match self {
            Self::LocalFile(path) => path.display().to_string(),
            Self::Shared(database) => database.display(),
        }
    }

    pub(crate) async fn open(&self) -> Result<Store, ServiceError> {
        Ok(match self {
            Self::LocalFile(path) => Store::open(path).await?,
            Self::Shared(database) => Store::open_shared(database).await?,
        })
    }
}

/// Reads the time; tests give a fixed one.
pub type Clock = fn() -> DateTime<Utc>;

pub struct Context {
    store: Store,
    settings: Settings,
    regimens: Arc<RegimenLibrary>,
    policy: Arc<SitePolicy>,
    workstation: String,
    clock: Clock,
    /// The PACS client, made at first use and kept: its TLS set-up and
    /// credentials are read once, not at every query.
    pacs: Arc<std::sync::OnceLock<crate::pacs::Pacs>>,
}

impl Context {
    /// Opens the store where `location` says, for `workstation` (its name in the audit trail).
    pub async fn open(
        location: &StoreLocation,
        settings: Settings,
        workstation: impl Into<String>,
    ) -> Result<Self, ServiceError> {
        let store = location.open().await?;
        Self::with_store(store, settings, workstation)
    }

    /// A context around a store already open (the store's own creation, and tests).
    pub fn with_store(
        store: Store,
        settings: Settings,
        workstation: impl Into<String>,
    ) -> Result<Self, ServiceError> {
        let regimens =
            Arc::new(RegimenLibrary::shipped().map_err(|e| ServiceError::Regimens(e.to_string()))?);
        let policy = Arc::new(SitePolicy::shipped().map_err(|e| ServiceError::Regimens(e.to_string()))?);
        Ok(Self {
            store,
            settings,
            regimens,
            policy,
            workstation: workstation.into(),
            clock: Utc::now,
            pacs: Arc::default(),
        })
    }

    /// The same context with another regimen library (a site's own, or a benchmark's).
    pub fn with_regimens(mut self, library: RegimenLibrary) -> Self {
        self.regimens = Arc::new(library);
        self
    }

    /// The same context with other settings (tests of a site's choices).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self.pacs = Arc::default();
        self
    }

    /// The same context reading time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The regimen library every calculation and prescription is made from.
    pub fn regimens(&self) -> &RegimenLibrary {
        &self.regimens
    }

    /// The site's dosing policy: banding tables, rounding rules, caps and limits.
    pub fn site_policy(&self) -> &SitePolicy {
        &self.policy
    }

    pub fn workstation(&self) -> &str {
        &self.workstation
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Where the store is: a file's path, or a server and database.
    pub fn store_location(&self) -> String {
        self.store.location()
    }

    /// Whether the store is a trust's shared server.
    pub fn is_shared_store(&self) -> bool {
        self.store.is_shared()
    }

    /// The PACS client for the site's `[pacs]`, made once.
    pub(crate) fn pacs(
        &self,
        settings: &settings::PacsSettings,
    ) -> Result<&crate::pacs::Pacs, crate::pacs::PacsError> {
        if let Some(made) = self.pacs.get() {
            return Ok(made);
        }
        let made = crate::pacs::Pacs::new(settings)?;
        Ok(self.pacs.get_or_init(|| made))
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn into_store(self) -> Store {
        self.store
    }

    /// Closes the store's connections; every path out of a command calls it.
    pub async fn close(self) {
        self.store.close().await;
    }
}

impl Clone for Context {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            settings: self.settings.clone(),
            regimens: Arc::clone(&self.regimens),
            policy: Arc::clone(&self.policy),
            workstation: self.workstation.clone(),
            clock: self.clock,
            pacs: Arc::clone(&self.pacs),
        }
    }
}
