//! `cws`: the workstation's command line. It links no desktop libraries.
//! Exit codes: 0 ok, 2 bad input (with the field named), 1 anything else.

mod adt;
mod audit;
mod card;
mod card_authority;
mod chemotherapy;
mod demo;
mod demo_courses;
mod demo_ward_day;
mod discharges;
mod dose;
mod imaging;
mod nhs_number;
mod outbox;
mod output;
mod patient;
mod patient_list;
mod regimen;
mod store_admin;
mod trusted_settings;
mod user;
mod ward;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cws", version, about = "Clinical Workstation command line")]
struct Cli {
    /// A local store file for this run (default: the site settings, CWS_STORE_URL
    /// or CWS_STORE, else the platform data folder).
    #[arg(long, global = true)]
    store: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Calculate doses exactly, with the derivation of every number.
    #[command(subcommand)]
    Dose(dose::DoseCommand),
    /// The regimen library: list and show regimens, exchange versions with another site, approve a version here.
    #[command(subcommand)]
    Regimen(regimen::RegimenCommand),
    /// Create, inspect, back up, restore and re-key the encrypted store.
    #[command(subcommand)]
    Store(store_admin::StoreCommand),
    /// Add, find and show patients in the index.
    #[command(subcommand)]
    Patient(patient::PatientCommand),
    /// Check an NHS number.
    #[command(subcommand, name = "nhs-number")]
    NhsNumber(nhs_number::NhsNumberCommand),
    /// Verify and export the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Fictional demonstration data.
    #[command(subcommand)]
    Demo(demo::DemoCommand),
    /// Smart cards: list them, check a login, make demonstration cards.
    #[command(subcommand)]
    Card(card::CardCommand),
    /// Enrol, list and disable the staff who sign in with cards.
    #[command(subcommand)]
    User(user::UserCommand),
    /// SACT courses and cycles: start, prescribe, verify, release, administer.
    #[command(subcommand)]
    Sact(chemotherapy::SactCommand),
    /// The HL7 v2 interface: listen for messages over MLLP, and the error queue.
    #[command(subcommand)]
    Adt(adt::AdtCommand),
    /// The bed board: each ward's beds, their states and occupants (view_patients).
    Beds(ward::BedsArgs),
    /// Your own patient list: add (with a reason), remove, show.
    #[command(subcommand)]
    PatientList(patient_list::PatientListCommand),
    /// A patient's imaging studies from the PACS, and a viewer opened on one (card-gated).
    #[command(subcommand)]
    Imaging(imaging::ImagingCommand),
    /// Discharge summaries: draft, sign with the card, list those due, show, print, FHIR.
    #[command(subcommand)]
    Discharge(discharges::DischargeCommand),
    /// The discharge outbox: list its sends, and work it (retries with backoff).
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// Laboratory results received for a patient.
    #[command(subcommand)]
    Results(ResultsCommand),
}

#[derive(clap::Subcommand)]
enum ResultsCommand {
    /// A patient's results, newest first (view_patients).
    Show(ward::ResultsArgs),
}

/// Why a command failed, which decides the exit code.
pub enum Failure {
    /// The user's input was refused: exit 2.
    Input(String),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<dosing::DoseError> for Failure {
    fn from(error: dosing::DoseError) -> Self {
        Self::Input(error.to_string())
    }
}

impl From<store::StoreError> for Failure {
    fn from(error: store::StoreError) -> Self {
        if error.is_bad_input() { Self::Input(error.to_string()) } else { Self::Other(error.into()) }
    }
}

impl From<services::ServiceError> for Failure {
    fn from(error: services::ServiceError) -> Self {
        match error {
            services::ServiceError::Store(error) => error.into(),
            other if other.is_bad_input() => Self::Input(other.to_string()),
            other => Self::Other(other.into()),
        }
    }
}

impl From<patients::PatientError> for Failure {
    fn from(error: patients::PatientError) -> Self {
        Self::Input(format!("{}: {}", error.field, error.reason))
    }
}

impl From<demo_cards::DemoCardError> for Failure {
    fn from(error: demo_cards::DemoCardError) -> Self {
        Self::Other(error.into())
    }
}

impl From<identity::IdentityError> for Failure {
    fn from(error: identity::IdentityError) -> Self {
        if error.is_user_fixable() { Self::Input(error.to_string()) } else { Self::Other(error.into()) }
    }
}

/// The workstation's settings: the site file, then the environment (`settings` crate), read once.
pub fn site_settings() -> Result<&'static settings::Settings, Failure> {
    static SETTINGS: std::sync::OnceLock<Result<settings::Settings, String>> = std::sync::OnceLock::new();
    SETTINGS
        .get_or_init(|| settings::load().map_err(|e| format!("settings: {e}")))
        .as_ref()
        .map_err(|problem| Failure::Input(problem.clone()))
}

