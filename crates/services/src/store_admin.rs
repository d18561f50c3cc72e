//! Looking after the store: making one, its status, backup and restore, the
//! key and its recovery, and moving a site onto a shared server. The acts that
//! could lose or expose the whole record take a `manage_store` token; those
//! that only a local file has are refused on a shared store, by name.

use std::path::Path;

use session::Permission;
use store::{Actor, CopyProgress, CopyReport, LocalFileAdmin, SharedDatabase, Store, StoreKey, StoreStatus};

use crate::{Acting, Context, ServiceError, StoreLocation};

/// Makes a new store where `location` says, by the OS account `operator` (no
/// one is enrolled yet, so no card can prove anything). A demonstration store
/// is marked as one now or never.
pub async fn create(
    location: &StoreLocation,
    demonstration: bool,
    operator: &Actor,
) -> Result<StoreStatus, ServiceError> {
    let store = match location {
        StoreLocation::LocalFile(path) => Store::create(path).await?,
        StoreLocation::Shared(database) => Store::create_shared(database).await?,
    };
    let made = async {
        if demonstration {
            store.mark_demonstration(operator).await?;
        }
        store.status().await
    }
    .await;
    store.close().await;
    Ok(made?)
}

/// Which backend, where, the engine, the schema, counts and health (no patient data).
pub async fn status(context: &Context) -> Result<StoreStatus, ServiceError> {
    Ok(context.store().status().await?)
}

/// A consistent, encrypted copy of a local store's file at `destination`.
pub async fn backup(context: &Context, acting: &Acting, destination: &Path) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ManageStore)?;
    let admin = LocalFileAdmin::new(context.store().clone())?;
    Ok(admin.backup(actor, destination).await?)
}

/// Replaces the local store at `path` with `backup`, keeping the replaced file.
/// The store must be closed everywhere; the token was proven against it before.
pub async fn restore(path: &Path, backup: &Path, acting: &Acting) -> Result<StoreStatus, ServiceError> {
    let actor = acting.requires(Permission::ManageStore)?;
    restore_as(path, backup, actor).await
}

/// Restores a backup where no store is (a replaced disk, a new machine): there
/// is no one enrolled here to prove anything, so it is the OS account's act,
/// audited in the restored store. Refused where a store is.
pub async fn restore_where_none(
    path: &Path,
    backup: &Path,
    operator: &Actor,
) -> Result<StoreStatus, ServiceError> {
    if path.exists() {
        return Err(store::StoreError::AlreadyExists { path: path.to_owned() }.into());
    }
    restore_as(path, backup, operator).await
}

async fn restore_as(path: &Path, backup: &Path, actor: &Actor) -> Result<StoreStatus, ServiceError> {
    let key_path = std::path::absolute(path)
        .map_err(|e| ServiceError::Invalid { field: "store", reason: format!("{}: {e}", path.display()) })?;
    let key = tokio::task::spawn_blocking(move || StoreKey::load(&key_path))
        .await
        .map_err(|e| ServiceError::Invalid { field: "store", reason: e.to_string() })??;
    let restored = LocalFileAdmin::restore(path, backup, key, actor).await?;
    let status = restored.status().await;
    restored.close().await;
    Ok(status?)
}

/// Re-encrypts a local store under a new key; the context is spent (the store
/// is reopened under the new key and closed).
pub async fn rekey(context: Context, acting: &Acting) -> Result<(), ServiceError> {
    let actor = acting.requires(Permission::ManageStore)?.clone();
    let admin = LocalFileAdmin::new(context.into_store())?;
    admin.rekey(&actor).await?.close().await;
    Ok(())
}

/// The recovery key, once, to the store's owner.
pub async fn recovery_key(context: &Context, acting: &Acting) -> Result<StoreKey, ServiceError> {
    let actor = acting.requires(Permission::ManageStore)?;
    let admin = LocalFileAdmin::new(context.store().clone())?;
    Ok(admin.reveal_recovery_key(actor).await?)
}

/// Puts a recovery key back in the keyring once it opens the store at `path`.
/// No card can be proven against a store that cannot be opened, so this is the
/// OS account's (`operator`) act, audited in the store it opens.
pub async fn unlock_with_recovery_key(
    path: &Path,
    key: StoreKey,
    operator: &Actor,
) -> Result<(), ServiceError> {
    Ok(LocalFileAdmin::unlock_with_recovery_key(path, key, operator).await?)
}

/// Copies this store into an empty shared database, verifying the chain on
/// arrival; `progress` hears how far it has gone.
pub async fn copy_to(
    context: &Context,
    acting: &Acting,
    target: &SharedDatabase,
    progress: impl FnMut(CopyProgress),
) -> Result<CopyReport, ServiceError> {
    let actor = acting.requires(Permission::ManageStore)?;
    Ok(context.store().copy_to_shared(target, actor, progress).await?)
}
