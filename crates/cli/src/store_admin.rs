//! `cws store …`: making and looking after the store, local or shared. Acts
//! that could lose or expose the whole record take a manage_store card once
//! anyone holds that permission; before then, the OS account that owns the store.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use services::{Context, StoreLocation};
use store::{AuditAction, SharedDatabase, StoreKey};
use zeroize::Zeroizing;

use session::Permission;

use crate::card_authority::{CardArgs, os_account_or_card_holder};
use crate::{Failure, block_on, os_actor, output, with_context};

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Create a new store: an encrypted file with a new key in the OS keyring, or,
    /// where the settings name a server, the schema in an empty shared database.
    /// Refused over an existing file or a database that is not empty, or where the
    /// keyring already holds a key for the path.
    Init {
        /// Mark it a demonstration store: the only kind that takes fictional patients,
        /// demonstration cards and the card-less demonstration sign-in.
        #[arg(long)]
        demo: bool,
        /// Do nothing if a file is already there (for `make run`).
        #[arg(long)]
        if_missing: bool,
        #[arg(long)]
        json: bool,
    },
    /// Which backend and where, the engine, schema, counts and integrity.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent, encrypted backup of a local store to FILE (which must not exist).
    Backup {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Replace the store with the backup in FILE; the old store is kept beside it.
    /// Refused while the store is open elsewhere; a manage_store card once anyone holds that permission.
    Restore {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Re-encrypt the store with a new key (a manage_store card, once anyone holds that permission).
    Rekey {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Show the recovery key, once, to the store's owner (with a manage_store card, once anyone holds that permission).
    RecoveryKey {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Put a recovery key (read from standard input) back in the OS keyring.
    UnlockWithRecoveryKey {
        #[arg(long)]
        json: bool,
    },
    /// Copy this store (patients, staff and the audit trail) into an empty shared
    /// PostgreSQL database: postgres://user@host:port/database, no password in it.
    /// The trail is verified on arrival; the copy is refused if the target is not empty.
    CopyTo {
        url: String,
        /// A file holding the target's password, readable by this account alone.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// The CA of the target server's certificate, where the OS does not already trust it.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Print progress, a line per few thousand rows.
        #[arg(long)]
        progress: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
}

/// Prints a one-line result, or the same as JSON.
fn report(json: bool, message: &str, fields: serde_json::Value) -> Result<(), Failure> {
    if json {
        output::json(&fields)?
    } else {
        println!("{message}")
    }
    Ok(())
}

/// The local file's path: these acts are the local file's alone.
fn local_path(location: &StoreLocation, act: &str) -> Result<PathBuf, Failure> {
    location.local_path().map(ToOwned::to_owned).ok_or_else(|| {
        Failure::Input(format!(
            "store: {} is a shared store; {act} is done only to a local store file (the server's own backups and key management serve a shared store)",
            location.describe()
        ))
    })
}

/// The token for a store act: the owner's OS account before anyone holds manage_store, then a card.
async fn store_manager(
    context: &Context,
    card: &CardArgs,
    action: AuditAction,
) -> Result<services::Acting, Failure> {
    os_account_or_card_holder(context, card, Permission::ManageStore, action).await
}

pub fn run(command: StoreCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(async move {
        match command {
            StoreCommand::Init { json, demo, if_missing } => init(&location, demo, if_missing, json).await?,
            StoreCommand::Status { json } => {
                let status =
                    with_context(
                        &location,
                        async |context| Ok(services::store_admin::status(context).await?),
                    )
                    .await?;
                if json {
                    output::json(&status)?;
                } else {
                    println!("Store {} ({})", status.location, status.backend);
                    println!(
                        "  {}, schema {}, transport: {}",
                        status.engine_version, status.schema_version, status.transport
                    );
                    println!(
                        "  {} patients, {} audit entries, integrity {}",
                        status.patients, status.audit_entries, status.integrity
                    );
                }
            }
            StoreCommand::Backup { file, json, card } => {
                local_path(&location, "a file backup")?;
                with_context(&location, async |context| {
                    let acting = store_manager(context, &card, AuditAction::StoreBackup).await?;
                    Ok(services::store_admin::backup(context, &acting, &file).await?)
                })
                .await?;
                report(
                    json,
                    &format!("Backed up to {} (encrypted with the store's key).", file.display()),
                    serde_json::json!({"backup": file}),
                )?;
            }
            StoreCommand::Restore { file, json, card } => {
                let path = local_path(&location, "a restore")?;
                // A restore can roll back enrolments and cut the live audit trail,
                // so once anyone holds manage_store it takes their card, like a rekey.
                let status = if path.exists() {
                    let acting = with_context(&location, async |context| {
                        store_manager(context, &card, AuditAction::StoreRestore).await
                    })
                    .await?;
                    services::store_admin::restore(&path, &file, &acting).await?
                } else {
                    services::store_admin::restore_where_none(&path, &file, &os_actor()).await?
                };
                let message = format!(
                    "Restored {} from {}: {} patients, integrity {}.",
                    path.display(),
                    file.display(),
                    status.patients,
                    status.integrity
                );
                report(json, &message, serde_json::to_value(&status).map_err(|e| Failure::Other(e.into()))?)?;
            }
            StoreCommand::Rekey { json, card } => {
                local_path(&location, "a rekey")?;
                let context =
                    Context::open(&location, crate::site_settings()?.clone(), os_actor().workstation).await?;
                let acting = match store_manager(&context, &card, AuditAction::StoreRekey).await {
                    Ok(acting) => acting,
                    Err(refused) => {
                        context.close().await;
                        return Err(refused);
                    }
                };
                services::store_admin::rekey(context, &acting).await?;
                let message = "The store has a new key, now in the OS keyring. Show its recovery key with `cws store recovery-key`.";
                report(json, message, serde_json::json!({"rekeyed": true}))?;
            }
            StoreCommand::RecoveryKey { json, card } => {
                local_path(&location, "showing the recovery key")?;
                let key = with_context(&location, async |context| {
                    let acting = store_manager(context, &card, AuditAction::StoreRecoveryKey).await?;
                    Ok(services::store_admin::recovery_key(context, &acting).await?)
                })
                .await?;
                eprintln!(
                    "WARNING: this key opens every patient record in the store. Write it down and keep it locked away,"
                );
                eprintln!(
                    "away from this computer. It is shown only this once; `cws store rekey` makes a new one."
                );
                let text = key.recovery_text();
                report(json, text.as_str(), serde_json::json!({"recovery_key": text.as_str()}))?;
            }
            StoreCommand::UnlockWithRecoveryKey { json } => {
                let path = local_path(&location, "unlocking with a recovery key")?;
                let mut text = Zeroizing::new(String::new());
                std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::Other(e.into()))?;
                let key = StoreKey::from_recovery_text(&text)?;
                services::store_admin::unlock_with_recovery_key(&path, key, &os_actor()).await?;
                report(
                    json,
                    &format!("The recovery key opens {}; it is back in the OS keyring.", path.display()),
                    serde_json::json!({"unlocked": true}),
                )?;
            }
            StoreCommand::CopyTo { url, password_file, ca, progress, json, card } => {
                let mut target = SharedDatabase::parse(&url)?;
                target.password_file = password_file;
                target.ca = ca;
                let copied = with_context(&location, async |context| {
                    let acting = store_manager(context, &card, AuditAction::StoreCopy).await?;
                    let mut stderr = std::io::stderr();
                    let shown = |step: store::CopyProgress| {
                        if progress {
                            let _ = writeln!(stderr, "{}: {} of {}", step.table, step.copied, step.total);
                        }
                    };
                    Ok(services::store_admin::copy_to(context, &acting, &target, shown).await?)
                })
                .await?;
                let message = format!(
                    "Copied {} patients, {} staff and {} audit entries to {}; the trail verified there.",
                    copied.patients, copied.users, copied.audit_entries, copied.target
                );
                report(json, &message, serde_json::to_value(&copied).map_err(|e| Failure::Other(e.into()))?)?;
            }
        }
        Ok(())
    })
}

async fn init(location: &StoreLocation, demo: bool, if_missing: bool, json: bool) -> Result<(), Failure> {
    if let Some(path) = location.local_path() {
        if if_missing && path.exists() {
            return Ok(());
        }
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| Failure::Other(e.into()))?;
        }
    }
    let status = services::store_admin::create(location, demo, &os_actor()).await?;
    if json {
        output::json(&status)?;
    } else if location.local_path().is_some() {
        println!(
            "Created an encrypted store at {} ({}); its key is in the OS keyring.",
            status.location, status.engine_version
        );
        println!(
            "Next: run `cws store recovery-key` once and keep the key somewhere safe, away from this computer."
        );
    } else {
        println!("Created a shared store in {} ({}).", status.location, status.engine_version);
    }
    Ok(())
}
