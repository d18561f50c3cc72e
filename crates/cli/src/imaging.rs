//! `cws imaging studies|launch`: a patient's studies from the PACS, and a
//! viewer opened on one, behind the same gate as the app: the card holder's
//! view_images and a legitimate relationship, or break-glass with a reason.

use clap::Subcommand;
use services::StoreLocation;
use services::imaging::BreakGlass;
use session::Permission;
use store::AuditAction;

use crate::card_authority::{CardArgs, proven_card_holder};
use crate::{Failure, block_on, output, with_context};

#[derive(Subcommand)]
pub enum ImagingCommand {
    /// The patient's studies, newest first.
    Studies {
        /// The patient's NHS number.
        #[arg(long)]
        patient: String,
        /// No relationship with the patient: why you must see the images now (needs break_glass; audited).
        #[arg(long)]
        break_glass_reason: Option<String>,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Open a study in one of the site's viewers.
    Launch {
        /// The Study Instance UID.
        #[arg(long)]
        study: String,
        /// The viewer, by the name the site gives it in [[pacs.viewers]].
        #[arg(long)]
        template: String,
        /// Print the URL rather than open it (for scripts and tests).
        #[arg(long)]
        print_url: bool,
        #[arg(long)]
        break_glass_reason: Option<String>,
        #[command(flatten)]
        card: CardArgs,
    },
}

pub fn run(command: ImagingCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| {
        // One card proof; the tokens each act needs come from it.
        let tokens = async |card: &CardArgs, reason: &Option<String>| {
            let holder =
                proven_card_holder(context, card, Permission::ViewImages, AuditAction::ImagingQuery).await?;
            let token = |permission| {
                services::cards::acting_for(context, &holder, permission)
                    .map_err(|e| Failure::Input(format!("card: {e}")))
            };
            let glass = match reason {
                // Made only if asked for; without break_glass the service refuses and audits it.
                Some(_) => Some(token(Permission::BreakGlass).or_else(|_| token(Permission::ViewImages))?),
                None => None,
            };
            Ok::<_, Failure>((holder.clone(), token(Permission::ViewImages)?, glass))
        };
        match command {
            ImagingCommand::Studies { patient, break_glass_reason, card, json } => {
                let (holder, images, glass) = tokens(&card, &break_glass_reason).await?;
                let viewer = services::cards::acting_for(context, &holder, Permission::ViewPatients)
                    .map_err(|e| Failure::Input(format!("card: {e}")))?;
                let query = patients::PatientQuery::parse(&patient, None, crate::nhs_policy()?)?;
                let found = services::patients::search(context, &viewer, &query, 2).await?;
                let [found] = found.as_slice() else {
                    return Err(Failure::Input("patient: no patient has that NHS number".into()));
                };
                let glass = glass
                    .as_ref()
                    .zip(break_glass_reason.as_deref())
                    .map(|(acting, reason)| BreakGlass { acting, reason });
                let list = services::imaging::studies(context, &images, found.id, glass).await?;
                if json {
                    return Ok(output::json(&list)?);
                }
                if list.studies.is_empty() {
                    println!("The PACS holds no studies for this patient.");
                }
                for study in &list.studies {
                    println!(
                        "{}  {:<6} {:<40} {:<12} {} series, {} images  {}  {}",
                        study
                            .date
                            .map(|d| d.format("%d-%b-%Y").to_string())
                            .unwrap_or_else(|| "no date".into()),
                        study.modalities.join("/"),
                        study.description.as_deref().unwrap_or("(no description)"),
                        study.accession_number.as_deref().unwrap_or("-"),
                        study.series.map_or("?".into(), |n| n.to_string()),
                        study.instances.map_or("?".into(), |n| n.to_string()),
                        study.referring_clinician.as_deref().unwrap_or("-"),
                        study.study_uid,
                    );
                }
                if list.more_than_shown {
                    println!(
                        "The PACS holds more studies than are listed here (over a hundred pages): some are not shown."
                    );
                }
                if list.without_uid > 0 {
                    println!("{} more cannot be opened: the PACS gave them no study UID.", list.without_uid);
                }
                Ok(())
            }
            ImagingCommand::Launch { study, template, print_url, break_glass_reason, card } => {
                let (_, images, glass) = tokens(&card, &break_glass_reason).await?;
                let glass = glass
                    .as_ref()
                    .zip(break_glass_reason.as_deref())
                    .map(|(acting, reason)| BreakGlass { acting, reason });
                let (_, launched) =
                    services::imaging::launch_study(context, &images, &study, &template, glass).await?;
                if print_url {
                    println!("{}", launched.url);
                } else if !services::imaging::open_with_site_command(context, &launched.url)? {
                    let status = std::process::Command::new("xdg-open")
                        .arg(&launched.url)
                        .status()
                        .map_err(|e| Failure::Other(anyhow::anyhow!("xdg-open: {e}")))?;
                    if !status.success() {
                        return Err(Failure::Other(anyhow::anyhow!(
                            "xdg-open could not open the viewer ({status})"
                        )));
                    }
                }
                Ok(())
            }
        }
    }))
}
