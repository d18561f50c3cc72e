//! The one pipeline every drug goes through:
//! calculated dose → percentage modification → cap → banding or rounding.
//! No step after the cap may take the dose above it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::banding::{BandOutcome, BandingTable, band_dose};
use crate::carboplatin::calvert;
use crate::checks::{Severity, Warning};
use crate::derivation::{Derivation, StepKind, shown};
use crate::policy::{DrugPolicy, SitePolicy};
use crate::renal::RenalFunction;
use crate::units::{DoseUnit, Kilograms, SquareMetres, TargetAuc};

/// How a drug's dose is prescribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "basis", content = "value")]
pub enum DoseBasis {
    #[serde(rename = "mg/m2")]
    MgPerM2(Decimal),
    #[serde(rename = "mg/kg")]
    MgPerKg(Decimal),
    #[serde(rename = "mg")]
    FlatMg(Decimal),
    #[serde(rename = "auc")]
    Auc(Decimal),
    #[serde(rename = "IU/m2")]
    IuPerM2(Decimal),
}

impl DoseBasis {
    pub fn value(self) -> Decimal {
        match self {
            Self::MgPerM2(v) | Self::MgPerKg(v) | Self::FlatMg(v) | Self::Auc(v) | Self::IuPerM2(v) => v,
        }
    }

    pub fn unit(self) -> DoseUnit {
        match self {
            Self::IuPerM2(_) => DoseUnit::InternationalUnits,
            _ => DoseUnit::Milligrams,
        }
    }

    /// The basis as a prescriber writes it: `375 mg/m²`, `AUC 5`.
    pub fn describe(self) -> String {
        let v = self.value().normalize();
        match self {
            Self::MgPerM2(_) => format!("{v} mg/m²"),
            Self::MgPerKg(_) => format!("{v} mg/kg"),
            Self::FlatMg(_) => format!("{v} mg"),
            Self::Auc(_) => format!("AUC {v}"),
            Self::IuPerM2(_) => format!("{v} IU/m²"),
        }
    }
}

/// A percentage of the calculated dose, with the reason a prescriber gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Modification {
    pub percent: Decimal,
    pub reason: String,
}

impl Modification {
    pub fn validated(percent: Decimal, reason: &str, field: &str) -> Result<Self, DoseError> {
        if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
            return Err(DoseError::new(
                field,
                format!(
                    "{}% is not allowed: a modification is more than 0% and at most 100% of the dose",
                    percent.normalize()
                ),
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DoseError::new(
                field,
                "a dose modification needs a reason (toxicity and grade, organ function, performance status)",
            ));
        }
        Ok(Self { percent, reason: reason.to_owned() })
    }
}

pub struct DrugRequest<'a> {
    pub drug: &'a str,
    /// Where the drug came from, for refusals (e.g. `drugs[2]`).
    pub field: String,
    pub basis: DoseBasis,
    pub regimen_cap_mg: Option<Decimal>,
    pub modification: Option<&'a Modification>,
}

/// What a drug's dose may be based on; a basis that needs a missing value is refused.
pub struct PatientBasis<'a> {
    pub bsa: Option<SquareMetres>,
    pub weight: Option<Kilograms>,
    pub renal: Option<&'a RenalFunction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DrugDose {
    pub drug: String,
    pub basis: DoseBasis,
    pub calculated_dose: Decimal,
    pub final_dose: Decimal,
    pub unit: DoseUnit,
    pub capped: bool,
    pub banded: bool,
    pub rounded: bool,
    pub modified: bool,
    pub warnings: Vec<Warning>,
    pub steps: Derivation,
}

