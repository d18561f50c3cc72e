//! Whether a store is a demonstration store: marked once, when it is created for
//! demonstrations, and never otherwise. Demonstration sign-in, demonstration cards
//! and fictional patients go only into such a store.

use crate::audit::Actor;
use crate::audit_action::AuditAction;
use crate::backend::{on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

const FACT: &str = "demonstration_store";

impl Store {
    /// Marks a store that holds no patient and no user yet as a demonstration store.
    pub async fn mark_demonstration(&self, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let (people,): (i64,) = on_tx!(&mut tx.tx, |c| sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM patients) + (SELECT COUNT(*) FROM users)"
        )
        .fetch_one(&mut *c)
        .await)
        .map_err(database)?;
        if people > 0 {
            return Err(StoreError::Invalid {
                field: "store".into(),
                reason: "only a new, empty store can become a demonstration store".into(),
            });
        }
        on_tx!(&mut tx.tx, |c| sqlx::query("INSERT INTO store_facts (name, value) VALUES ($1, 'yes')")
            .bind(FACT)
            .execute(&mut *c)
            .await
            .map(|_| ()))
        .map_err(database)?;
        tx.audit(actor, AuditAction::StoreMarkDemonstration, None, &[], "ok").await?;
        tx.commit().await
    }

    pub async fn is_demonstration(&self) -> Result<bool, StoreError> {
        let found: Option<(String,)> =
            on_pool!(&self.pool, |c| sqlx::query_as("SELECT value FROM store_facts WHERE name = $1")
                .bind(FACT)
                .fetch_optional(c)
                .await)
            .map_err(database)?;
        Ok(found.is_some())
    }

    /// Refuses anything demonstration-only on a store not made for demonstrations.
    pub async fn require_demonstration(&self, what: &str) -> Result<(), StoreError> {
        match self.is_demonstration().await? {
            true => Ok(()),
            false => Err(StoreError::Invalid {
                field: "store".into(),
                reason: format!(
                    "{} is not a demonstration store, so {what} is refused; make a demonstration store with `cws store init --demo`",
                    self.location()
                ),
            }),
        }
    }
}
