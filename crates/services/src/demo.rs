//! Demonstration stores: fictional patients and demonstration staff go only
//! into a store marked as one at its creation, where the site accepts NHS
//! numbers from the 9xx test range. Such a store holds no real person's data,
//! so its seeding is done by the OS account that made it, not by a card.

use patients::NewPatient;
use store::Actor;

use crate::{Context, ServiceError};

/// Refuses unless this is a demonstration store, naming `what` was refused.
pub async fn require_demonstration_store(context: &Context, what: &str) -> Result<(), ServiceError> {
    Ok(context.store().require_demonstration(what).await?)
}

pub async fn is_demonstration_store(context: &Context) -> Result<bool, ServiceError> {
    Ok(context.store().is_demonstration().await?)
}

/// Adds fictional patients as one audited act, by the OS account `operator`.
pub async fn add_fictional_patients(
    context: &Context,
    operator: &Actor,
    batch: Vec<NewPatient>,
) -> Result<Vec<i64>, ServiceError> {
    require_demonstration_store(context, "seeding fictional patients").await?;
    if !context.settings().nhs_numbers.accept_test_range {
        return Err(ServiceError::Invalid {
            field: "patients",
            reason:
                "this site refuses NHS numbers from the 9xx test range, which every fictional patient has"
                    .into(),
        });
    }
    Ok(context.store().patients().add_batch(operator, batch).await?)
}

/// How many patients the store holds (to seed up to a number, not past it).
pub async fn patient_count(context: &Context) -> Result<i64, ServiceError> {
    Ok(context.store().status().await?.patients)
}
