//! `cws patient add|search|show`. Every act is audited against the OS account.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Subcommand;
use patients::{GpPractice, NewPatient, NhsNumber, PatientRecord, Sex};
use store::{PatientQuery, Store};

use crate::{Failure, block_on, os_actor, output};

#[derive(Subcommand)]
pub enum PatientCommand {
    /// Add a patient to the index.
    Add {
        #[arg(long)]
        nhs_number: String,
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        given_name: String,
        /// YYYY-MM-DD
        #[arg(long)]
        date_of_birth: String,
        /// female, male, other or unknown
        #[arg(long)]
        sex: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        mrn: Option<String>,
        #[arg(long)]
        postcode: Option<String>,
        #[arg(long)]
        address: Option<String>,
        /// The registered GP practice's ODS code.
        #[arg(long)]
        gp_practice: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Find patients by NHS number, hospital number (MRN), or family-name beginning.
    Search {
        query: String,
        /// Narrow a name search by date of birth (YYYY-MM-DD).
        #[arg(long)]
        date_of_birth: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One patient's record, by the id a search shows.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

fn date(text: &str, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::Input(format!("{field}: {text:?} is not a date in the form YYYY-MM-DD")))
}

pub fn run(command: PatientCommand, path: PathBuf) -> Result<(), Failure> {
    let actor = os_actor();
    match command {
        PatientCommand::Add {
            nhs_number,
            family_name,
            given_name,
            date_of_birth,
            sex,
            title,
            mrn,
            postcode,
            address,
            gp_practice,
            json,
        } => {
            let patient = NewPatient {
                nhs_number: NhsNumber::parse(&nhs_number, crate::nhs_policy()?)
                    .map_err(|e| Failure::Input(format!("nhs_number: {e}")))?,
                mrn: mrn.map(|m| m.to_uppercase()),
                family_name,
                given_names: given_name,
                title,
                date_of_birth: date(&date_of_birth, "date_of_birth")?,
                sex: Sex::parse(&sex).map_err(|e| Failure::Input(e.to_string()))?,
                address,
                postcode,
                gp_practice: gp_practice.map(|ods_code| GpPractice { ods_code, name: None }),
                deceased_date: None,
            };
            block_on(async {
                let store = Store::open(&path).await?;
                let result = store.add_patient(&actor, patient).await;
                store.close().await;
                let record = result?;
                if json {
                    output::json(&record)?
                } else {
                    println!("Added patient {}: {}", record.id, banner(&record))
                }
                Ok(())
            })
        }
        PatientCommand::Search { query, date_of_birth, limit, json } => {
            let born = date_of_birth.as_deref().map(|d| date(d, "date_of_birth")).transpose()?;
            let query = PatientQuery::parse(&query, born, crate::nhs_policy()?)?;
            block_on(async {
                let store = Store::open(&path).await?;
                let result = store.search_patients(&actor, &query, limit).await;
                store.close().await;
                let found = result?;
                if json {
                    output::json(&found)?;
                } else if found.is_empty() {
                    println!("No patient found.");
                } else {
                    for p in &found {
                        let deceased = if p.deceased { "  DECEASED" } else { "" };
                        println!(
                            "{:>8}  {}  NHS No. {}  Born {}  {}{deceased}",
                            p.id,
                            p.display_name,
                            p.nhs_number,
                            p.date_of_birth.format("%d-%b-%Y"),
                            p.sex.display()
                        );
                    }
                }
                Ok(())
            })
        }
        PatientCommand::Show { id, json } => block_on(async {
            let store = Store::open(&path).await?;
            let result = store.patient(&actor, id).await;
            store.close().await;
            let record = result?;
            if json {
                output::json(&record)?
            } else {
                println!("{}", banner(&record))
            }
            Ok(())
        }),
    }
}

/// The CUI banner line: `SMITH, John (Mr)  Born 14-Jul-1945  Male  NHS No. 943 476 5919`.
fn banner(record: &PatientRecord) -> String {
    let d = &record.details;
    let deceased =
        d.deceased_date.map(|date| format!("  DECEASED {}", date.format("%d-%b-%Y"))).unwrap_or_default();
    format!(
        "{}  Born {}  {}  NHS No. {}{deceased}",
        d.display_name(),
        d.date_of_birth.format("%d-%b-%Y"),
        d.sex.display(),
        d.nhs_number
    )
}
