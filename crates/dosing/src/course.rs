//! A whole regimen cycle for one patient: BSA once, renal function once where
//! a drug needs it, every drug through the pipeline, and the checks.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::bsa::{BsaFormula, BsaResult, body_surface_area};
use crate::checks::{self, ResultLimit, Severity, Warning};
use crate::pipeline::{DoseBasis, DrugDose, DrugRequest, Modification, PatientBasis, dose_drug};
use crate::policy::{LifetimeLimit, SitePolicy};
use crate::renal::{CockcroftGaultInput, RenalFunction, Sex, cockcroft_gault, deindexed_egfr, measured_gfr};
use crate::units::{
    self, Centimetres, DOSING_WEIGHT, EGFR, Kilograms, MEASURED_GFR, MicromolesPerLitre,
    MillilitresPerMinute, SquareMetres, Years, measured, parse_decimal,
};

/// One drug line of a regimen, as the dose engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlannedDrug {
    pub drug: String,
    /// Tells apart two lines of one drug, e.g. a bolus and an infusion.
    pub label: Option<String>,
    pub dose: DoseBasis,
    /// The regimen's maximum single dose, in the unit of the dose (mg, or IU).
    pub cap: Option<Decimal>,
    pub days: Vec<u32>,
    /// How many times the dose is given on each of its days (2 for twice daily).
    pub administrations_per_day: u32,
}

/// Where a regimen version stands at this site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    /// Signed off by the trust's oncology pharmacists.
    Approved,
    /// Awaiting sign-off: calculated, with a warning.
    Draft,
    /// No longer to be used: refused.
    Withdrawn,
}

/// What the engine needs of a regimen; the regimens crate supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoursePlan {
    pub code: String,
    pub version: String,
    pub status: PlanStatus,
    pub bsa_formula: Option<BsaFormula>,
    pub bsa_cap_m2: Option<Decimal>,
    pub drugs: Vec<PlannedDrug>,
    pub pre_treatment_limits: Vec<ResultLimit>,
}

/// A patient's measurements as typed by a person, before they are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MeasurementsText {
    pub height_cm: String,
    pub weight_kg: String,
    pub sex: Option<String>,
    pub age_years: Option<String>,
    pub creatinine_umol_l: Option<String>,
    pub gfr_ml_min: Option<String>,
    pub egfr_ml_min_1_73m2: Option<String>,
    pub dosing_weight_kg: Option<String>,
}

/// Measurements that passed every range check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurements {
    pub height: Centimetres,
    pub weight: Kilograms,
    pub sex: Option<Sex>,
    pub age: Option<Years>,
    pub creatinine: Option<MicromolesPerLitre>,
    pub gfr: Option<MillilitresPerMinute>,
    pub egfr_per_1_73: Option<Decimal>,
    pub dosing_weight: Option<Kilograms>,
}

fn optional<T>(
    text: &Option<String>,
    parse: impl Fn(&str) -> Result<T, DoseError>,
) -> Result<Option<T>, DoseError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => parse(value).map(Some),
    }
}

impl MeasurementsText {
    pub fn parse(&self) -> Result<Measurements, DoseError> {
        Ok(Measurements {
            height: Centimetres::measured(parse_decimal(&self.height_cm, units::HEIGHT.field)?)?,
            weight: Kilograms::measured(parse_decimal(&self.weight_kg, units::WEIGHT.field)?)?,
            sex: optional(&self.sex, Sex::parse)?,
            age: optional(&self.age_years, |t| Years::measured(parse_decimal(t, units::AGE.field)?))?,
            creatinine: optional(&self.creatinine_umol_l, |t| {
                MicromolesPerLitre::measured(parse_decimal(t, units::CREATININE.field)?)
            })?,
            gfr: optional(&self.gfr_ml_min, |t| {
                measured(parse_decimal(t, MEASURED_GFR.field)?, &MEASURED_GFR).map(MillilitresPerMinute::new)
            })?,
            egfr_per_1_73: optional(&self.egfr_ml_min_1_73m2, |t| {
                measured(parse_decimal(t, EGFR.field)?, &EGFR)
            })?,
            dosing_weight: optional(&self.dosing_weight_kg, |t| {
                measured(parse_decimal(t, DOSING_WEIGHT.field)?, &DOSING_WEIGHT).map(Kilograms::new)
            })?,
        })
    }
}

