//! `cws patient-list`: your own list of patients, each added with the reason
//! (a legitimate relationship for imaging and more). Your card and PIN say who
//! "you" are; each change is audited.

use clap::Subcommand;
use services::StoreLocation;
use session::Permission;
use store::AuditAction;

use crate::card_authority::{CardArgs, acting_card_holder};
use crate::{Failure, block_on, with_context};

#[derive(Subcommand)]
pub enum PatientListCommand {
    /// Add a patient to your list, saying why.
    Add {
        /// The patient's NHS number.
        nhs_number: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Take a patient off your list.
    Remove {
        nhs_number: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Your list, with why each patient is on it.
    Show {
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: PatientListCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| {
        let find = async |card: &CardArgs, nhs_number: &str| -> Result<(services::Acting, i64), Failure> {
            let acting =
                acting_card_holder(context, card, Permission::ViewPatients, AuditAction::PatientListChange)
                    .await?;
            let query = patients::PatientQuery::parse(nhs_number, None, crate::nhs_policy()?)?;
            let found = services::patients::search(context, &acting, &query, 2).await?;
            let [patient] = found.as_slice() else {
                return Err(Failure::Input("nhs_number: no patient has that NHS number".into()));
            };
            Ok((acting, patient.id))
        };
        match command {
            PatientListCommand::Add { nhs_number, reason, card, json } => {
                let (acting, patient_id) = find(&card, &nhs_number).await?;
                services::relationships::add_to_list(context, &acting, patient_id, &reason).await?;
                done(json, "Added to your list.", "added")?;
            }
            PatientListCommand::Remove { nhs_number, card, json } => {
                let (acting, patient_id) = find(&card, &nhs_number).await?;
                services::relationships::remove_from_list(context, &acting, patient_id).await?;
                done(json, "Taken off your list.", "removed")?;
            }
            PatientListCommand::Show { card, json } => {
                let acting = acting_card_holder(
                    context,
                    &card,
                    Permission::ViewPatients,
                    AuditAction::PatientListChange,
                )
                .await?;
                let list = services::relationships::list(context, &acting).await?;
                if json {
                    let rows: Vec<_> = list
                        .iter()
                        .map(|(p, reason)| {
                            serde_json::json!({"nhs_number": p.details.nhs_number.map(|n| n.digits()), "mrn": p.details.mrn, "name": p.details.display_name(), "reason": reason})
                        })
                        .collect();
                    crate::output::json(&rows)?;
                } else {
                    for (p, reason) in &list {
                        println!(
                            "{}  {}  ({reason})",
                            p.details.identifiers_display(),
                            p.details.display_name()
                        );
                    }
                }
            }
        }
        Ok(())
    }))
}

fn done(json: bool, message: &str, what: &str) -> Result<(), Failure> {
    match json {
        true => crate::output::json(&serde_json::json!({ what: true }))?,
        false => println!("{message}"),
    }
    Ok(())
}
