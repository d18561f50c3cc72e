//! The one pipeline every drug goes through:
//! calculated dose → cap → percentage modification → cap again → banding or rounding.
//! No step after the cap may take the dose above it, and a dose by AUC never
//! passes the Calvert maximum of AUC × 150 mg.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::banding::{BandOutcome, BandingTable, band_dose};
use crate::carboplatin::{calvert, calvert_maximum};
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

/// A percentage of the dose a patient would otherwise get, with the reason a prescriber gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Modification {
    pub percent: Decimal,
    pub reason: String,
}

impl Modification {
    pub fn validated(percent: Decimal, reason: &str, field: &str) -> Result<Self, DoseError> {
        let modification = Self { percent, reason: reason.trim().to_owned() };
        modification.check(field)?;
        Ok(modification)
    }

    /// The engine's own check, made on every modification whoever built it.
    pub fn check(&self, field: &str) -> Result<(), DoseError> {
        if self.percent <= Decimal::ZERO || self.percent > Decimal::ONE_HUNDRED {
            return Err(DoseError::new(
                field,
                format!(
                    "{}% is not allowed: a modification is more than 0% and at most 100% of the dose",
                    self.percent.normalize()
                ),
            ));
        }
        if self.reason.trim().is_empty() {
            return Err(DoseError::new(
                field,
                "a dose modification needs a reason (toxicity and grade, organ function, performance status)",
            ));
        }
        Ok(())
    }
}

pub struct DrugRequest<'a> {
    pub drug: &'a str,
    /// Where the drug came from, for refusals (e.g. `drugs[2]`).
    pub field: String,
    pub basis: DoseBasis,
    /// The regimen's maximum single dose, in the unit of the basis (mg, or IU for an IU dose).
    pub regimen_cap: Option<Decimal>,
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

/// The highest dose banding or rounding may reach, and why, for the derivation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ceiling {
    dose: Decimal,
    what: String,
}

