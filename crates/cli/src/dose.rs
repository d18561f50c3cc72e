//! `cws dose …`: the dose engine on the command line. Numbers are read as
//! exact decimal text, never through floating point.

use std::collections::BTreeMap;

use anyhow::Context;
use clap::{Args, Subcommand};
use dosing::banding::{BandOutcome, band_dose};
use dosing::bsa::{BsaFormula, body_surface_area};
use dosing::carboplatin::calvert;
use dosing::course::{CourseDoses, CourseOptions, DrugModification, MeasurementsText, calculate_course};
use dosing::pipeline::{DoseBasis, DrugRequest, Modification, PatientBasis, dose_drug};
use dosing::policy::SitePolicy;
use dosing::renal::{CockcroftGaultInput, RenalFunction, Sex, WeightBasis, cockcroft_gault, measured_gfr};
use dosing::units::{
    self, Centimetres, Kilograms, MicromolesPerLitre, MillilitresPerMinute, Years, measured, parse_decimal,
};
use dosing::{Derivation, DoseError};
use rust_decimal::Decimal;
use serde_json::json;

use crate::Failure;
use crate::output;

#[derive(Subcommand)]
pub enum DoseCommand {
    /// Body surface area.
    #[command(allow_negative_numbers = true)]
    Bsa {
        #[arg(long)]
        height_cm: String,
        #[arg(long)]
        weight_kg: String,
        /// mosteller (default), dubois, haycock, gehan-george or boyd.
        #[arg(long)]
        formula: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Creatinine clearance by Cockcroft–Gault.
    #[command(allow_negative_numbers = true)]
    Crcl {
        #[command(flatten)]
        renal: CrclArgs,
        #[arg(long)]
        json: bool,
    },
    /// Carboplatin by Calvert, with the GFR capped at 125 mL/min.
    #[command(allow_negative_numbers = true)]
    Carboplatin {
        #[arg(long)]
        auc: String,
        /// A measured GFR (overrides any estimate).
        #[arg(long)]
        gfr_ml_min: Option<String>,
        #[command(flatten)]
        renal: OptionalCrclArgs,
        #[arg(long)]
        json: bool,
    },
    /// The band a dose falls in, by the drug's table at this site.
    #[command(allow_negative_numbers = true)]
    Band {
        #[arg(long)]
        drug: String,
        #[arg(long)]
        dose_mg: String,
        #[arg(long)]
        json: bool,
    },
    /// Every drug of a regimen for one patient.
    #[command(allow_negative_numbers = true)]
    Regimen(Box<RegimenArgs>),
}

#[derive(Args)]
pub struct CrclArgs {
    #[arg(long)]
    sex: String,
    #[arg(long)]
    age_years: String,
    #[arg(long)]
    weight_kg: String,
    #[arg(long)]
    creatinine_umol_l: String,
    #[arg(long)]
    height_cm: Option<String>,
    /// actual, ideal, adjusted or actual-unless-obese (default: site policy).
    #[arg(long)]
    weight_basis: Option<String>,
}

#[derive(Args)]
pub struct OptionalCrclArgs {
    #[arg(long)]
    sex: Option<String>,
    #[arg(long)]
    age_years: Option<String>,
    #[arg(long)]
    weight_kg: Option<String>,
    #[arg(long)]
    creatinine_umol_l: Option<String>,
    #[arg(long)]
    height_cm: Option<String>,
    #[arg(long)]
    weight_basis: Option<String>,
}

#[derive(Args)]
pub struct RegimenArgs {
    #[arg(long)]
    regimen: String,
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
    /// eGFR in mL/min/1.73 m²; de-indexed to the patient's BSA.
    #[arg(long)]
    egfr: Option<String>,
    /// The weight the regimen's doses were last based on.
    #[arg(long)]
    dosing_weight_kg: Option<String>,
    /// DRUG=PERCENT (or all=PERCENT); each needs a --reason, in the same order.
    #[arg(long = "modify")]
    modifications: Vec<String>,
    #[arg(long = "reason")]
    reasons: Vec<String>,
    /// A pre-treatment result, NAME=VALUE (e.g. neutrophils=1.4).
    #[arg(long = "result")]
    results: Vec<String>,
    /// Lifetime dose already given, DRUG=VALUE in the unit of its limit (mg/m² or IU).
    #[arg(long = "prior-cumulative")]
    prior_cumulative: Vec<String>,
    #[arg(long)]
    json: bool,
}

fn policy() -> anyhow::Result<SitePolicy> {
    SitePolicy::shipped().context("the site policy could not be loaded")
}

pub fn run(command: DoseCommand) -> Result<(), Failure> {
    match command {
        DoseCommand::Bsa { height_cm, weight_kg, formula, json } => {
            bsa(&height_cm, &weight_kg, formula.as_deref(), json)
        }
        DoseCommand::Crcl { renal, json } => crcl(&renal, json),
        DoseCommand::Carboplatin { auc, gfr_ml_min, renal, json } => {
            carboplatin(&auc, gfr_ml_min.as_deref(), &renal, json)
        }
        DoseCommand::Band { drug, dose_mg, json } => band(&drug, &dose_mg, json),
        DoseCommand::Regimen(args) => regimen(&args),
    }
}

fn height(text: &str) -> Result<Centimetres, DoseError> {
    Centimetres::measured(parse_decimal(text, units::HEIGHT.field)?)
}

fn weight(text: &str) -> Result<Kilograms, DoseError> {
    Kilograms::measured(parse_decimal(text, units::WEIGHT.field)?)
}

fn print_steps(title: &str, steps: &Derivation) {
    println!("{title}");
    print!("{}", steps.to_text());
}

fn bsa(height_cm: &str, weight_kg: &str, formula: Option<&str>, as_json: bool) -> Result<(), Failure> {
    let policy = policy()?;
    let formula = formula.map(BsaFormula::parse).transpose()?.unwrap_or(policy.bsa_formula);
    let result =
        body_surface_area(height(height_cm)?, weight(weight_kg)?, formula, policy.bsa_rounding, None)?;
    if as_json {
        output::json(&json!({
            "bsa_m2": result.bsa_m2,
            "formula": formula.code(),
            "unrounded_m2": result.unrounded_m2,
            "rounding": policy.bsa_rounding.name(),
            "steps": result.steps,
        }))?;
    } else {
        print_steps(&format!("BSA {} ({})", result.bsa_m2, formula.name()), &result.steps);
    }
    Ok(())
}

fn cockcroft_gault_input(
    sex: &str,
    age: &str,
    weight_kg: &str,
    creatinine: &str,
    height_cm: Option<&str>,
    basis: Option<&str>,
    policy: &SitePolicy,
) -> Result<CockcroftGaultInput, DoseError> {
    Ok(CockcroftGaultInput {
        sex: Sex::parse(sex)?,
        age: Years::measured(parse_decimal(age, units::AGE.field)?)?,
        weight: weight(weight_kg)?,
        creatinine: MicromolesPerLitre::measured(parse_decimal(creatinine, units::CREATININE.field)?)?,
        height: height_cm.map(height).transpose()?,
        weight_basis: basis.map(WeightBasis::parse).transpose()?.unwrap_or(policy.crcl_weight_basis),
    })
}

fn crcl(args: &CrclArgs, as_json: bool) -> Result<(), Failure> {
    let policy = policy()?;
    let input = cockcroft_gault_input(
        &args.sex,
        &args.age_years,
        &args.weight_kg,
        &args.creatinine_umol_l,
        args.height_cm.as_deref(),
        args.weight_basis.as_deref(),
        &policy,
    )?;
    let result = cockcroft_gault(&input)?;
    if as_json {
        output::json(&json!({
            "crcl_ml_min": result.ml_min,
            "weight_used_kg": result.weight_used_kg,
            "weight_basis": input.weight_basis.code(),
            "steps": result.steps,
        }))?;
    } else {
        print_steps(&format!("CrCl {}", result.ml_min), &result.steps);
    }
    Ok(())
}

fn renal_from(
    gfr: Option<&str>,
    args: &OptionalCrclArgs,
    policy: &SitePolicy,
) -> Result<RenalFunction, DoseError> {
    if let Some(gfr) = gfr {
        let value = measured(parse_decimal(gfr, units::MEASURED_GFR.field)?, &units::MEASURED_GFR)?;
        return Ok(measured_gfr(MillilitresPerMinute::new(value)));
    }
    let need = |value: &Option<String>, field: &str| {
        value.clone().ok_or_else(|| {
            DoseError::new(
                field,
                "give --gfr-ml-min, or all of --sex, --age-years, --weight-kg and --creatinine-umol-l",
            )
        })
    };
    let input = cockcroft_gault_input(
        &need(&args.sex, "sex")?,
        &need(&args.age_years, "age_years")?,
        &need(&args.weight_kg, "weight_kg")?,
        &need(&args.creatinine_umol_l, "creatinine_umol_l")?,
        args.height_cm.as_deref(),
        args.weight_basis.as_deref(),
        policy,
    )?;
    cockcroft_gault(&input)
}

fn carboplatin(auc: &str, gfr: Option<&str>, args: &OptionalCrclArgs, as_json: bool) -> Result<(), Failure> {
    let policy = policy()?;
    let auc = dosing::units::TargetAuc::measured(parse_decimal(auc, units::AUC.field)?)?;
    let renal = renal_from(gfr, args, &policy)?;
    let request = DrugRequest {
        drug: "carboplatin",
        field: "carboplatin".into(),
        basis: DoseBasis::Auc(auc.value()),
        regimen_cap: None,
        modification: None,
    };
    let dose = dose_drug(&request, &PatientBasis { bsa: None, weight: None, renal: Some(&renal) }, &policy)?;
    let gfr_used = calvert(auc, renal.ml_min);
    if as_json {
        output::json(&json!({
            "dose_mg": dose.final_dose,
            "calculated_dose_mg": dose.calculated_dose,
            "gfr_used_ml_min": gfr_used.gfr_used_ml_min,
            "gfr_capped": gfr_used.gfr_capped,
            "steps": dose.steps,
        }))?;
    } else {
        print_steps(&format!("Carboplatin {} mg", dose.final_dose.normalize()), &dose.steps);
    }
    Ok(())
}

fn band(drug: &str, dose_mg: &str, as_json: bool) -> Result<(), Failure> {
    let policy = policy()?;
    let dose = parse_decimal(dose_mg, "dose_mg")?;
    if dose <= Decimal::ZERO {
        return Err(DoseError::new("dose_mg", "must be more than zero").into());
    }
    let drug_policy = policy.drug(drug, "drug")?;
    let table = drug_policy
        .banding_table
        .as_deref()
        .and_then(|name| policy.table(name))
        .ok_or_else(|| DoseError::new("drug", format!("{drug} is not banded at this site")))?;
    let rule = policy.band_boundary_rule;
    let (band, deviation, banded, reason) = match band_dose(table, dose, drug_policy.class, rule) {
        BandOutcome::Banded { band, deviation_percent, .. } => {
            (Some(band.band_dose_mg), Some(deviation_percent), true, None)
        }
        BandOutcome::OutsideTable => (
            None,
            None,
            false,
            Some(format!("{} mg is outside the table's range ({})", dose.normalize(), table.range_text())),
        ),
        BandOutcome::DeviationTooLarge { band, deviation_percent, allowed_percent } => (
            None,
            Some(deviation_percent),
            false,
            Some(format!(
                "band {} mg is {}% from the dose, beyond the {}% allowed",
                band.band_dose_mg.normalize(),
                deviation_percent.round_dp(2).normalize(),
                allowed_percent.unwrap_or_default().normalize()
            )),
        ),
    };
    if as_json {
        output::json(&json!({
            "drug": drug.to_lowercase(),
            "calculated_dose_mg": dose,
            "band_dose_mg": band,
            "banded": banded,
            "deviation_percent": deviation.map(|d| d.round_dp(2)),
            "table": table.name,
            "table_version": table.version,
            "boundary_rule": rule.code(),
            "not_banded_because": reason,
        }))?;
    } else {
        match (band, reason) {
            (Some(band), _) => println!(
                "{drug} {} mg → band {} mg (deviation {}%), table {} version {}, boundary rule {}",
                dose.normalize(),
                band.normalize(),
                deviation.unwrap_or_default().round_dp(2).normalize(),
                table.name,
                table.version,
                rule.code()
            ),
            (None, reason) => {
                println!("{drug} {} mg: not banded: {}", dose.normalize(), reason.unwrap_or_default())
            }
        }
    }
    Ok(())
}

/// Splits `NAME=VALUE`, naming the option when the shape is wrong.
fn pairs(items: &[String], option: &str) -> Result<Vec<(String, Decimal)>, DoseError> {
    items
        .iter()
        .map(|item| {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| DoseError::new(option, format!("{item:?} is not NAME=VALUE")))?;
            Ok((name.trim().to_lowercase(), parse_decimal(value, option)?))
        })
        .collect()
}