pub fn dose_drug(
    request: &DrugRequest<'_>,
    patient: &PatientBasis<'_>,
    policy: &SitePolicy,
) -> Result<DrugDose, DoseError> {
    let drug_policy = policy.drug(request.drug, &format!("{}.drug", request.field))?;
    let unit = request.basis.unit();
    let symbol = unit.symbol();
    let mut steps = Derivation::default();
    let mut warnings = Vec::new();

    let calculated = calculated_dose(request, patient, &mut steps)?;
    let mut dose = calculated;

    let mut modified = false;
    if let Some(modification) = request.modification {
        dose = dose * modification.percent / Decimal::ONE_HUNDRED;
        modified = modification.percent != Decimal::ONE_HUNDRED;
        steps.value(
            StepKind::Modification,
            format!(
                "Modified to {}% of the calculated dose (reason: {}) = {} {symbol}",
                modification.percent.normalize(),
                modification.reason,
                shown(dose, 4)
            ),
            dose,
            symbol,
        );
    }

    let cap = effective_cap(request.regimen_cap_mg, drug_policy, unit);
    let mut capped = false;
    if let Some(cap) = cap
        && dose > cap
    {
        steps.value(
            StepKind::Cap,
            format!(
                "Capped at the maximum single dose of {} mg ({} mg exceeds it)",
                cap.normalize(),
                shown(dose, 4)
            ),
            cap,
            symbol,
        );
        dose = cap;
        capped = true;
    }

    let (final_dose, banded, rounded) =
        band_or_round(request.drug, dose, cap, drug_policy, policy, unit, &mut steps, &mut warnings);
    if final_dose <= Decimal::ZERO {
        return Err(DoseError::new(
            format!("{}.drug", request.field),
            "the dose rounds to nothing; check the inputs and the rounding rule",
        ));
    }
    steps.value(
        StepKind::Result,
        format!("Final dose = {} {symbol}", final_dose.normalize()),
        final_dose,
        symbol,
    );
    Ok(DrugDose {
        drug: request.drug.to_owned(),
        basis: request.basis,
        calculated_dose: calculated.normalize(),
        final_dose: final_dose.normalize(),
        unit,
        capped,
        banded,
        rounded,
        modified,
        warnings,
        steps,
    })
}

fn calculated_dose(
    request: &DrugRequest<'_>,
    patient: &PatientBasis<'_>,
    steps: &mut Derivation,
) -> Result<Decimal, DoseError> {
    let basis = request.basis;
    let value = basis.value();
    if value <= Decimal::ZERO {
        return Err(DoseError::new(
            format!("{}.dose", request.field),
            "the prescribed dose must be more than zero",
        ));
    }
    let symbol = basis.unit().symbol();
    let (dose, text) = match basis {
        DoseBasis::MgPerM2(v) | DoseBasis::IuPerM2(v) => {
            let bsa = patient.bsa.ok_or_else(|| {
                DoseError::new("height_cm", "a dose per m² needs the height and weight for BSA")
            })?;
            let dose = v * bsa.value();
            (dose, format!("{} × {bsa} = {} {symbol}", basis.describe(), shown(dose, 4)))
        }
        DoseBasis::MgPerKg(v) => {
            let weight = patient
                .weight
                .ok_or_else(|| DoseError::new("weight_kg", "a dose per kg needs the weight"))?;
            let dose = v * weight.value();
            (dose, format!("{} × {weight} = {} mg", basis.describe(), shown(dose, 4)))
        }
        DoseBasis::FlatMg(v) => (v, format!("{} mg (flat dose)", v.normalize())),
        DoseBasis::Auc(v) => {
            let renal = patient.renal.ok_or_else(|| {
                DoseError::new("gfr_ml_min", format!("{} is dosed by AUC and needs renal function: give a GFR or the Cockcroft–Gault inputs", request.drug))
            })?;
            let auc = TargetAuc::measured(v)
                .map_err(|e| DoseError::new(format!("{}.dose", request.field), e.reason))?;
            steps.extend(&renal.steps);
            let result = calvert(auc, renal.ml_min);
            steps.extend(&result.steps);
            return Ok(result.dose_mg.value());
        }
    };
    steps.value(StepKind::Formula, format!("Calculated dose = {text}"), dose, symbol);
    Ok(dose)
}