/// Calculated dose → cap → percentage modification → cap again → banding or rounding.
///
/// The cap comes before the modification because a prescriber's reduction is a
/// share of the dose the patient was getting: 50% of vincristine capped at 2 mg
/// is 1 mg, never 50% of an uncapped 2.8 mg that the cap then erases.
pub fn dose_drug(
    request: &DrugRequest<'_>,
    patient: &PatientBasis<'_>,
    policy: &SitePolicy,
) -> Result<DrugDose, DoseError> {
    let drug_policy = policy.drug(request.drug, &format!("{}.drug", request.field))?;
    if let Some(modification) = request.modification {
        modification.check(&format!("{}.modification", request.field))?;
    }
    let unit = request.basis.unit();
    let symbol = unit.symbol();
    let mut steps = Derivation::default();
    let mut warnings = Vec::new();

    let calculated = calculated_dose(request, patient, &mut steps)?;
    let cap = effective_cap(request.regimen_cap, drug_policy, unit);
    let (unreduced, mut capped) =
        apply_cap(calculated, cap, "Capped at the maximum single dose", unit, &mut steps);

    let mut dose = unreduced;
    let mut modified = false;
    if let Some(modification) = request.modification {
        dose = unreduced * modification.percent / Decimal::ONE_HUNDRED;
        modified = modification.percent != Decimal::ONE_HUNDRED;
        steps.value(
            StepKind::Modification,
            format!(
                "Modified to {}% of {} {symbol} (reason: {}) = {} {symbol}",
                modification.percent.normalize(),
                shown(unreduced, 4),
                modification.reason,
                shown(dose, 4)
            ),
            dose,
            symbol,
        );
        let (again, capped_again) =
            apply_cap(dose, cap, "Capped again after the modification", unit, &mut steps);
        dose = again;
        capped |= capped_again;
    }

    let ceiling = ceiling(cap, request, unit);
    let (final_dose, banded, rounded) = band_or_round(
        request.drug,
        dose,
        ceiling.as_ref(),
        drug_policy,
        policy,
        unit,
        &mut steps,
        &mut warnings,
    );
    if final_dose <= Decimal::ZERO {
        return Err(DoseError::new(
            format!("{}.drug", request.field),
            "the dose rounds to nothing; check the inputs and the rounding rule",
        ));
    }
    if modified {
        let (unreduced_final, _, _) = band_or_round(
            request.drug,
            unreduced,
            ceiling.as_ref(),
            drug_policy,
            policy,
            unit,
            &mut Derivation::default(),
            &mut Vec::new(),
        );
        if final_dose >= unreduced_final {
            let message = format!(
                "{}: the {}% reduction is erased by banding or rounding: the final dose {} {symbol} is the same as without it. Prescribe a lower percentage, or record that the full dose is intended.",
                request.drug,
                request.modification.map_or(Decimal::ONE_HUNDRED, |m| m.percent).normalize(),
                final_dose.normalize()
            );
            steps.note(StepKind::Note, message.clone());
            warnings.push(Warning::new("modification_erased", Severity::Warning, message));
        }
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

/// Lowers a dose to the cap where it passes it, and records the step.
fn apply_cap(
    dose: Decimal,
    cap: Option<Decimal>,
    what: &str,
    unit: DoseUnit,
    steps: &mut Derivation,
) -> (Decimal, bool) {
    let symbol = unit.symbol();
    match cap {
        Some(cap) if dose > cap => {
            steps.value(
                StepKind::Cap,
                format!("{what} of {} {symbol} ({} {symbol} exceeds it)", cap.normalize(), shown(dose, 4)),
                cap,
                symbol,
            );
            (cap, true)
        }
        _ => (dose, false),
    }
}

/// The cap, or for a dose by AUC the Calvert maximum of AUC × 150 mg when that is lower.
fn ceiling(cap: Option<Decimal>, request: &DrugRequest<'_>, unit: DoseUnit) -> Option<Ceiling> {
    let symbol = unit.symbol();
    let cap = cap.map(|dose| Ceiling { dose, what: format!("the cap of {} {symbol}", dose.normalize()) });
    let calvert = match request.basis {
        DoseBasis::Auc(auc) => Some(Ceiling {
            dose: calvert_maximum(TargetAuc::new(auc)).value(),
            what: format!(
                "the Calvert maximum of AUC × 150 = {} mg",
                calvert_maximum(TargetAuc::new(auc)).value().normalize()
            ),
        }),
        _ => None,
    };
    match (cap, calvert) {
        (Some(a), Some(b)) => Some(if b.dose < a.dose { b } else { a }),
        (a, b) => a.or(b),
    }
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
    let site_cap = match unit {
        DoseUnit::Milligrams => drug.max_dose_mg,
        DoseUnit::InternationalUnits => drug.max_dose_iu,
    };
    match (regimen_cap, site_cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[allow(clippy::too_many_arguments)]
fn band_or_round(
    drug: &str,
    dose: Decimal,
    ceiling: Option<&Ceiling>,
    drug_policy: &DrugPolicy,
    policy: &SitePolicy,
    unit: DoseUnit,
    steps: &mut Derivation,
    warnings: &mut Vec<Warning>,
) -> (Decimal, bool, bool) {
    if unit == DoseUnit::Milligrams
        && let Some(table) = drug_policy.banding_table.as_deref().and_then(|name| policy.table(name))
        && let Some(band_dose) = try_band(drug, dose, ceiling, drug_policy, table, policy, steps, warnings)
    {
        return (band_dose, true, false);
    }
    if let Some(name) = &drug_policy.rounding
        && let Some(rule) = policy.rounding_rule(name)
    {
        let symbol = unit.symbol();
        let rounded = rule.apply_not_above(dose, ceiling.map_or(Decimal::MAX, |c| c.dose));
        let kept_under = match ceiling {
            Some(ceiling) if rounded != rule.apply(dose) => {
                format!(", rounded down so as not to pass {}", ceiling.what)
            }
            _ => String::new(),
        };
        steps.value(
            StepKind::Rounding,
            format!(
                "Rounded by rule {name} ({}){kept_under} = {} {symbol}",
                rule.describe(symbol),
                rounded.normalize()
            ),
            rounded,
            symbol,
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
    ceiling: Option<&Ceiling>,
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
        BandOutcome::Banded { band, .. } if ceiling.is_some_and(|c| band.band_dose_mg > c.dose) => {
            let what = ceiling.map_or_else(String::new, |c| c.what.clone());
            steps.note(
                StepKind::Banding,
                format!("Band {} mg would pass {what}: not banded", band.band_dose_mg.normalize()),
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
