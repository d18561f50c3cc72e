//! Whether a store is a demonstration store: marked once, when it is created for
//! demonstrations, and never otherwise. Demonstration sign-in, demonstration cards
//! and fictional patients go only into such a store.

use crate::audit::{Actor, Event};
use crate::audit_action::AuditAction;
use crate::error::database;
use crate::{Store, StoreError};

const FACT: &str = "demonstration_store";

impl Store {
    /// Marks a store that holds no patient and no user yet as a demonstration store.
    pub async fn mark_demonstration(&self, actor: &Actor) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(database)?;
        let (people,): (i64,) =
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM patients) + (SELECT COUNT(*) FROM users)")
                .fetch_one(&mut *tx)
                .await
                .map_err(database)?;
        if people > 0 {
            return Err(StoreError::Invalid {
                field: "store".into(),
                reason: "only a new, empty store can become a demonstration store".into(),
            });
        }
        sqlx::query("INSERT INTO store_facts (name, value) VALUES (?, 'yes')")
            .bind(FACT)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
        crate::audit::append(
            &mut tx,
            actor,
            Event {
                action: AuditAction::StoreMarkDemonstration,
                patient_id: None,
                records: &[],
                outcome: "ok",
            },
        )
        .await?;
        tx.commit().await.map_err(database)
    }

    pub async fn is_demonstration(&self) -> Result<bool, StoreError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT value FROM store_facts WHERE name = ?")
            .bind(FACT)
            .fetch_optional(&self.pool)
            .await
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
                    self.path.display()
                ),
            }),
        }
    }
}
