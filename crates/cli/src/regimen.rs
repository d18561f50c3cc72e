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
    /// Exchange regimen versions with another site (export, import).
    #[command(flatten)]
    Exchange(RegimenExchange),
    /// Approve a regimen version for prescribing here (manage_regimens; a
    /// consultant's and a pharmacist's approvals are both needed).
    Approve {
        code: String,
        /// The version (default: the library's current one); a version received from another site is approved by its number.
        #[arg(long)]
        version: Option<String>,
        /// What was checked, for the record.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        card: crate::card_authority::CardArgs,
        #[arg(long)]
        json: bool,
    },
}

/// Exchanging regimen versions with another site, as their exact JSON text.
#[derive(Subcommand)]
pub enum RegimenExchange {
    /// Write a regimen version's JSON exactly as held (its hash unchanged), to send to another site.
    Export {
        code: String,
        #[arg(long)]
        version: Option<String>,
        /// Where to write it (default: standard output).
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Receive a regimen version from another site (manage_regimens): checked as a
    /// shipped file is, kept as received, and a draft until approved here.
    Import {
        file: std::path::PathBuf,
        /// Who sent it, for the record, e.g. "RXX99 regional cancer centre".
        #[arg(long)]
        from: String,
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
        RegimenCommand::Approve { .. } | RegimenCommand::Exchange(_) => {
            unreachable!("main routes approval and exchange to the store")
        }
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

pub fn exchange(command: RegimenExchange, location: services::StoreLocation) -> Result<(), Failure> {
    use session::Permission;
    use store::AuditAction;
    crate::block_on(crate::with_context(&location, async |context| match command {
        RegimenExchange::Export { code, version, output } => {
            let text = services::regimens::export(context, &code, version.as_deref()).await?;
            match output {
                Some(path) => std::fs::write(&path, text.as_bytes())
                    .map_err(|e| Failure::Input(format!("output: {}: {e}", path.display())))?,
                None => print!("{text}"),
            }
            Ok(())
        }
        RegimenExchange::Import { file, from, card, json: as_json } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::Input(format!("file: {}: {e}", file.display())))?;
            let acting = crate::card_authority::acting_card_holder(
                context,
                &card,
                Permission::ManageRegimens,
                AuditAction::RegimenImport,
            )
            .await?;
            let regimen = services::regimens::import(context, &acting, &text, &from).await?;
            if as_json {
                json(&serde_json::json!({
                    "code": regimen.code,
                    "version": regimen.version,
                    "content_sha256": regimen.content_sha256,
                    "approved": false,
                }))?;
            } else {
                println!(
                    "Received {} version {} from {from}; a draft until a consultant and a pharmacist approve it here (cws regimen approve {} --version {}).",
                    regimen.code, regimen.version, regimen.code, regimen.version
                );
            }
            Ok(())
        }
    }))
}
