//! `cws sact …`: SACT courses and cycles from the command line. Every act needs
//! the card of a person whose roles grant it (`--card LABEL --pin-stdin`, the
//! PIN on the first line of standard input); an administration also needs the
//! second checker's card (`--witness-card`, their PIN on the second line).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use dosing::course::{DrugModification, MeasurementsText};
use dosing::pipeline::Modification;
use rust_decimal::Decimal;
use sact::{AdministrationRecord, Intent, Override, TimedResult};
use services::sact::{NewCourse, NewCycle, ReleaseRequest};
use services::{Context, StoreLocation};
use session::Permission;
use store::{AuditAction, StoredCycle};

use crate::card_authority::{
    CardArgs, CardSigner, acting_card_holder, card_holder_by_label, proven_card_holder,
};
use crate::{Failure, block_on, output, with_context};

/// What a cycle is calculated from, as `prescribe` and `amend` both take it.
#[derive(clap::Args)]
pub struct MeasuredArgs {
    #[arg(long)]
    height_cm: String,
    #[arg(long)]
    weight_kg: String,
    #[arg(long)]
    sex: Option<String>,
    #[arg(long)]
    age_years: Option<String>,
    #[arg(long)]
    creatinine_umol_l: Option<String>,
    #[arg(long)]
    gfr_ml_min: Option<String>,
    /// The day the measurements were taken (default: today).
    #[arg(long)]
    measured_on: Option<String>,
    /// DRUG=PERCENT (or all=PERCENT), with --reason.
    #[arg(long = "modify")]
    modifications: Vec<String>,
    /// Why the doses are modified (CTCAE grade, organ function, performance status).
    #[arg(long)]
    reason: Option<String>,
    /// Why to go on with measurements older than the site allows (otherwise refused).
    #[arg(long)]
    stale_reason: Option<String>,
}

impl MeasuredArgs {
    /// The cycle to calculate; `course`, `number` and `treatment_date` as the caller knows them.
    fn new_cycle(self, course_id: i64, number: u32, treatment_date: NaiveDate) -> Result<NewCycle, Failure> {
        Ok(NewCycle {
            course_id,
            number,
            treatment_date,
            measurements: MeasurementsText {
                height_cm: self.height_cm,
                weight_kg: self.weight_kg,
                sex: self.sex,
                age_years: self.age_years,
                creatinine_umol_l: self.creatinine_umol_l,
                gfr_ml_min: self.gfr_ml_min,
                egfr_ml_min_1_73m2: None,
                dosing_weight_kg: None,
            },
            measured_on: match self.measured_on {
                Some(text) => date(&text, "measured_on")?,
                None => Utc::now().date_naive(),
            },
            modifications: parse_modifications(&self.modifications, self.reason.as_deref())?,
            stale_measurements_reason: self.stale_reason,
        })
    }
}