/// Where the store is: --store, else the settings (the site file, CWS_STORE_URL
/// or CWS_STORE), else the platform's data folder.
pub fn store_location(given: Option<std::path::PathBuf>) -> Result<services::StoreLocation, Failure> {
    Ok(services::StoreLocation::choose(site_settings()?, given)?)
}

/// The site's NHS number policy (`patients.nhs_number_test_range` or `CWS_NHS_NUMBER_TEST_RANGE`).
pub fn nhs_policy() -> Result<patients::NhsNumberPolicy, Failure> {
    Ok(site_settings()?.nhs_numbers)
}

/// The OS account running `cws`, named from the effective uid: `$USER` is set by
/// whoever starts the process, so it proves nothing.
pub fn os_actor() -> store::Actor {
    let uid = nix::unistd::Uid::effective();
    let user = match nix::unistd::User::from_uid(uid) {
        Ok(Some(account)) => account.name,
        _ => format!("uid{uid}"),
    };
    store::Actor {
        user: format!("os:{user}"),
        workstation: gethostname::gethostname().to_string_lossy().into_owned(),
    }
}

/// Opens the store at `location` as this workstation, runs `work`, and closes
/// the store whatever the outcome. A run that ends with the store's connections
/// still open can crash on its way out, as SQLCipher's worker threads close
/// them while the process tears OpenSSL down.
pub async fn with_context<T>(
    location: &services::StoreLocation,
    work: impl AsyncFnOnce(&services::Context) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let context = services::Context::open(location, site_settings()?.clone(), os_actor().workstation).await?;
    let result = work(&context).await;
    context.close().await;
    result
}

/// Runs an async store command to completion on a small runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(e.into()))?
        .block_on(future)
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (warnings by default). They carry
/// record ids and user ids only, never patient details or key material.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let store = cli.store;
    let result = match cli.command {
        Command::Dose(command) => dose::run(command),
        Command::Regimen(regimen::RegimenCommand::Approve { code, version, note, card, json }) => {
            store_location(store).and_then(|at| {
                chemotherapy::approve_regimen(at, &code, version.as_deref(), &note, &card, json)
            })
        }
        Command::Regimen(regimen::RegimenCommand::Exchange(command)) => {
            store_location(store).and_then(|at| regimen::exchange(command, at))
        }
        Command::Regimen(command) => regimen::run(command),
        Command::Store(command) => store_location(store).and_then(|at| store_admin::run(command, at)),
        Command::Patient(command) => store_location(store).and_then(|at| patient::run(command, at)),
        Command::NhsNumber(command) => nhs_number::run(command),
        Command::Audit(command) => store_location(store).and_then(|at| audit::run(command, at)),
        Command::Demo(command) => store_location(store).and_then(|at| demo::run(command, at)),
        Command::Card(command) => store_location(store).and_then(|at| card::run(command, at)),
        Command::User(command) => store_location(store).and_then(|at| user::run(command, at)),
        Command::Sact(command) => store_location(store).and_then(|at| chemotherapy::run(command, at)),
        Command::Adt(command) => store_location(store).and_then(|at| adt::run(command, at)),
        Command::Beds(args) => store_location(store).and_then(|at| ward::beds(args, at)),
        Command::PatientList(command) => store_location(store).and_then(|at| patient_list::run(command, at)),
        Command::Imaging(command) => store_location(store).and_then(|at| imaging::run(command, at)),
        Command::Discharge(command) => store_location(store).and_then(|at| discharges::run(command, at)),
        Command::Outbox(command) => store_location(store).and_then(|at| outbox::run(command, at)),
        Command::Results(ResultsCommand::Show(args)) => {
            store_location(store).and_then(|at| ward::results(args, at))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(message)) => {
            eprintln!("cws: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Other(error)) => {
            eprintln!("cws: {error:#}");
            ExitCode::from(1)
        }
    }
}