fn effective_cap(regimen_cap: Option<Decimal>, drug: &DrugPolicy, unit: DoseUnit) -> Option<Decimal> {
    if unit != DoseUnit::Milligrams {
        return None;
    }
    match (regimen_cap, drug.max_dose_mg) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[allow(clippy::too_many_arguments)]
fn band_or_round(
    drug: &str,
    dose: Decimal,
    cap: Option<Decimal>,
    drug_policy: &DrugPolicy,
    policy: &SitePolicy,
    unit: DoseUnit,
    steps: &mut Derivation,
    warnings: &mut Vec<Warning>,
) -> (Decimal, bool, bool) {
    if unit == DoseUnit::Milligrams
        && let Some(table) = drug_policy.banding_table.as_deref().and_then(|name| policy.table(name))
        && let Some(band_dose) = try_band(drug, dose, cap, drug_policy, table, policy, steps, warnings)
    {
        return (band_dose, true, false);
    }
    if let Some(name) = &drug_policy.rounding
        && let Some(rule) = policy.rounding_rule(name)
    {
        let ceiling = cap.unwrap_or(Decimal::MAX);
        let rounded = rule.apply_not_above(dose, ceiling);
        let kept_under_cap =
            if rounded != rule.apply(dose) { ", rounded down so as not to pass the cap" } else { "" };
        steps.value(
            StepKind::Rounding,
            format!(
                "Rounded by rule {name} ({}){kept_under_cap} = {} mg",
                rule.describe(),
                rounded.normalize()
            ),
            rounded,
            unit.symbol(),
        );
        return (rounded, false, rounded != dose);
    }
    steps.note(
        StepKind::Note,
        "No banding or rounding rule applies to this drug at this site: the dose is given as calculated",
    );
    (dose, false, false)
}

#[allow(clippy::too_many_arguments)]
fn try_band(
    drug: &str,
    dose: Decimal,
    cap: Option<Decimal>,
    drug_policy: &DrugPolicy,
    table: &BandingTable,
    policy: &SitePolicy,
    steps: &mut Derivation,
    warnings: &mut Vec<Warning>,
) -> Option<Decimal> {
    let rule = policy.band_boundary_rule;
    let source = format!("table {} version {}, boundary rule {}", table.name, table.version, rule.code());
    match band_dose(table, dose, drug_policy.class, rule) {
        BandOutcome::OutsideTable => {
            steps.note(
                StepKind::Banding,
                format!(
                    "Not banded: {} mg is outside the range of {source} ({})",
                    shown(dose, 4),
                    table.range_text()
                ),
            );
            None
        }
        BandOutcome::DeviationTooLarge { band, deviation_percent, allowed_percent } => {
            let allowed = allowed_percent.map_or("no deviation limit for this class".to_owned(), |l| {
                format!("{}% allowed", l.normalize())
            });
            let message = format!(
                "{drug}: band {} mg is {}% from the calculated {} mg ({allowed}); the band is refused and the dose is not banded",
                band.band_dose_mg.normalize(),
                shown(deviation_percent, 2),
                shown(dose, 4)
            );
            steps.note(StepKind::Banding, format!("{message} ({source})"));
            warnings.push(Warning::new("band_refused", Severity::Warning, message));
            None
        }
        BandOutcome::Banded { band, .. } if cap.is_some_and(|c| band.band_dose_mg > c) => {
            steps.note(
                StepKind::Banding,
                format!("Band {} mg would pass the cap: not banded", band.band_dose_mg.normalize()),
            );
            None
        }
        BandOutcome::Banded { band, deviation_percent, allowed_percent } => {
            steps.value(
                StepKind::Banding,
                format!(
                    "Banded by {source}: {} mg falls in the band from {} mg → band dose {} mg (deviation {}%, {}% allowed)",
                    shown(dose, 4),
                    band.from_mg.normalize(),
                    band.band_dose_mg.normalize(),
                    shown(deviation_percent, 2),
                    allowed_percent.normalize()
                ),
                band.band_dose_mg,
                "mg",
            );
            Some(band.band_dose_mg)
        }
    }
}
