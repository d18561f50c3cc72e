//! `cws patient add|search|show`. Every act is audited against the person acting:
//! the OS account during the first-run bootstrap, then a card holder with `view_patients`.
//! Identifiers are best given on standard input, out of the process list and shell history.

use chrono::NaiveDate;
use clap::Subcommand;
use patients::PatientQuery;
use patients::{GpPractice, NewPatient, NhsNumber, PatientRecord, Sex};
use store::AuditAction;

use serde::Deserialize;
use session::Permission;

use services::{Acting, Context, StoreLocation};

use crate::card_authority::{CardArgs, acting_card_holder, read_payload};
use crate::{Failure, block_on, output, with_context};

#[derive(Subcommand)]
pub enum PatientCommand {
    /// Add a patient to the index. Prefer --stdin: arguments are seen in the process list and shell history.
    Add {
        #[command(flatten)]
        details: PatientArgs,
        /// Read the patient as a JSON object from standard input (after the PIN's line with
        /// --pin-stdin); several objects, one after another, add several patients, each in its
        /// own audited transaction, stopping at the first refused.
        #[arg(long, conflicts_with_all = ["nhs_number", "family_name", "given_name", "date_of_birth", "sex"])]
        stdin: bool,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Find patients by NHS number, hospital number (MRN), or family-name beginning.
    /// Prefer --stdin: a query given as an argument is seen in the process list and shell history.
    Search {
        #[arg(required_unless_present = "stdin")]
        query: Option<String>,
        /// Read the query from standard input (after the PIN's line with --pin-stdin).
        #[arg(long, conflicts_with = "query")]
        stdin: bool,
        /// Narrow a name search by date of birth (YYYY-MM-DD).
        #[arg(long)]
        date_of_birth: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// One patient's record, by the id a search shows.
    Show {
        id: i64,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
}

/// A new patient, from arguments or (preferably) a JSON object on standard input.
#[derive(clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientArgs {
    #[arg(long, required_unless_present = "stdin")]
    nhs_number: Option<String>,
    #[arg(long, required_unless_present = "stdin")]
    family_name: Option<String>,
    #[arg(long, required_unless_present = "stdin")]
    given_name: Option<String>,
    /// YYYY-MM-DD
    #[arg(long, required_unless_present = "stdin")]
    date_of_birth: Option<String>,
    /// female, male, other or unknown
    #[arg(long, required_unless_present = "stdin")]
    sex: Option<String>,
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
}

fn date(text: &str, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::Input(format!("{field}: {text:?} is not a date in the form YYYY-MM-DD")))
}

fn given(value: Option<String>, field: &str) -> Result<String, Failure> {
    value.ok_or_else(|| Failure::Input(format!("{field}: missing")))
}

impl PatientArgs {
    /// One or more patients, as JSON objects one after another.
    fn from_stdin(pin_on_first_line: bool) -> Result<Vec<Self>, Failure> {
        let text = read_payload(pin_on_first_line)?;
        let records = serde_json::Deserializer::from_str(text).into_iter::<Self>();
        // serde's message names the field, never its value.
        let all = records
            .enumerate()
            .map(|(index, record)| {
                record.map_err(|e| Failure::Input(format!("standard input: patient {}: {e}", index + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if all.is_empty() {
            return Err(Failure::Input("standard input: no patient was given".into()));
        }
        Ok(all)
    }

    fn into_new_patient(self) -> Result<NewPatient, Failure> {
        Ok(NewPatient {
            nhs_number: Some(
                NhsNumber::parse(&given(self.nhs_number, "nhs_number")?, crate::nhs_policy()?)
                    .map_err(|e| Failure::Input(format!("nhs_number: {e}")))?,
            ),
            nhs_number_failing_check: None,
            mrn: self.mrn.map(|m| m.to_uppercase()),
            family_name: given(self.family_name, "family_name")?,
            given_names: given(self.given_name, "given_name")?,
            title: self.title,
            date_of_birth: date(&given(self.date_of_birth, "date_of_birth")?, "date_of_birth")?,
            sex: Sex::parse(&given(self.sex, "sex")?).map_err(|e| Failure::Input(e.to_string()))?,
            address: self.address,
            postcode: self.postcode,
            gp_practice: self.gp_practice.map(|ods_code| GpPractice { ods_code, name: None }),
            deceased_date: None,
        })
    }
}

/// The card holder with `view_patients` who acts: patient data is never reached
/// by the OS account alone.
async fn viewer(context: &Context, card: &CardArgs, action: AuditAction) -> Result<Acting, Failure> {
    acting_card_holder(context, card, Permission::ViewPatients, action).await
}

pub fn run(command: PatientCommand, location: StoreLocation) -> Result<(), Failure> {
    match command {
        PatientCommand::Add { details, stdin, card, json } => {
            let given = if stdin { PatientArgs::from_stdin(card.pin_stdin)? } else { vec![details] };
            let patients =
                given.into_iter().map(PatientArgs::into_new_patient).collect::<Result<Vec<_>, _>>()?;
            block_on(with_context(&location, async |context| {
                let acting = viewer(context, &card, AuditAction::PatientCreate).await?;
                let count = patients.len();
                for (index, patient) in patients.into_iter().enumerate() {
                    let record =
                        services::patients::add(context, &acting, patient).await.map_err(|refused| {
                            match Failure::from(refused) {
                                Failure::Input(why) if count > 1 => Failure::Input(format!(
                                    "patient {} of {count}: {why}; the {index} before it were added",
                                    index + 1
                                )),
                                other => other,
                            }
                        })?;
                    if json {
                        output::json(&record)?
                    } else {
                        println!("Added patient {}: {}", record.id, banner(&record))
                    }
                }
                Ok(())
            }))
        }
        PatientCommand::Search { query, stdin, date_of_birth, limit, card, json } => {
            let query = match query {
                Some(query) => query,
                None if stdin => read_payload(card.pin_stdin)?.trim().to_owned(),
                None => return Err(Failure::Input("query: give it on standard input with --stdin".into())),
            };
            let born = date_of_birth.as_deref().map(|d| date(d, "date_of_birth")).transpose()?;
            let query = PatientQuery::parse(&query, born, crate::nhs_policy()?)?;
            block_on(with_context(&location, async |context| {
                let acting = viewer(context, &card, AuditAction::PatientSearch).await?;
                let found = services::patients::search(context, &acting, &query, limit).await?;
                if json {
                    output::json(&found)?;
                } else if found.is_empty() {
                    println!("No patient found.");
                } else {
                    for p in &found {
                        let deceased = if p.deceased { "  DECEASED" } else { "" };
                        let number = match (&p.nhs_number, &p.nhs_number_flag) {
                            (Some(number), _) => format!("NHS No. {number}"),
                            (None, flag) => flag.clone().unwrap_or_default(),
                        };
                        println!(
                            "{:>8}  {}  {number}  Born {}  {}{deceased}",
                            p.id,
                            p.display_name,
                            p.date_of_birth.format("%d-%b-%Y"),
                            p.sex.display()
                        );
                    }
                }
                Ok(())
            }))
        }
        PatientCommand::Show { id, card, json } => block_on(with_context(&location, async |context| {
            let acting = viewer(context, &card, AuditAction::PatientRead).await?;
            let record = services::patients::open(context, &acting, id).await?;
            if json {
                output::json(&record)?
            } else {
                println!("{}", banner(&record))
            }
            Ok(())
        })),
    }
}

/// The CUI banner line: `SMITH, John (Mr)  Born 14-Jul-1945  Male  NHS No. 943 476 5919`.
fn banner(record: &PatientRecord) -> String {
    let d = &record.details;
    let deceased =
        d.deceased_date.map(|date| format!("  DECEASED {}", date.format("%d-%b-%Y"))).unwrap_or_default();
    format!(
        "{}  Born {}  {}  {}{deceased}",
        d.display_name(),
        d.date_of_birth.format("%d-%b-%Y"),
        d.sex.display(),
        match d.nhs_number {
            Some(number) => format!("NHS No. {number}"),
            None => d.nhs_number_flag().unwrap_or_default(),
        }
    )
}
