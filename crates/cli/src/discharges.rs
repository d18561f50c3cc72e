//! `cws discharge draft|sign|list|show|print|fhir`: discharge summaries from
//! the command line, each act by a card holder (author_discharge, and
//! sign_discharge to sign with their card), through the same services as the app.

use std::path::PathBuf;

use clap::Subcommand;
use services::StoreLocation;
use session::Permission;
use store::AuditAction;

use crate::card_authority::{CardArgs, CardSigner, proven_card_holder, trusted_ca};
use crate::trusted_settings::trusted_settings;
use crate::{Failure, block_on, output, with_context};

#[derive(Subcommand)]
pub enum DischargeCommand {
    /// Start a draft from the patient's last admission; prints its id.
    Draft {
        /// The patient's NHS number.
        #[arg(long)]
        patient: String,
        /// The specialty template: "General medicine", "General surgery" or "Medical oncology".
        #[arg(long)]
        template: String,
        /// A JSON file of content laid over the prefilled draft (docs/discharge-content.md).
        #[arg(long)]
        content: Option<PathBuf>,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Sign a complete draft with your card (sign_discharge); it is then queued to the GP.
    Sign {
        id: i64,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Discharges whose summary has not reached the GP, most overdue first.
    List {
        /// Only those still due (the only list there is today; kept for scripts).
        #[arg(long)]
        due: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// One summary: its state, what sign-off still needs, or the signed letter and its sends.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        card: CardArgs,
    },
    /// The signed letter as an A4 PDF.
    Print {
        id: i64,
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        card: CardArgs,
    },
    /// The signed letter as a FHIR STU3 document Bundle (JSON on standard output).
    Fhir {
        id: i64,
        #[command(flatten)]
        card: CardArgs,
    },
}

pub fn run(command: DischargeCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| {
        let token = async |card: &CardArgs, permission: Permission, action: AuditAction| {
            let holder = proven_card_holder(context, card, permission, action).await?;
            let token = |permission| {
                services::cards::acting_for(context, &holder, permission)
                    .map_err(|e| Failure::Input(format!("card: {e}")))
            };
            Ok::<_, Failure>((token(permission)?, holder.clone()))
        };
        match command {
            DischargeCommand::Draft { patient, template, content, card } => {
                let (author, holder) =
                    token(&card, Permission::AuthorDischarge, AuditAction::DischargeDraft).await?;
                let content = match content {
                    Some(path) => {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| Failure::Input(format!("content: {}: {e}", path.display())))?;
                        Some(
                            discharge::ContentFile::parse(&text)
                                .map_err(|e| Failure::Input(e.to_string()))?,
                        )
                    }
                    None => None,
                };
                let viewer = services::cards::acting_for(context, &holder, Permission::ViewPatients)
                    .map_err(|e| Failure::Input(format!("card: {e}")))?;
                let query = patients::PatientQuery::parse(&patient, None, crate::nhs_policy()?)?;
                let found = services::patients::search(context, &viewer, &query, 2).await?;
                let [found] = found.as_slice() else {
                    return Err(Failure::Input("patient: no patient has that NHS number".into()));
                };
                let draft = services::discharge::start(context, &author, found.id, &template).await?;
                if let Some(content) = content {
                    let summary = content.apply_to(draft.summary.clone());
                    services::discharge::save(context, &author, draft.id, draft.row_version, &summary)
                        .await?;
                }
                println!("{}", draft.id);
                Ok(())
            }
            DischargeCommand::Sign { id, card } => {
                let (signer_token, holder) =
                    token(&card, Permission::SignDischarge, AuditAction::DischargeSign).await?;
                let author = services::cards::acting_for(context, &holder, Permission::AuthorDischarge)
                    .map_err(|e| Failure::Input(format!("card: {e}")))?;
                let draft = services::discharge::open(context, &author, id).await?;
                let signer = CardSigner::for_card(&card)?;
                let signed =
                    services::discharge::sign(context, &signer_token, id, draft.row_version, &signer).await?;
                let sends = services::discharge::sends(context, &author, id).await?;
                println!(
                    "Signed discharge summary {id} as {}, {}, at {}; queued to {} recipient(s).",
                    signed.signer.name,
                    signed.signer.role,
                    signed.signed_at_utc,
                    sends.len()
                );
                Ok(())
            }
            DischargeCommand::List { due: _, json, card } => {
                let (author, _) =
                    token(&card, Permission::AuthorDischarge, AuditAction::DischargeRead).await?;
                let dashboard = services::discharge_dashboard::dashboard(context, &author).await?;
                if json {
                    return Ok(output::json(&dashboard)?);
                }
                if dashboard.due.is_empty() {
                    println!("Every discharge's summary has reached the GP.");
                }
                for due in &dashboard.due {
                    println!(
                        "{:<24} {:<14} {:<8} discharged {}  {:<22} {}{}",
                        due.patient_name,
                        due.nhs_number,
                        due.ward.as_deref().unwrap_or("-"),
                        due.discharged_at_utc,
                        due.time_left,
                        due.state,
                        due.summary_id.map(|id| format!(" (summary {id})")).unwrap_or_default()
                    );
                }
                let (sent, all) = dashboard
                    .days
                    .iter()
                    .fold((0, 0), |(s, a), d| (s + d.sent_within_24_hours, a + d.discharges));
                if all > 0 {
                    println!("Last 30 days: {sent} of {all} summaries reached the GP within 24 hours.");
                }
                Ok(())
            }
            DischargeCommand::Show { id, json, card } => {
                let (author, _) =
                    token(&card, Permission::AuthorDischarge, AuditAction::DischargeRead).await?;
                let draft = services::discharge::open(context, &author, id).await?;
                let template = discharge::Template::named(&draft.summary.template);
                let missing = template.map(|t| draft.summary.missing_for_sign_off(&t)).unwrap_or_default();
                let signed = match services::discharge::read_signed(
                    context,
                    &author,
                    id,
                    &trusted_ca(trusted_settings()?)?,
                )
                .await
                {
                    Ok(signed) => Some(signed),
                    Err(services::ServiceError::Refused { rule: "discharge_signed", .. }) => None,
                    Err(other) => return Err(other.into()),
                };
                let sends = services::discharge::sends(context, &author, id).await?;
                if json {
                    return Ok(output::json(&serde_json::json!({
                        "id": id,
                        "summary": draft.summary,
                        "missing_for_sign_off": missing,
                        "signed": signed,
                        "sends": sends,
                    }))?);
                }
                match &signed {
                    Some(signed) => {
                        println!(
                            "Discharge summary {id}: signed by {}, {} at {}",
                            signed.signer.name, signed.signer.role, signed.signed_at_utc
                        );
                        if let Some(broken) = &signed.broken {
                            println!("WARNING: {broken}");
                        }
                    }
                    None => println!("Discharge summary {id}: draft ({} template)", draft.summary.template),
                }
                if signed.is_none() {
                    if missing.is_empty() {
                        println!("Complete: ready to sign.");
                    }
                    for m in &missing {
                        println!("Still needed under {}: {} ({})", m.section.title(), m.reason, m.field);
                    }
                }
                for send in &sends {
                    println!(
                        "Send by {} to {}: {} after {} attempt(s){}",
                        send.channel,
                        send.recipient,
                        send.status,
                        send.attempts,
                        send.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
                    );
                }
                Ok(())
            }
            DischargeCommand::Print { id, output: path, card } => {
                let (author, _) =
                    token(&card, Permission::AuthorDischarge, AuditAction::DischargeRead).await?;
                let pdf =
                    services::discharge::letter_pdf(context, &author, id, &trusted_ca(trusted_settings()?)?)
                        .await?;
                std::fs::write(&path, pdf)
                    .map_err(|e| Failure::Other(anyhow::anyhow!("{}: {e}", path.display())))?;
                println!("Wrote the signed letter of discharge summary {id} to {}.", path.display());
                Ok(())
            }
            DischargeCommand::Fhir { id, card } => {
                let (author, _) =
                    token(&card, Permission::AuthorDischarge, AuditAction::DischargeRead).await?;
                let bundle =
                    services::discharge::letter_fhir(context, &author, id, &trusted_ca(trusted_settings()?)?)
                        .await?;
                Ok(output::json(&bundle)?)
            }
        }
    }))
}
