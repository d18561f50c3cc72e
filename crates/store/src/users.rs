//! Enrolled staff: the local record a card's user id maps to.

use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::audit_action::{AuditAction, RecordRef};
use crate::backend::{on_pool, on_tx};
use crate::error::database;
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledRole {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledUser {
    /// The 12-digit NHS user id on the card.
    pub user_id: String,
    pub display_name: String,
    pub job_title: String,
    /// GMC, NMC, GPhC or HCPC.
    pub professional_body: Option<String>,
    pub registration_number: Option<String>,
    pub roles: Vec<EnrolledRole>,
    pub disabled: bool,
    /// The card key enrolled for this user: SHA-256 of its SubjectPublicKeyInfo, hex.
    pub card_key_sha256: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: String,
    display_name: String,
    job_title: String,
    professional_body: Option<String>,
    registration_number: Option<String>,
    roles: String,
    disabled: i64,
    card_key_sha256: Option<String>,
}

impl UserRow {
    fn into_user(self) -> Result<EnrolledUser, StoreError> {
        Ok(EnrolledUser {
            roles: serde_json::from_str(&self.roles)
                .map_err(|_| StoreError::Database(format!("user {} has unreadable roles", self.user_id)))?,
            user_id: self.user_id,
            display_name: self.display_name,
            job_title: self.job_title,
            professional_body: self.professional_body,
            registration_number: self.registration_number,
            disabled: self.disabled != 0,
            card_key_sha256: self.card_key_sha256,
        })
    }
}

const PROFESSIONAL_BODIES: [&str; 4] = ["GMC", "NMC", "GPhC", "HCPC"];

/// Enrolled staff: enrol, read, list and disable, the writes audited.
pub struct Users<'s> {
    store: &'s Store,
}

impl Store {
    pub fn users(&self) -> Users<'_> {
        Users { store: self }
    }
}

impl Users<'_> {
    /// Enrols (or re-enrols) a member of staff.
    pub async fn enrol(&self, actor: &Actor, user: &EnrolledUser) -> Result<(), StoreError> {
        let invalid =
            |field: &str, reason: &str| StoreError::Invalid { field: field.into(), reason: reason.into() };
        if session::UserId::parse(&user.user_id).is_none() {
            return Err(invalid("user_id", "an NHS user id has 12 digits"));
        }
        if !user
            .card_key_sha256
            .as_deref()
            .is_some_and(|key| key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(invalid(
                "certificate",
                "enrolment binds the user to their card's key: give their certificate",
            ));
        }
        if user.roles.is_empty() {
            return Err(invalid("roles", "give at least one national RBAC role code, e.g. R8000"));
        }
        if let Some(body) = &user.professional_body
            && !PROFESSIONAL_BODIES.contains(&body.as_str())
        {
            return Err(invalid("registration", "the professional body is GMC, NMC, GPhC or HCPC"));
        }
        let roles = serde_json::to_string(&user.roles).map_err(|e| StoreError::Database(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        on_tx!(&mut tx.tx, |c| sqlx::query(
            "INSERT INTO users (user_id, display_name, job_title, professional_body, registration_number, roles, disabled, enrolled_at_utc, card_key_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)
             ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, job_title = excluded.job_title,
                 professional_body = excluded.professional_body, registration_number = excluded.registration_number,
                 roles = excluded.roles, disabled = 0, card_key_sha256 = excluded.card_key_sha256",
        )
        .bind(&user.user_id)
        .bind(&user.display_name)
        .bind(&user.job_title)
        .bind(&user.professional_body)
        .bind(&user.registration_number)
        .bind(&roles)
        .bind(chrono::Utc::now().to_rfc3339())
        .bind(&user.card_key_sha256)
        .execute(&mut *c)
        .await
        .map(|_| ()))
        .map_err(database)?;
        tx.audit(actor, AuditAction::UserEnrol, None, &[RecordRef::User(user.user_id.clone())], "ok").await?;
        tx.commit().await
    }

    /// The enrolled user with this id, disabled or not.
    pub async fn get(&self, user_id: &str) -> Result<Option<EnrolledUser>, StoreError> {
        let row: Option<UserRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT user_id, display_name, job_title, professional_body, registration_number, roles, disabled, card_key_sha256 FROM users WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(c)
        .await)
        .map_err(database)?;
        row.map(UserRow::into_user).transpose()
    }

    pub async fn list(&self) -> Result<Vec<EnrolledUser>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(&self.store.pool, |c| sqlx::query_as(
            "SELECT user_id, display_name, job_title, professional_body, registration_number, roles, disabled, card_key_sha256 FROM users ORDER BY display_name",
        )
        .fetch_all(c)
        .await)
        .map_err(database)?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub async fn disable(&self, actor: &Actor, user_id: &str) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        let affected =
            on_tx!(&mut tx.tx, |c| sqlx::query("UPDATE users SET disabled = 1 WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *c)
                .await
                .map(|done| done.rows_affected()))
            .map_err(database)?;
        if affected == 0 {
            return Err(StoreError::Invalid {
                field: "user_id".into(),
                reason: format!("no enrolled user has the id {user_id}"),
            });
        }
        tx.audit(actor, AuditAction::UserDisable, None, &[RecordRef::User(user_id.to_owned())], "ok").await?;
        tx.commit().await
    }
}