fn course_options(args: &RegimenArgs) -> Result<CourseOptions, DoseError> {
    let modifications = pairs(&args.modifications, "modify")?;
    if modifications.len() != args.reasons.len() {
        return Err(DoseError::new(
            "reason",
            "every --modify needs its own --reason, given in the same order",
        ));
    }
    let modifications = modifications
        .into_iter()
        .zip(&args.reasons)
        .map(|((drug, percent), reason)| {
            Ok(DrugModification {
                modification: Modification::validated(percent, reason, &format!("modify.{drug}"))?,
                drug,
            })
        })
        .collect::<Result<Vec<_>, DoseError>>()?;
    Ok(CourseOptions {
        modifications,
        results: pairs(&args.results, "result")?.into_iter().collect::<BTreeMap<_, _>>(),
        prior_cumulative: pairs(&args.prior_cumulative, "prior-cumulative")?.into_iter().collect(),
    })
}

fn regimen(args: &RegimenArgs) -> Result<(), Failure> {
    let policy = policy()?;
    let library = crate::regimen::library()?;
    let regimen = library.find(&args.regimen)?;
    let measurements = MeasurementsText {
        height_cm: args.height_cm.clone(),
        weight_kg: args.weight_kg.clone(),
        sex: args.sex.clone(),
        age_years: args.age_years.clone(),
        creatinine_umol_l: args.creatinine_umol_l.clone(),
        gfr_ml_min: args.gfr_ml_min.clone(),
        egfr_ml_min_1_73m2: args.egfr.clone(),
        dosing_weight_kg: args.dosing_weight_kg.clone(),
    }
    .parse()?;
    let options = course_options(args)?;
    let doses = calculate_course(&regimen.plan(), &measurements, &options, &policy)?;
    if args.json {
        output::json(&doses)?;
    } else {
        print_course(&doses);
    }
    Ok(())
}

fn print_course(doses: &CourseDoses) {
    println!("{} v{}: BSA {}", doses.regimen, doses.version, doses.bsa_m2);
    for warning in &doses.warnings {
        println!(
            "{}: {}",
            if warning.severity == dosing::checks::Severity::Block { "BLOCK" } else { "WARNING" },
            warning.message
        );
    }
    println!();
    print_steps("BSA", &doses.bsa.steps);
    for line in &doses.drugs {
        let label = line.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default();
        let d = &line.dose;
        println!();
        print_steps(
            &format!(
                "{}{label} {}: {} → calculated {} {}, final {} {}",
                d.drug,
                line.day,
                d.basis.describe(),
                d.calculated_dose.round_dp(4).normalize(),
                d.unit.symbol(),
                d.final_dose.normalize(),
                d.unit.symbol()
            ),
            &d.steps,
        );
    }
}
