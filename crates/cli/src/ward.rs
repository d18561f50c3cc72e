//! `cws beds` and `cws results show`: the bed board and a patient's laboratory
//! results on the command line, each read by a card holder with view_patients.

use clap::Args;
use services::StoreLocation;
use session::Permission;
use store::AuditAction;

use crate::card_authority::{CardArgs, acting_card_holder};
use crate::{Failure, block_on, with_context};

#[derive(Args)]
pub struct BedsArgs {
    #[command(subcommand)]
    mark: Option<BedsCommand>,
    #[command(flatten)]
    card: CardArgs,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum BedsCommand {
    /// Mark a bed by hand, as a bed manager (manage_beds): clean (free again),
    /// cleaning (being cleaned), close, or reopen. An occupied bed is never marked.
    Mark {
        /// WARD/BAY/BED, as the board names it.
        bed: String,
        #[arg(long, value_parser = ["clean", "cleaning", "close", "reopen"])]
        action: String,
        #[command(flatten)]
        card: CardArgs,
    },
}

/// WARD/BAY/BED as a location; a bed with no bay is WARD//BED.
fn bed_location(named: &str) -> Result<adt::Location, Failure> {
    let parts: Vec<&str> = named.split('/').collect();
    match parts.as_slice() {
        [ward, room, bed] if !ward.is_empty() && !bed.is_empty() => Ok(adt::Location {
            ward: (*ward).to_owned(),
            room: (*room).to_owned(),
            bed: (*bed).to_owned(),
            facility: String::new(),
        }),
        _ => {
            Err(Failure::Input(format!("bed: {named:?} is not WARD/BAY/BED (WARD//BED for a bed in no bay)")))
        }
    }
}

/// Each ward with its beds, each bed's state and its occupant's NHS number and name.
pub fn beds(args: BedsArgs, location: StoreLocation) -> Result<(), Failure> {
    if let Some(BedsCommand::Mark { bed, action, card }) = args.mark {
        let at = bed_location(&bed)?;
        let action = match action.as_str() {
            "clean" => adt::BedMark::Clean,
            "cleaning" => adt::BedMark::StartCleaning,
            "close" => adt::BedMark::Close,
            _ => adt::BedMark::Reopen,
        };
        return block_on(with_context(&location, async |context| {
            let acting =
                acting_card_holder(context, &card, Permission::ManageBeds, AuditAction::BedMark).await?;
            let now = services::beds::mark(context, &acting, &at, action).await?;
            println!("{bed} is now {}.", now.words());
            Ok(())
        }));
    }
    block_on(with_context(&location, async |context| {
        let acting =
            acting_card_holder(context, &args.card, Permission::ViewPatients, AuditAction::StayRead).await?;
        let board = services::beds::board(context, &acting).await?;
        if args.json {
            let rows: Vec<_> = board
                .iter()
                .map(|bed| {
                    serde_json::json!({
                        "ward": bed.location.ward,
                        "ward_name": bed.ward_name,
                        "expected_discharge": bed.expected_discharge.map(|d| d.to_string()),
                        "room": bed.location.room,
                        "bed": bed.location.bed,
                        "state": bed.state.words(),
                        "nhs_number": bed.patient.as_ref().and_then(|p| p.details.nhs_number.map(|n| n.digits())),
                        "mrn": bed.patient.as_ref().and_then(|p| p.details.mrn.clone()),
                        "nhs_number_failing_check": bed.patient.as_ref().and_then(|p| p.details.nhs_number_failing_check.clone()),
                        "name": bed.patient.as_ref().map(|p| p.details.display_name()),
                        "also_claimed_by": bed.also_claimed_by.iter().map(|p| p.details.nhs_number.map(|n| n.digits()).unwrap_or_else(|| p.details.identifiers_display())).collect::<Vec<_>>(),
                    })
                })
                .collect();
            crate::output::json(&rows)?;
            return Ok(());
        }
        let mut ward = "";
        for bed in &board {
            if bed.location.ward != ward {
                ward = &bed.location.ward;
                match &bed.ward_name {
                    Some(name) => println!("{ward}  {name}"),
                    None => println!("{ward}"),
                }
            }
            let occupant = bed
                .patient
                .as_ref()
                .map(|p| format!("  {}  {}", p.details.identifiers_display(), p.details.display_name()))
                .unwrap_or_default();
            println!("  {} {:<8} {}{occupant}", bed.location.room, bed.location.bed, bed.state.words());
            for other in &bed.also_claimed_by {
                println!(
                    "      ALSO CLAIMED BY {}  {} (their admission places them here)",
                    other.details.identifiers_display(),
                    other.details.display_name()
                );
            }
        }
        Ok(())
    }))
}

#[derive(Args)]
pub struct ResultsArgs {
    /// The patient's NHS number.
    #[arg(long)]
    patient: String,
    #[command(flatten)]
    card: CardArgs,
    #[arg(long)]
    json: bool,
}

/// A patient's results, newest first: code and name, value, units, range, flag, time and laboratory.
pub fn results(args: ResultsArgs, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| {
        let acting =
            acting_card_holder(context, &args.card, Permission::ViewPatients, AuditAction::ResultRead)
                .await?;
        let query = patients::PatientQuery::parse(&args.patient, None, crate::nhs_policy()?)?;
        let found = services::patients::search(context, &acting, &query, 2).await?;
        let [patient] = found.as_slice() else {
            return Err(Failure::Input("patient: no patient has that NHS number".into()));
        };
        let kept = services::results::of_patient(context, &acting, patient.id).await?;
        let results: Vec<&store::NewLabResult> = kept.iter().map(|k| &k.result).collect();
        if args.json {
            let rows: Vec<_> = results
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "value": r.value, "units": r.units,
                        "reference_range": r.reference_range, "abnormal_flag": r.abnormal_flag,
                        "observed_at": r.observed_at_utc, "laboratory": r.laboratory,
                        "status": r.status, "used_for": r.used_for, "held_because": r.held_because,
                    })
                })
                .collect();
            crate::output::json(&rows)?;
            return Ok(());
        }
        for r in &results {
            let flag = if r.abnormal_flag.is_empty() || r.abnormal_flag == "N" {
                String::new()
            } else {
                format!(" [{}]", r.abnormal_flag)
            };
            let held = r.held_because.as_deref().map(|why| format!("  (held: {why})")).unwrap_or_default();
            println!(
                "{}  {} {}: {} {} (range {}){flag}  {}{held}",
                r.observed_at_utc, r.code, r.name, r.value, r.units, r.reference_range, r.laboratory
            );
        }
        Ok(())
    }))
}
