//! Site policy: the choices a trust's pharmacists make (BSA formula and
//! rounding, CrCl weight basis, banding boundary rule, per-drug banding,
//! rounding, caps and lifetime limits), held as data and validated on load.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::DoseError;
use crate::banding::{BandingTable, BoundaryRule, shipped_tables};
use crate::bsa::{BsaFormula, BsaRounding};
use crate::renal::WeightBasis;
use crate::rounding::RoundingRule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "kebab-case")]
pub enum DrugClass {
    Cytotoxic,
    Biological,
    Supportive,
}

/// A lifetime cumulative limit, in the unit the limit is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LifetimeLimit {
    MgPerM2(Decimal),
    TotalIu(Decimal),
}

impl LifetimeLimit {
    pub fn value(self) -> Decimal {
        match self {
            Self::MgPerM2(value) | Self::TotalIu(value) => value,
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::MgPerM2(_) => "mg/m²",
            Self::TotalIu(_) => "IU",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrugPolicy {
    pub class: DrugClass,
    #[serde(default)]
    pub banding_table: Option<String>,
    #[serde(default)]
    pub rounding: Option<String>,
    /// A cap that applies whatever the regimen says (vincristine 2 mg).
    #[serde(default)]
    pub max_dose_mg: Option<Decimal>,
    /// The same for a drug dosed in international units.
    #[serde(default)]
    pub max_dose_iu: Option<Decimal>,
    #[serde(default)]
    pub lifetime_limit: Option<LifetimeLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: String,
    version: String,
    bsa_formula: BsaFormula,
    bsa_rounding: BsaRounding,
    crcl_weight_basis: WeightBasis,
    band_boundary_rule: BoundaryRule,
    weight_change_recalculation_percent: Decimal,
    cumulative_warning_percent: Decimal,
    measurement_max_age_days: u32,
    rounding_rules: BTreeMap<String, RoundingRule>,
    drugs: BTreeMap<String, DrugPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePolicy {
    pub name: String,
    pub version: String,
    pub bsa_formula: BsaFormula,
    pub bsa_rounding: BsaRounding,
    pub crcl_weight_basis: WeightBasis,
    pub band_boundary_rule: BoundaryRule,
    pub weight_change_recalculation_percent: Decimal,
    pub cumulative_warning_percent: Decimal,
    /// Measurements older than this on the treatment day are a warning the
    /// prescriber must answer before a cycle is prescribed from them.
    pub measurement_max_age_days: u32,
    rounding_rules: BTreeMap<String, RoundingRule>,
    drugs: BTreeMap<String, DrugPolicy>,
    tables: Vec<BandingTable>,
}

impl SitePolicy {
    /// The policy and tables this build ships, for demonstration and tests.
    pub fn shipped() -> Result<Self, DoseError> {
        Self::from_json(include_str!("../data/site-policy.json"), shipped_tables()?)
    }

    /// Loads a policy, checking that every drug's table and rounding rule exists.
    pub fn from_json(text: &str, tables: Vec<BandingTable>) -> Result<Self, DoseError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let file: PolicyFile = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| DoseError::new(format!("site policy: {}", e.path()), e.inner().to_string()))?;
        if file.bsa_rounding.decimal_places > 4 {
            return Err(DoseError::new(
                "site policy: bsa_rounding.decimal_places",
                "BSA is never rounded to more than 4 places",
            ));
        }
        for (name, rule) in &file.rounding_rules {
            rule.validate(&format!("site policy: rounding_rules.{name}"))?;
        }
        for (drug, policy) in &file.drugs {
            let field = |what: &str| format!("site policy: drugs.{drug}.{what}");
            if let Some(table) = &policy.banding_table
                && !tables.iter().any(|t| &t.name == table)
            {
                return Err(DoseError::new(
                    field("banding_table"),
                    format!("no banding table is named {table:?}"),
                ));
            }
            if policy.max_dose_mg.is_some_and(|cap| cap <= Decimal::ZERO) {
                return Err(DoseError::new(field("max_dose_mg"), "a cap must be more than zero"));
            }
            if policy.max_dose_iu.is_some_and(|cap| cap <= Decimal::ZERO) {
                return Err(DoseError::new(field("max_dose_iu"), "a cap must be more than zero"));
            }
            if let Some(rule) = &policy.rounding
                && !file.rounding_rules.contains_key(rule)
            {
                return Err(DoseError::new(field("rounding"), format!("no rounding rule is named {rule:?}")));
            }
        }
        Ok(Self {
            name: file.name,
            version: file.version,
            bsa_formula: file.bsa_formula,
            bsa_rounding: file.bsa_rounding,
            crcl_weight_basis: file.crcl_weight_basis,
            band_boundary_rule: file.band_boundary_rule,
            weight_change_recalculation_percent: file.weight_change_recalculation_percent,
            cumulative_warning_percent: file.cumulative_warning_percent,
            measurement_max_age_days: file.measurement_max_age_days,
            rounding_rules: file.rounding_rules,
            drugs: file.drugs,
            tables,
        })
    }

    /// The site's policy for a drug, by generic name; unknown drugs are refused.
    /// The banding tables in force, each by name and version, for a prescription to pin.
    pub fn banding_version(&self) -> String {
        self.tables.iter().map(|t| format!("{}@{}", t.name, t.version)).collect::<Vec<_>>().join(", ")
    }

    pub fn drug(&self, name: &str, field: &str) -> Result<&DrugPolicy, DoseError> {
        self.drugs
            .get(&name.to_lowercase())
            .ok_or_else(|| DoseError::new(field, format!("{name:?} is not in this site's formulary")))
    }

    pub fn rounding_rule(&self, name: &str) -> Option<&RoundingRule> {
        self.rounding_rules.get(name)
    }

    pub fn table(&self, name: &str) -> Option<&BandingTable> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_shipped_policy_loads() {
        let policy = SitePolicy::shipped().expect("shipped policy is valid");
        assert_eq!(policy.bsa_formula, BsaFormula::Mosteller);
        assert_eq!(policy.drug("Vincristine", "drug").map(|d| d.max_dose_mg), Ok(Some(dec!(2))));
    }

    #[test]
    fn an_unknown_drug_is_refused_naming_the_field() {
        let policy = SitePolicy::shipped().expect("shipped policy is valid");
        assert_eq!(policy.drug("aspirin", "drug").map_err(|e| e.field), Err("drug".into()));
    }

    #[test]
    fn a_drug_pointing_at_a_missing_rounding_rule_is_refused() {
        let text = include_str!("../data/site-policy.json")
            .replace("\"rounding\": \"nearest-5-mg\"", "\"rounding\": \"nearest-7-mg\"");
        let error =
            SitePolicy::from_json(&text, shipped_tables().expect("tables")).expect_err("missing rule");
        assert_eq!(error.field, "site policy: drugs.carboplatin.rounding");
    }

    #[test]
    fn a_misspelt_setting_is_refused_with_its_path() {
        let text = include_str!("../data/site-policy.json").replace("\"to-a\"", "\"to-c\"");
        let error = SitePolicy::from_json(&text, shipped_tables().expect("tables")).expect_err("bad rule");
        assert_eq!(error.field, "site policy: band_boundary_rule");
    }
}
