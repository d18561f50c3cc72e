//! `cws regimen list|show`.

use anyhow::Context;
use clap::Subcommand;
use regimens::RegimenLibrary;

use crate::Failure;
use crate::output::json;

#[derive(Subcommand)]
pub enum RegimenCommand {
    /// Every regimen in the library.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One regimen in full.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Approve the library's current version of a regimen for prescribing here
    /// (manage_regimens; a consultant's and a pharmacist's approvals are both needed).
    Approve {
        code: String,
        /// What was checked, for the record.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        card: crate::card_authority::CardArgs,
        #[arg(long)]
        json: bool,
    },
}

pub fn library() -> anyhow::Result<RegimenLibrary> {
    RegimenLibrary::shipped().context("the regimen library could not be loaded")
}

pub fn run(command: RegimenCommand) -> Result<(), Failure> {
    let library = library()?;
    match command {
        RegimenCommand::List { json: true } => {
            let rows: Vec<_> = library
                .all()
                .iter()
                .map(|r| serde_json::json!({"code": r.code, "version": r.version, "status": r.status, "name": r.name}))
                .collect();
            json(&rows)?;
        }
        RegimenCommand::List { json: false } => {
            for r in library.all() {
                println!(
                    "{:<26} v{:<7} {:<9} {}",
                    r.code,
                    r.version,
                    format!("{:?}", r.status).to_lowercase(),
                    r.name
                );
            }
        }
        RegimenCommand::Approve { .. } => unreachable!("main routes approval to the store"),
        RegimenCommand::Show { code, json: as_json } => {
            let regimen = library.find(&code)?;
            if as_json {
                json(regimen)?;
            } else {
                print_regimen(regimen);
            }
        }
    }
    Ok(())
}

fn print_regimen(r: &regimens::Regimen) {
    println!("{} v{} ({:?}): {}", r.code, r.version, r.status, r.name);
    println!("Indication: {}", r.indication);
    println!("Cycle: {} days × {}; emetogenicity {:?}", r.cycle_length_days, r.cycles, r.emetogenicity);
    for d in &r.drugs {
        let label = d.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        let cap = d
            .cap_mg
            .map(|c| format!(", max {} mg", c.normalize()))
            .or_else(|| d.cap_iu.map(|c| format!(", max {} IU", c.normalize())))
            .unwrap_or_default();
        let given = [
            d.diluent.clone(),
            d.volume_ml.map(|v| format!("{} mL", v.normalize())),
            d.rate_or_duration.clone(),
            d.frequency.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        println!(
            "  {}{label}: {}{cap} {} {} — {given}",
            d.drug,
            d.dose.describe(),
            d.route.describe(),
            dosing::course::day_text(&d.days)
        );
    }
    for limit in &r.pre_treatment_limits {
        let min = limit.minimum.map(|m| format!("≥ {}", m.normalize())).unwrap_or_default();
        let max = limit.maximum.map(|m| format!("≤ {}", m.normalize())).unwrap_or_default();
        println!("  Before treatment: {} {min}{max} {}", limit.test, limit.unit);
    }
    for line in r.premedication.iter().chain(&r.supportive_medication) {
        println!("  Supportive: {line}");
    }
}