/// A modification to one drug by name, or to every drug with `all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DrugModification {
    pub drug: String,
    pub modification: Modification,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseOptions {
    pub modifications: Vec<DrugModification>,
    /// Pre-treatment results by test name, e.g. `neutrophils`.
    pub results: BTreeMap<String, Decimal>,
    /// Lifetime dose already given, per drug, in the unit of its limit.
    pub prior_cumulative: BTreeMap<String, Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DrugLineDose {
    pub label: Option<String>,
    /// The days given, e.g. `D1, D8` or `D1–D5`.
    pub day: String,
    #[serde(flatten)]
    pub dose: DrugDose,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CourseDoses {
    pub regimen: String,
    pub version: String,
    pub bsa_m2: SquareMetres,
    pub bsa: BsaResult,
    pub renal: Option<RenalFunction>,
    /// Every warning and block, the drugs' own included, most serious first.
    pub warnings: Vec<Warning>,
    pub drugs: Vec<DrugLineDose>,
}

pub fn calculate_course(
    plan: &CoursePlan,
    patient: &Measurements,
    options: &CourseOptions,
    policy: &SitePolicy,
) -> Result<CourseDoses, DoseError> {
    if plan.status == PlanStatus::Withdrawn {
        return Err(DoseError::new(
            "regimen",
            format!(
                "{} v{} is withdrawn and may not be used to calculate doses; choose its current version or another regimen",
                plan.code, plan.version
            ),
        ));
    }
    check_options(plan, options, policy)?;
    let formula = plan.bsa_formula.unwrap_or(policy.bsa_formula);
    let bsa_cap = plan.bsa_cap_m2.map(SquareMetres::new);
    let bsa = body_surface_area(patient.height, patient.weight, formula, policy.bsa_rounding, bsa_cap)?;
    let renal = renal_function(plan, patient, bsa.bsa_m2, policy)?;
    let basis = PatientBasis { bsa: Some(bsa.bsa_m2), weight: Some(patient.weight), renal: renal.as_ref() };

    let mut warnings = unusual_measurements(patient);
    if plan.status == PlanStatus::Draft {
        warnings.push(Warning::new(
            "regimen_not_approved",
            Severity::Warning,
            format!(
                "{} v{} is not approved for clinical use at this site: its doses await pharmacist sign-off.",
                plan.code, plan.version
            ),
        ));
    }
    if let Some(dosing_weight) = patient.dosing_weight {
        warnings.extend(checks::weight_change(
            patient.weight,
            dosing_weight,
            policy.weight_change_recalculation_percent,
        ));
    }
    warnings.extend(checks::pre_treatment(&plan.pre_treatment_limits, &options.results));

    let drugs = plan
        .drugs
        .iter()
        .enumerate()
        .map(|(index, planned)| {
            let modification = modification_for(&planned.drug, &options.modifications);
            let request = DrugRequest {
                drug: &planned.drug,
                field: format!("drugs[{index}]"),
                basis: planned.dose,
                regimen_cap: planned.cap,
                modification,
            };
            let dose = dose_drug(&request, &basis, policy)?;
            Ok(DrugLineDose { label: planned.label.clone(), day: day_text(&planned.days), dose })
        })
        .collect::<Result<Vec<_>, DoseError>>()?;

    for line in &drugs {
        warnings.extend(line.dose.warnings.iter().cloned());
    }
    warnings.extend(cumulative_warnings(&drugs, plan, bsa.bsa_m2, options, policy)?);
    warnings.sort_by_key(|w| std::cmp::Reverse(w.severity));
    Ok(CourseDoses {
        regimen: plan.code.clone(),
        version: plan.version.clone(),
        bsa_m2: bsa.bsa_m2,
        bsa,
        renal,
        warnings,
        drugs,
    })
}

/// No more than this many times a drug's lifetime limit is believed as a dose already given.
const PRIOR_CUMULATIVE_MAX_TIMES_LIMIT: u32 = 10;

/// Refuses options the engine would otherwise ignore or misread: a modification
/// for a drug the regimen does not hold, and an impossible lifetime dose given.
fn check_options(plan: &CoursePlan, options: &CourseOptions, policy: &SitePolicy) -> Result<(), DoseError> {
    for (index, modification) in options.modifications.iter().enumerate() {
        let field = format!("modifications[{index}]");
        let named = modification.drug.as_str();
        if named != "all" && !plan.drugs.iter().any(|d| d.drug.eq_ignore_ascii_case(named)) {
            return Err(DoseError::new(
                format!("{field}.drug"),
                format!("{named} is not in {}; a modification names one of its drugs, or all", plan.code),
            ));
        }
        modification.modification.check(&field)?;
    }
    for (drug, prior) in &options.prior_cumulative {
        let field = format!("prior_cumulative.{drug}");
        if prior.is_sign_negative() {
            return Err(DoseError::new(field, "a lifetime dose already given cannot be negative"));
        }
        let limit = policy.drug(drug, &field)?.lifetime_limit;
        let Some(limit) = limit else { continue };
        let most = limit.value() * Decimal::from(PRIOR_CUMULATIVE_MAX_TIMES_LIMIT);
        if *prior > most {
            return Err(DoseError::new(
                field,
                format!(
                    "{} {} is more than {PRIOR_CUMULATIVE_MAX_TIMES_LIMIT} times the lifetime limit of {} {}; check the value and its unit",
                    prior.normalize(),
                    limit.unit(),
                    limit.value().normalize(),
                    limit.unit()
                ),
            ));
        }
    }
    Ok(())
}

fn modification_for<'a>(drug: &str, modifications: &'a [DrugModification]) -> Option<&'a Modification> {
    let for_drug = modifications.iter().find(|m| m.drug.eq_ignore_ascii_case(drug));
    for_drug.or_else(|| modifications.iter().find(|m| m.drug == "all")).map(|m| &m.modification)
}