#[derive(Subcommand)]
pub enum SactCommand {
    /// Start a course of a locally approved regimen for a patient (prescribe_sact).
    StartCourse {
        /// The patient's NHS number.
        #[arg(long)]
        patient: String,
        #[arg(long)]
        regimen: String,
        /// The regimen version to pin (default: the library's; refused if it differs).
        #[arg(long)]
        version: Option<String>,
        /// curative, palliative, adjuvant or neoadjuvant
        #[arg(long)]
        intent: String,
        /// The line of treatment (1 for first line).
        #[arg(long, default_value_t = 1)]
        line: u32,
        #[arg(long)]
        cycles: u32,
        /// YYYY-MM-DD
        #[arg(long)]
        start_date: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Prescribe a cycle of a course from today's measurements (prescribe_sact).
    Prescribe {
        #[arg(long)]
        course: i64,
        #[arg(long)]
        cycle: u32,
        /// The day of treatment, YYYY-MM-DD.
        #[arg(long)]
        treatment_date: String,
        #[command(flatten)]
        measured: MeasuredArgs,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// A new version of a cycle not yet given, from new measurements or
    /// modifications, with the reason (prescribe_sact; its prescriber only).
    /// It goes back to verification; the version it replaces is kept.
    Amend {
        cycle_id: i64,
        #[command(flatten)]
        measured: MeasuredArgs,
        /// Why the prescription is amended.
        #[arg(long)]
        amend_reason: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Verify a prescribed cycle clinically (verify_sact; never its prescriber).
    Verify {
        cycle_id: i64,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Release a verified cycle for preparation (release_sact).
    Release {
        cycle_id: i64,
        /// NAME=VALUE@TIME: a pre-treatment result typed by hand, and when its sample was
        /// taken (RFC 3339). Results not typed are taken from the laboratory's feed.
        #[arg(long = "result")]
        results: Vec<String>,
        /// Why results were typed rather than taken from the laboratory's feed
        /// (needed with --result): a point-of-care test, a result not yet on the feed.
        #[arg(long)]
        typed_reason: Option<String>,
        /// Today's weight.
        #[arg(long)]
        weight_kg: String,
        /// The weight the cycle's doses were calculated from.
        #[arg(long)]
        dosing_weight_kg: String,
        /// CODE=REASON: go on despite a warning, with the reason recorded.
        #[arg(long = "override")]
        overrides: Vec<String>,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Record one drug given, witnessed by a second card (administer_sact, both).
    Administer {
        cycle_id: i64,
        #[arg(long)]
        drug: String,
        /// The line's days as prescribed, e.g. D1.
        #[arg(long)]
        day: String,
        #[arg(long)]
        dose_given: String,
        /// RFC 3339, e.g. 2026-12-07T09:30:00Z.
        #[arg(long)]
        started: String,
        #[arg(long)]
        stopped: Option<String>,
        #[arg(long)]
        batch: String,
        /// YYYY-MM-DD
        #[arg(long)]
        expiry: String,
        /// The second checker's card; their PIN is the second line of standard input.
        #[arg(long)]
        witness_card: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Put a cycle off to a later date, with a coded reason (prescribe_sact).
    Defer {
        cycle_id: i64,
        /// toxicity, blood_counts_not_recovered, patient_choice, organisational_reasons, intercurrent_illness or other
        #[arg(long)]
        reason: String,
        /// The new date, YYYY-MM-DD.
        #[arg(long)]
        until: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a cycle not yet given, saying why (prescribe_sact).
    Cancel {
        cycle_id: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Print a cycle's prescription as an A4 PDF (view_patients); its signatures are checked first.
    Print {
        cycle_id: i64,
        #[arg(long)]
        output: std::path::PathBuf,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Print the aseptic unit's preparation worksheet for a released cycle (view_patients).
    Worksheet {
        cycle_id: i64,
        #[arg(long)]
        output: std::path::PathBuf,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// One cycle: its state, doses, and each act with who signed it (view_patients).
    Show {
        cycle_id: i64,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Write the SACT data set return (v4.0.1 items) for a period: one row per dose
    /// given (release_sact). Rows lacking a mandatory item are listed on stderr, not
    /// written, and the exit status is then 2.
    Export {
        /// First day included, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day included, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        #[arg(long)]
        output: std::path::PathBuf,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Send a course's treatment record to another site as a file signed with your card (view_patients).
    TransferOut {
        course_id: i64,
        #[arg(long)]
        output: std::path::PathBuf,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Receive another site's signed record: its doses count towards lifetime limits here (prescribe_sact).
    TransferIn {
        file: std::path::PathBuf,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// A patient's lifetime totals, from every dose recorded as given, here and elsewhere (view_patients).
    Totals {
        /// The patient's NHS number.
        #[arg(long)]
        patient: String,
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
    /// Cycles awaiting verification, oldest first (verify_sact).
    Queue {
        #[command(flatten)]
        card: CardArgs,
        #[arg(long)]
        json: bool,
    },
}

/// The site code doses given here are recorded under: the site's ODS code, where the settings give one.
fn this_site() -> Result<String, Failure> {
    Ok(crate::site_settings()?.site_ods_code.clone().unwrap_or_else(|| "site-ods-code-not-set".to_owned()))
}

pub fn run(command: SactCommand, location: StoreLocation) -> Result<(), Failure> {
    block_on(with_context(&location, async |context| match command {
        SactCommand::StartCourse {
            patient,
            regimen,
            version,
            intent,
            line,
            cycles,
            start_date,
            card,
            json,
        } => {
            let holder =
                proven_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactCourseStart)
                    .await?;
            let prescriber = services::cards::acting_for(context, &holder, Permission::PrescribeSact)?;
            let viewer = services::cards::acting_for(context, &holder, Permission::ViewPatients)?;
            let query = patients::PatientQuery::parse(&patient, None, crate::nhs_policy()?)?;
            let found = services::patients::search(context, &viewer, &query, 2).await?;
            let [patient] = found.as_slice() else {
                return Err(Failure::Input("patient: no patient has that NHS number".into()));
            };
            let new = NewCourse {
                patient_id: patient.id,
                regimen_code: regimen,
                regimen_version: version,
                intent: Intent::parse(&intent).map_err(|r| Failure::Input(r.message))?,
                line,
                planned_cycles: cycles,
                start_date: date(&start_date, "start_date")?,
            };
            let course_id = services::sact::start_course(context, &prescriber, &new).await?;
            report(json, &format!("Started course {course_id}."), serde_json::json!({"course_id": course_id}))
        }
        SactCommand::Prescribe { course, cycle, treatment_date, measured, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactPrescribe)
                    .await?;
            let new = measured.new_cycle(course, cycle, date(&treatment_date, "treatment_date")?)?;
            let signer = CardSigner::for_card(&card)?;
            let prescribed = services::sact::prescribe(context, &acting, &signer, &new).await?;
            let fields = serde_json::json!({
                "cycle_id": prescribed.cycle_id,
                "state": "prescribed",
                "bsa_m2": prescribed.doses.bsa_m2.value().to_string(),
                "drugs": prescribed.doses.drugs,
                "warnings": prescribed.doses.warnings,
            });
            let mut message = format!("Prescribed cycle {} as cycle id {}:", cycle, prescribed.cycle_id);
            for line in &prescribed.doses.drugs {
                let dose = &line.dose;
                message.push_str(&format!(
                    "\n  {} {} {} {}",
                    dose.drug,
                    line.day,
                    dose.final_dose,
                    dose.unit.symbol()
                ));
            }
            report(json, &message, fields)
        }
        SactCommand::Amend { cycle_id, measured, amend_reason, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactCycleUpdate)
                    .await?;
            // The course, number and date are the cycle's own; the service takes them from it.
            let new = measured.new_cycle(0, 0, Utc::now().date_naive())?;
            let signer = CardSigner::for_card(&card)?;
            let amended =
                services::sact::amend(context, &acting, &signer, cycle_id, &new, &amend_reason).await?;
            let fields = serde_json::json!({
                "cycle_id": amended.cycle_id,
                "state": "prescribed",
                "drugs": amended.doses.drugs,
                "warnings": amended.doses.warnings,
            });
            report(json, &format!("Amended cycle id {cycle_id}; it awaits verification again."), fields)
        }
        SactCommand::Verify { cycle_id, card, json } => {
            let holder =
                proven_card_holder(context, &card, Permission::VerifySact, AuditAction::SactCycleUpdate)
                    .await?;
            let acting = services::cards::acting_for(context, &holder, Permission::VerifySact)?;
            let role = holder.user().role.code.clone();
            // Who may verify what is trusted site data, like the role mapping.
            let scope = crate::trusted_settings::trusted_settings()?.verification_scope.clone();
            let signer = CardSigner::for_card(&card)?;
            let stored = services::sact::verify(context, &acting, &signer, &role, &scope, cycle_id).await?;
            report_cycle(json, "Verified", &stored)
        }
        SactCommand::Release {
            cycle_id,
            results,
            typed_reason,
            weight_kg,
            dosing_weight_kg,
            overrides,
            card,
            json,
        } => {
            let acting =
                acting_card_holder(context, &card, Permission::ReleaseSact, AuditAction::SactCycleUpdate)
                    .await?;
            let request = ReleaseRequest {
                cycle_id,
                results: parse_results(&results, typed_reason.as_deref().unwrap_or(""))?,
                current_weight_kg: decimal(&weight_kg, "weight_kg")?,
                dosing_weight_kg: decimal(&dosing_weight_kg, "dosing_weight_kg")?,
                overrides: parse_overrides(&overrides)?,
            };
            let signer = CardSigner::for_card(&card)?;
            let stored = services::sact::release(context, &acting, &signer, &request).await?;
            report_cycle(json, "Released", &stored)
        }
        SactCommand::Administer {
            cycle_id,
            drug,
            day,
            dose_given,
            started,
            stopped,
            batch,
            expiry,
            witness_card,
            card,
            json,
        } => {
            let nurse =
                acting_card_holder(context, &card, Permission::AdministerSact, AuditAction::SactDoseGiven)
                    .await?;
            let witness_holder = card_holder_by_label(
                context,
                &witness_card,
                1,
                Permission::AdministerSact,
                AuditAction::SactDoseGiven,
            )
            .await?;
            let witness = services::cards::acting_for(context, &witness_holder, Permission::AdministerSact)?;
            let record = AdministrationRecord {
                drug,
                day,
                dose_given: decimal(&dose_given, "dose_given")?,
                started: time(&started, "started")?,
                stopped: stopped.as_deref().map(|t| time(t, "stopped")).transpose()?,
                batch,
                expiry: date(&expiry, "expiry")?,
                administered_by: user_id(nurse.actor())?,
                witness: user_id(witness.actor())?,
            };
            let (nurse_signer, witness_signer) =
                (CardSigner::for_card(&card)?, CardSigner::new(&witness_card, 1)?);
            let giver = services::sact::Signing { acting: &nurse, card: &nurse_signer };
            let second = services::sact::Signing { acting: &witness, card: &witness_signer };
            let stored =
                services::sact::administer(context, giver, second, cycle_id, record, &this_site()?).await?;
            report_cycle(json, "Recorded", &stored)
        }
        SactCommand::Defer { cycle_id, reason, until, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactCycleUpdate)
                    .await?;
            let reason = sact::DeferralReason::parse(&reason).map_err(|r| Failure::Input(r.message))?;
            let signer = CardSigner::for_card(&card)?;
            let until = date(&until, "until")?;
            let stored = services::sact::defer(context, &acting, &signer, cycle_id, reason, until).await?;
            report_cycle(json, "Deferred", &stored)
        }
        SactCommand::Cancel { cycle_id, reason, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactCycleUpdate)
                    .await?;
            let signer = CardSigner::for_card(&card)?;
            let stored = services::sact::cancel(context, &acting, &signer, cycle_id, &reason).await?;
            report_cycle(json, "Cancelled", &stored)
        }
        SactCommand::Print { cycle_id, output: path, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ViewPatients, AuditAction::SactRead).await?;
            let settings = crate::trusted_settings::trusted_settings()?;
            let trust = crate::card_authority::trusted_ca(settings)?;
            let pdf = services::sact_print::prescription_pdf(
                context,
                &acting,
                cycle_id,
                &trust,
                &settings.site_name,
            )
            .await?;
            write_owner_only(&path, &pdf)?;
            let message = format!("Printed cycle {cycle_id}'s prescription to {}.", path.display());
            report(json, &message, serde_json::json!({"printed": path}))
        }
        SactCommand::Worksheet { cycle_id, output: path, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ViewPatients, AuditAction::SactRead).await?;
            let settings = crate::trusted_settings::trusted_settings()?;
            let trust = crate::card_authority::trusted_ca(settings)?;
            let pdf =
                services::sact_print::worksheet_pdf(context, &acting, cycle_id, &trust, &settings.site_name)
                    .await?;
            write_owner_only(&path, &pdf)?;
            let message = format!("Printed cycle {cycle_id}'s preparation worksheet to {}.", path.display());
            report(json, &message, serde_json::json!({"printed": path}))
        }
        SactCommand::Show { cycle_id, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ViewPatients, AuditAction::SactRead).await?;
            let stored = services::sact::cycle(context, &acting, cycle_id).await?;
            let cycle = &stored.cycle;
            let mut message = format!(
                "Cycle {} (id {}, prescription version {}) for {}: {}",
                cycle.number,
                stored.id,
                cycle.prescription_version,
                cycle.treatment_date,
                cycle.state.name()
            );
            for line in &cycle.drugs {
                message.push_str(&format!(
                    "\n  {} {} {} {} {}",
                    line.drug,
                    line.day,
                    line.dose.normalize(),
                    line.unit.symbol(),
                    line.route
                ));
            }
            for signed in &cycle.signatures {
                message.push_str(&format!(
                    "\n  {} by {} at {}",
                    signed.act,
                    signed.signer.as_str(),
                    signed.signed_at.to_rfc3339()
                ));
            }
            report(json, &message, cycle_json(&stored))
        }
        SactCommand::Export { from, to, output: path, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ReleaseSact, AuditAction::SactRead).await?;
            let rows =
                services::sact_return::return_rows(context, &acting, date(&from, "from")?, date(&to, "to")?)
                    .await?;
            let mut csv = Vec::new();
            let left_out = sact::write_return(&rows, &mut csv).map_err(|e| Failure::Other(e.into()))?;
            write_owner_only(&path, &csv)?;
            let written = rows.len() - left_out.len();
            let message = format!("Wrote {written} rows to {}.", path.display());
            report(json, &message, serde_json::json!({"written": written, "left_out": left_out.len()}))?;
            for row in &left_out {
                eprintln!("left out {}: missing {}", row.record, row.missing.join(", "));
            }
            match left_out.len() {
                0 => Ok(()),
                n => Err(Failure::Input(format!(
                    "{n} rows lack a mandatory item and were left out; correct them and export again"
                ))),
            }
        }
        SactCommand::TransferOut { course_id, output: path, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ViewPatients, AuditAction::SactRead).await?;
            let signer = CardSigner::for_card(&card)?;
            let file = services::sact_transfer::transfer_out(context, &acting, &signer, course_id).await?;
            write_owner_only(&path, &file)?;
            let message = format!("Wrote course {course_id}'s signed record to {}.", path.display());
            report(json, &message, serde_json::json!({"written": path}))
        }
        SactCommand::TransferIn { file, card, json } => {
            let holder =
                proven_card_holder(context, &card, Permission::PrescribeSact, AuditAction::SactDoseGiven)
                    .await?;
            let acting = services::cards::acting_for(context, &holder, Permission::PrescribeSact)?;
            let viewer = services::cards::acting_for(context, &holder, Permission::ViewPatients)?;
            let bytes =
                std::fs::read(&file).map_err(|e| Failure::Input(format!("file: {}: {e}", file.display())))?;
            let trust = crate::card_authority::trusted_ca(crate::trusted_settings::trusted_settings()?)?;
            let received =
                services::sact_transfer::transfer_in(context, &acting, &viewer, &bytes, &trust).await?;
            let message = format!(
                "Received {} doses given at {} for patient {}.",
                received.doses_added, received.from_site, received.patient_id
            );
            report(json, &message, serde_json::to_value(&received).map_err(|e| Failure::Other(e.into()))?)
        }
        SactCommand::Totals { patient, card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::ViewPatients, AuditAction::SactRead).await?;
            let query = patients::PatientQuery::parse(&patient, None, crate::nhs_policy()?)?;
            let found = services::patients::search(context, &acting, &query, 2).await?;
            let [patient] = found.as_slice() else {
                return Err(Failure::Input("patient: no patient has that NHS number".into()));
            };
            let totals = services::sact::lifetime_totals(context, &acting, patient.id).await?;
            let rows: BTreeMap<&String, serde_json::Value> = totals
                .iter()
                .map(|(drug, t)| {
                    (drug, serde_json::json!({"total": t.total.to_string(), "per_m2": t.per_m2.to_string()}))
                })
                .collect();
            if json {
                output::json(&rows)?;
            } else {
                for (drug, t) in &totals {
                    println!("{drug}: {} in all, {} per m²", t.total.normalize(), t.per_m2.round_dp(2));
                }
            }
            Ok(())
        }
        SactCommand::Queue { card, json } => {
            let acting =
                acting_card_holder(context, &card, Permission::VerifySact, AuditAction::SactRead).await?;
            let queue = services::sact::verification_queue(context, &acting, 200).await?;
            if json {
                let rows: Vec<_> = queue.iter().map(cycle_json).collect();
                output::json(&rows)?;
            } else {
                for stored in &queue {
                    println!(
                        "cycle {:>6}  course {:>6}  cycle {:>2}  due {}",
                        stored.id, stored.course_id, stored.cycle.number, stored.cycle.treatment_date
                    );
                }
            }
            Ok(())
        }
    }))
}

/// A printed record holds patient data: only its owner may read the file.
fn write_owner_only(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| Failure::Input(format!("output: {}: {e}", path.display())))?;
    file.write_all(bytes).map_err(|e| Failure::Other(e.into()))
}

fn cycle_json(stored: &StoredCycle) -> serde_json::Value {
    serde_json::json!({
        "cycle_id": stored.id,
        "course_id": stored.course_id,
        "state": stored.cycle.state.name(),
        "cycle": stored.cycle,
    })
}

fn report_cycle(json: bool, done: &str, stored: &StoredCycle) -> Result<(), Failure> {
    let message = format!("{done}: cycle id {} is now {}.", stored.id, stored.cycle.state.name());
    report(json, &message, cycle_json(stored))
}

fn report(json: bool, message: &str, fields: serde_json::Value) -> Result<(), Failure> {
    if json {
        output::json(&fields)?;
    } else {
        println!("{message}");
    }
    Ok(())
}

fn date(text: &str, field: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::Input(format!("{field}: {text:?} is not a date in the form YYYY-MM-DD")))
}

fn time(text: &str, field: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(text.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        Failure::Input(format!("{field}: {text:?} is not a time in the form 2026-12-07T09:30:00Z"))
    })
}

fn decimal(text: &str, field: &str) -> Result<Decimal, Failure> {
    text.trim().parse().map_err(|_| Failure::Input(format!("{field}: {text:?} is not a number")))
}

fn user_id(actor: &store::Actor) -> Result<session::UserId, Failure> {
    session::UserId::parse(&actor.user).ok_or_else(|| Failure::Input("card: not a person's user id".into()))
}

/// `DRUG=PERCENT` each, sharing one reason.
fn parse_modifications(given: &[String], reason: Option<&str>) -> Result<Vec<DrugModification>, Failure> {
    given
        .iter()
        .map(|text| {
            let (drug, percent) = text
                .split_once('=')
                .ok_or_else(|| Failure::Input(format!("modify: {text:?} is not DRUG=PERCENT")))?;
            let reason =
                reason.ok_or_else(|| Failure::Input("reason: a modification needs --reason".into()))?;
            Ok(DrugModification {
                drug: drug.trim().to_owned(),
                modification: Modification {
                    percent: decimal(percent, "modify")?,
                    reason: reason.to_owned(),
                },
            })
        })
        .collect()
}

/// `NAME=VALUE@TIME` each, typed for `reason` (the service refuses a typed result without one).
fn parse_results(given: &[String], reason: &str) -> Result<BTreeMap<String, TimedResult>, Failure> {
    given
        .iter()
        .map(|text| {
            let shape = || Failure::Input(format!("result: {text:?} is not NAME=VALUE@TIME"));
            let (name, rest) = text.split_once('=').ok_or_else(shape)?;
            let (value, taken) = rest.split_once('@').ok_or_else(shape)?;
            let result = TimedResult {
                value: decimal(value, "result")?,
                taken_at: time(taken, "result")?,
                source: sact::ResultSource::Typed { reason: reason.to_owned() },
            };
            Ok((name.trim().to_owned(), result))
        })
        .collect()
}

/// `CODE=REASON` each.
fn parse_overrides(given: &[String]) -> Result<Vec<Override>, Failure> {
    given
        .iter()
        .map(|text| {
            let (code, reason) = text
                .split_once('=')
                .ok_or_else(|| Failure::Input(format!("override: {text:?} is not CODE=REASON")))?;
            Ok(Override { code: code.trim().to_owned(), reason: reason.trim().to_owned() })
        })
        .collect()
}

/// Approves the library's current version of a regimen as the card holder (manage_regimens).
pub fn approve_regimen(
    location: StoreLocation,
    code: &str,
    version: Option<&str>,
    note: &str,
    card: &CardArgs,
    json: bool,
) -> Result<(), Failure> {
    block_on(with_context(&location, async |context: &Context| {
        let holder =
            proven_card_holder(context, card, Permission::ManageRegimens, AuditAction::RegimenApprove)
                .await?;
        let acting = services::cards::acting_for(context, &holder, Permission::ManageRegimens)?;
        let role = holder.user().role.code.clone();
        let state = services::regimens::approve(context, &acting, &role, code, version, note).await?;
        let message = if state.approved {
            format!("{code} is approved here and may be prescribed.")
        } else {
            format!(
                "Approval recorded; {code} needs a consultant's and a pharmacist's approval before it is prescribed."
            )
        };
        report(
            json,
            &message,
            serde_json::json!({"regimen": code, "approved": state.approved, "approvals": state.approvals.len()}),
        )
    }))
}
