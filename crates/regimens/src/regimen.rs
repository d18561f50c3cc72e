//! One regimen: its schema (these types, with unknown fields refused) and the
//! rules a well-formed regimen keeps.

use dosing::checks::ResultLimit;
use dosing::course::{CoursePlan, PlanStatus, PlannedDrug};
use dosing::pipeline::DoseBasis;
use dosing::units::DoseUnit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The schema identifier every regimen file declares.
pub const SCHEMA: &str = "cws-regimen/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum RegimenStatus {
    /// Not yet signed off by the trust's oncology pharmacists.
    Draft,
    Approved,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum Emetogenicity {
    Minimal,
    Low,
    Moderate,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    IvBolus,
    IvInfusion,
    Oral,
    Subcutaneous,
    Intramuscular,
}

impl Route {
    pub fn describe(self) -> &'static str {
        match self {
            Self::IvBolus => "IV bolus",
            Self::IvInfusion => "IV infusion",
            Self::Oral => "oral",
            Self::Subcutaneous => "subcutaneous",
            Self::Intramuscular => "intramuscular",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RegimenDrug {
    pub drug: String,
    #[serde(default)]
    pub label: Option<String>,
    pub dose: DoseBasis,
    /// The maximum single dose of a drug dosed in mg.
    #[serde(default)]
    pub cap_mg: Option<Decimal>,
    /// The maximum single dose of a drug dosed in IU.
    #[serde(default)]
    pub cap_iu: Option<Decimal>,
    pub route: Route,
    #[serde(default)]
    pub diluent: Option<String>,
    #[serde(default)]
    pub volume_ml: Option<Decimal>,
    #[serde(default)]
    pub rate_or_duration: Option<String>,
    pub days: Vec<u32>,
    #[serde(default)]
    pub frequency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Regimen {
    pub schema: String,
    pub code: String,
    pub version: String,
    pub status: RegimenStatus,
    pub name: String,
    pub indication: String,
    pub cycle_length_days: u32,
    pub cycles: u32,
    pub emetogenicity: Emetogenicity,
    #[serde(default)]
    pub bsa_formula: Option<dosing::bsa::BsaFormula>,
    #[serde(default)]
    pub bsa_cap_m2: Option<Decimal>,
    pub drugs: Vec<RegimenDrug>,
    #[serde(default)]
    pub pre_treatment_limits: Vec<ResultLimit>,
    #[serde(default)]
    pub supportive_medication: Vec<String>,
    #[serde(default)]
    pub premedication: Vec<String>,
    pub references: Vec<String>,
    /// SHA-256 of the file this version was read from, hex: what a prescription pins.
    #[serde(skip)]
    pub content_sha256: String,
}

/// A rule a regimen broke: the field and the reason.
pub(crate) type Broken = (String, String);

impl Regimen {
    /// The rules serde cannot express. Returns the first one broken.
    pub(crate) fn check(&self) -> Result<(), Broken> {
        let fail = |field: &str, reason: &str| Err((field.to_owned(), reason.to_owned()));
        if self.schema != SCHEMA {
            return fail("schema", &format!("must be {SCHEMA:?}"));
        }
        if self.code.trim().is_empty() || self.code != self.code.trim() {
            return fail("code", "must be given, with no surrounding spaces");
        }
        if self.version.split('.').count() != 3 || !self.version.split('.').all(|p| p.parse::<u32>().is_ok())
        {
            return fail("version", "must be MAJOR.MINOR.PATCH, e.g. 1.0.0");
        }
        if !(1..=90).contains(&self.cycle_length_days) {
            return fail("cycle_length_days", "must be 1 to 90 days");
        }
        if !(1..=52).contains(&self.cycles) {
            return fail("cycles", "must be 1 to 52");
        }
        if self.bsa_cap_m2.is_some_and(|cap| cap <= Decimal::ZERO) {
            return fail("bsa_cap_m2", "must be more than zero");
        }
        if self.drugs.is_empty() {
            return fail("drugs", "a regimen has at least one drug");
        }
        if self.references.is_empty() {
            return fail("references", "a regimen cites at least one reference");
        }
        self.drugs.iter().enumerate().try_for_each(|(i, drug)| {
            drug.check(self.cycle_length_days).map_err(|(f, r)| (format!("drugs[{i}].{f}"), r))
        })
    }

    /// Whether a drug is dosed by AUC, so a calculation needs renal function
    /// (a measured GFR, an eGFR, or the Cockcroft–Gault inputs).
    pub fn needs_renal_function(&self) -> bool {
        self.drugs.iter().any(|d| matches!(d.dose, DoseBasis::Auc(_)))
    }

    /// What the dose engine needs of this regimen.
    pub fn plan(&self) -> CoursePlan {
        CoursePlan {
            code: self.code.clone(),
            version: self.version.clone(),
            status: match self.status {
                RegimenStatus::Approved => PlanStatus::Approved,
                RegimenStatus::Draft => PlanStatus::Draft,
                RegimenStatus::Withdrawn => PlanStatus::Withdrawn,
            },
            bsa_formula: self.bsa_formula,
            bsa_cap_m2: self.bsa_cap_m2,
            drugs: self
                .drugs
                .iter()
                .map(|d| PlannedDrug {
                    drug: d.drug.clone(),
                    label: d.label.clone(),
                    dose: d.dose,
                    cap: d.cap_mg.or(d.cap_iu),
                    days: d.days.clone(),
                    administrations_per_day: d.administrations_per_day().unwrap_or(1),
                })
                .collect(),
            pre_treatment_limits: self.pre_treatment_limits.clone(),
        }
    }
}

/// How a frequency begins, and the doses a day it means. A regimen's frequency
/// must begin with one of these, so the lifetime dose counts every dose given.
const FREQUENCIES: [(&str, u32); 4] =
    [("once daily", 1), ("twice daily", 2), ("three times daily", 3), ("four times daily", 4)];

impl RegimenDrug {
    /// Doses given on each day of the line: 1 unless the frequency says more.
    pub fn administrations_per_day(&self) -> Option<u32> {
        let Some(frequency) = &self.frequency else { return Some(1) };
        let frequency = frequency.trim().to_lowercase();
        FREQUENCIES.iter().find(|(text, _)| frequency.starts_with(text)).map(|(_, count)| *count)
    }

    fn check(&self, cycle_length: u32) -> Result<(), Broken> {
        let fail = |field: &str, reason: &str| Err((field.to_owned(), reason.to_owned()));
        if self.drug.trim().is_empty() || self.drug != self.drug.to_lowercase() {
            return fail("drug", "must be the generic name in lower case");
        }
        if self.dose.value() <= Decimal::ZERO {
            return fail("dose.value", "must be more than zero");
        }
        if self.cap_mg.is_some_and(|cap| cap <= Decimal::ZERO) {
            return fail("cap_mg", "must be more than zero");
        }
        if self.cap_iu.is_some_and(|cap| cap <= Decimal::ZERO) {
            return fail("cap_iu", "must be more than zero");
        }
        match self.dose.unit() {
            DoseUnit::Milligrams if self.cap_iu.is_some() => {
                return fail("cap_iu", "this drug is dosed in mg: give its cap as cap_mg");
            }
            DoseUnit::InternationalUnits if self.cap_mg.is_some() => {
                return fail("cap_mg", "this drug is dosed in IU: give its cap as cap_iu");
            }
            _ => {}
        }
        if self.administrations_per_day().is_none() {
            return fail(
                "frequency",
                "must begin with once daily, twice daily, three times daily or four times daily",
            );
        }
        if self.days.is_empty() {
            return fail("days", "list the days of the cycle the drug is given");
        }
        if !self.days.windows(2).all(|w| w[0] < w[1]) {
            return fail("days", "must be in increasing order with no repeats");
        }
        if self.days.iter().any(|d| *d < 1 || *d > cycle_length) {
            return fail("days", &format!("each day must lie within the {cycle_length}-day cycle"));
        }
        if self.route == Route::IvInfusion && (self.diluent.is_none() || self.volume_ml.is_none()) {
            return fail("diluent", "an IV infusion names its diluent and volume_ml");
        }
        if self.volume_ml.is_some_and(|v| v <= Decimal::ZERO) {
            return fail("volume_ml", "must be more than zero");
        }
        Ok(())
    }
}