fn renal_function(
    plan: &CoursePlan,
    patient: &Measurements,
    bsa: SquareMetres,
    policy: &SitePolicy,
) -> Result<Option<RenalFunction>, DoseError> {
    if !plan.drugs.iter().any(|d| matches!(d.dose, DoseBasis::Auc(_))) {
        return Ok(None);
    }
    if let Some(gfr) = patient.gfr {
        return Ok(Some(measured_gfr(gfr)));
    }
    if let Some(egfr) = patient.egfr_per_1_73 {
        return Ok(Some(deindexed_egfr(egfr, bsa)));
    }
    let missing = |field: &str| {
        DoseError::new(field, "AUC dosing needs a measured GFR, an eGFR, or this Cockcroft–Gault input")
    };
    let input = CockcroftGaultInput {
        sex: patient.sex.ok_or_else(|| missing("sex"))?,
        age: patient.age.ok_or_else(|| missing("age_years"))?,
        weight: patient.weight,
        creatinine: patient.creatinine.ok_or_else(|| missing("creatinine_umol_l"))?,
        height: Some(patient.height),
        weight_basis: policy.crcl_weight_basis,
    };
    cockcroft_gault(&input).map(Some)
}

fn cumulative_warnings(
    drugs: &[DrugLineDose],
    plan: &CoursePlan,
    bsa: SquareMetres,
    options: &CourseOptions,
    policy: &SitePolicy,
) -> Result<Vec<Warning>, DoseError> {
    let mut warnings = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (line, planned) in drugs.iter().zip(&plan.drugs) {
        let name = planned.drug.as_str();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let Some(limit) = policy.drug(name, "drug")?.lifetime_limit else { continue };
        let this_cycle = cycle_total(drugs, plan, name)?;
        let in_limit_units = match limit {
            LifetimeLimit::MgPerM2(_) => this_cycle / bsa.value(),
            LifetimeLimit::TotalIu(_) => this_cycle,
        };
        let prior = options.prior_cumulative.get(name).copied();
        if prior.is_none() {
            warnings.push(Warning::new(
                "cumulative_dose_unknown",
                Severity::Warning,
                format!(
                    "{}: no lifetime dose already given was entered; it is counted from zero.",
                    line.dose.drug
                ),
            ));
        }
        warnings.extend(checks::cumulative(
            name,
            limit,
            prior.unwrap_or_default(),
            in_limit_units,
            policy.cumulative_warning_percent,
        )?);
    }
    Ok(warnings)
}

