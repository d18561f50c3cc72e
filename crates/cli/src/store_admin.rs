//! `cws store …`: administration of the encrypted store by the OS account that owns it.

use std::io::Read;
use std::path::PathBuf;

use clap::Subcommand;
use store::{AuditAction, Store, StoreKey};
use zeroize::Zeroizing;

use session::Permission;

use crate::card_authority::{CardArgs, os_account_or_card_holder};
use crate::{Failure, block_on, closing, os_actor, output};

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Create a new encrypted store, with a new key in the OS keyring. Refused over
    /// an existing file, or where the keyring already holds a key for the path.
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
    /// Cipher, schema, counts and integrity.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent, encrypted backup to FILE (which must not exist).
    Backup {
        file: PathBuf,
        #[arg(long)]
        json: bool,
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

pub fn run(command: StoreCommand, path: PathBuf) -> Result<(), Failure> {
    let actor = os_actor();
    block_on(async move {
        match command {
            StoreCommand::Init { json, demo, if_missing } => {
                if if_missing && path.exists() {
                    return Ok(());
                }
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder).map_err(|e| Failure::Other(e.into()))?;
                }
                let store = Store::create(&path).await?;
                if demo {
                    store.mark_demonstration(&actor).await?;
                }
                let status = store.status().await?;
                store.close().await;
                if json {
                    output::json(&status)?;
                } else {
                    println!(
                        "Created an encrypted store at {} (SQLCipher {}); its key is in the OS keyring.",
                        status.path.display(),
                        status.cipher_version
                    );
                    println!(
                        "Next: run `cws store recovery-key` once and keep the key somewhere safe, away from this computer."
                    );
                }
            }
            StoreCommand::Status { json } => {
                let status =
                    closing(Store::open(&path).await?, async |store| Ok(store.status().await?)).await?;
                if json {
                    output::json(&status)?;
                } else {
                    println!("Store {}", status.path.display());
                    println!("  SQLCipher {}, schema {}", status.cipher_version, status.schema_version);
                    println!(
                        "  {} patients, {} audit entries, integrity {}",
                        status.patients, status.audit_entries, status.integrity
                    );
                }
            }
            StoreCommand::Backup { file, json } => {
                closing(Store::open(&path).await?, async |store| Ok(store.backup(&actor, &file).await?))
                    .await?;
                report(
                    json,
                    &format!("Backed up to {} (encrypted with the store's key).", file.display()),
                    serde_json::json!({"backup": file}),
                )?;
            }
            StoreCommand::Restore { file, json, card } => {
                // A restore can roll back enrolments and cut the live audit trail,
                // so once anyone holds manage_store it takes their card, like a rekey.
                let actor = if path.exists() {
                    closing(Store::open(&path).await?, async |store| {
                        os_account_or_card_holder(
                            store,
                            &card,
                            Permission::ManageStore,
                            AuditAction::StoreRestore,
                        )
                        .await
                    })
                    .await?
                } else {
                    actor
                };
                let key_path = std::path::absolute(&path).map_err(|e| Failure::Other(e.into()))?;
                let key = tokio::task::spawn_blocking(move || StoreKey::load(&key_path))
                    .await
                    .map_err(|e| Failure::Other(e.into()))??;
                let restored = Store::restore(&path, &file, key, &actor).await?;
                let status = closing(restored, async |store| Ok(store.status().await?)).await?;
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
                let store = Store::open(&path).await?;
                let actor = os_account_or_card_holder(
                    &store,
                    &card,
                    Permission::ManageStore,
                    AuditAction::StoreRekey,
                )
                .await;
                let actor = match actor {
                    Ok(actor) => actor,
                    Err(refused) => {
                        store.close().await;
                        return Err(refused);
                    }
                };
                store.rekey(&actor).await?.close().await;
                let message = "The store has a new key, now in the OS keyring. Show its recovery key with `cws store recovery-key`.";
                report(json, message, serde_json::json!({"rekeyed": true}))?;
            }
            StoreCommand::RecoveryKey { json, card } => {
                let key = closing(Store::open(&path).await?, async |store| {
                    let actor = os_account_or_card_holder(
                        store,
                        &card,
                        Permission::ManageStore,
                        AuditAction::StoreRecoveryKey,
                    )
                    .await?;
                    Ok(store.reveal_recovery_key(&actor).await?)
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
                let mut text = Zeroizing::new(String::new());
                std::io::stdin().read_to_string(&mut text).map_err(|e| Failure::Other(e.into()))?;
                let key = StoreKey::from_recovery_text(&text)?;
                Store::unlock_with_recovery_key(&path, key, &actor).await?;
                report(
                    json,
                    &format!("The recovery key opens {}; it is back in the OS keyring.", path.display()),
                    serde_json::json!({"unlocked": true}),
                )?;
            }
        }
        Ok(())
    })
}