/// Everything of one drug given in a cycle: each line's dose × its days × its doses a day.
fn cycle_total(drugs: &[DrugLineDose], plan: &CoursePlan, name: &str) -> Result<Decimal, DoseError> {
    let overflow =
        || DoseError::new(format!("prior_cumulative.{name}"), "the cycle's total dose is too large to count");
    drugs.iter().zip(&plan.drugs).filter(|(_, p)| p.drug == name).try_fold(
        Decimal::ZERO,
        |total, (line, planned)| {
            let given =
                Decimal::from(planned.days.len()) * Decimal::from(planned.administrations_per_day.max(1));
            let line_total = line.dose.final_dose.checked_mul(given).ok_or_else(overflow)?;
            total.checked_add(line_total).ok_or_else(overflow)
        },
    )
}

/// Values that are possible but unusual: worth a second look, not a refusal.
fn unusual_measurements(patient: &Measurements) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut unusual = |condition: bool, message: String| {
        if condition {
            warnings.push(Warning::new("unusual_measurement", Severity::Warning, message));
        }
    };
    let height = patient.height.value();
    let weight = patient.weight.value();
    unusual(
        height < Decimal::new(120, 0) || height > Decimal::new(210, 0),
        format!("Height {} is unusual for an adult; check it.", patient.height),
    );
    unusual(
        weight < Decimal::new(30, 0) || weight > Decimal::new(200, 0),
        format!("Weight {} is unusual for an adult; check it.", patient.weight),
    );
    if let Some(age) = patient.age {
        unusual(
            age.value() < Decimal::new(18, 0),
            format!("Age {age}: a child; check the regimen and formula are meant for children."),
        );
        unusual(age.value() > Decimal::new(100, 0), format!("Age {age} is unusual; check it."));
    }
    if let Some(creatinine) = patient.creatinine {
        let value = creatinine.value();
        unusual(
            value < Decimal::new(30, 0) || value > Decimal::new(500, 0),
            format!("Creatinine {creatinine} is unusual; check it."),
        );
    }
    warnings
}

/// `D1`, `D1, D8, D15`, or `D1–D5` for a run of consecutive days.
pub fn day_text(days: &[u32]) -> String {
    let consecutive = days.len() > 2 && days.windows(2).all(|pair| pair[1] == pair[0] + 1);
    match (days.first(), days.last()) {
        (Some(first), Some(last)) if consecutive => format!("D{first}–D{last}"),
        _ => days.iter().map(|d| format!("D{d}")).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_as_a_pharmacist_would() {
        assert_eq!(day_text(&[1]), "D1");
        assert_eq!(day_text(&[1, 8, 15]), "D1, D8, D15");
        assert_eq!(day_text(&[1, 2, 3, 4, 5]), "D1–D5");
        assert_eq!(day_text(&[1, 15]), "D1, D15");
        assert_eq!(day_text(&[1, 2]), "D1, D2", "two days are listed, not written as a run");
    }

    #[test]
    fn measurements_are_refused_naming_the_field() {
        let text =
            MeasurementsText { height_cm: "1700".into(), weight_kg: "70".into(), ..Default::default() };
        assert_eq!(text.parse().map_err(|e| e.field), Err("height_cm".into()));
        let text = MeasurementsText {
            height_cm: "170".into(),
            weight_kg: "70".into(),
            creatinine_umol_l: Some("-5".into()),
            ..Default::default()
        };
        assert_eq!(text.parse().map_err(|e| e.field), Err("creatinine_umol_l".into()));
    }
}
