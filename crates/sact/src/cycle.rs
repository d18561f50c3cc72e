//! A cycle's life: prescribed → verified → released → administered, with its
//! side branches (deferred, amended, cancelled). Each act checks its rules
//! before it changes anything, and returns a refusal naming the rule otherwise.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use dosing::units::DoseUnit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;
use crate::administration::{Administration, AdministrationRecord};
use crate::release::{Override, ReleaseEvidence, ReleaseFinding, ReleasePolicy, apply_overrides, assess};
use crate::verification::{VerificationScope, Verifier};

/// Why a cycle is put off (coded, for the SACT return's Cycle Delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeferralReason {
    Toxicity,
    BloodCountsNotRecovered,
    PatientChoice,
    OrganisationalReasons,
    IntercurrentIllness,
    Other,
}

impl DeferralReason {
    pub const CODES: &'static str = "toxicity, blood_counts_not_recovered, patient_choice, organisational_reasons, intercurrent_illness, other";

    pub fn parse(code: &str) -> Result<Self, SactRefusal> {
        match code.trim() {
            "toxicity" => Ok(Self::Toxicity),
            "blood_counts_not_recovered" => Ok(Self::BloodCountsNotRecovered),
            "patient_choice" => Ok(Self::PatientChoice),
            "organisational_reasons" => Ok(Self::OrganisationalReasons),
            "intercurrent_illness" => Ok(Self::IntercurrentIllness),
            "other" => Ok(Self::Other),
            other => {
                Err(SactRefusal::new("reason", format!("reason: {other:?} is not one of {}", Self::CODES)))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CycleState {
    Prescribed,
    Verified,
    Released,
    /// Some of the cycle's drugs have been given.
    PartlyAdministered,
    Administered,
    Deferred {
        reason: DeferralReason,
        until: NaiveDate,
    },
    Cancelled {
        reason: String,
    },
}

impl CycleState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Prescribed => "prescribed",
            Self::Verified => "verified",
            Self::Released => "released",
            Self::PartlyAdministered => "partly administered",
            Self::Administered => "administered",
            Self::Deferred { .. } => "deferred",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// Measurements as entered, with the day they were taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedMeasurements {
    pub entered: dosing::course::MeasurementsText,
    pub taken_on: NaiveDate,
    /// Why the prescriber went on with measurements older than the site allows.
    #[serde(default)]
    pub stale_because: Option<String>,
}

/// One line of the cycle: a drug on its days, with its final dose from the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrescribedDrug {
    pub drug: String,
    /// The days it is given, as the engine names them: `D1`, `D1, D8`, `D1–D5`.
    pub day: String,
    pub dose: Decimal,
    pub unit: DoseUnit,
    pub route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub number: u32,
    pub treatment_date: NaiveDate,
    pub state: CycleState,
    /// 1, and one more for each amendment; verification is of one version.
    pub prescription_version: u32,
    pub prescriber: UserId,
    pub verifier: Option<UserId>,
    pub releaser: Option<UserId>,
    pub drugs: Vec<PrescribedDrug>,
    /// The body surface area the doses were calculated for, where they were (m²).
    #[serde(default)]
    pub bsa_m2: Option<Decimal>,
    /// The measurements the doses were calculated from, as entered, and the day they were taken.
    #[serde(default)]
    pub measurements: Option<RecordedMeasurements>,
    /// The dose engine's whole result as it was calculated (every dose with its
    /// derivation), kept so a prescription shows and prints what it was made
    /// with and nothing is silently recomputed.
    #[serde(default)]
    pub calculation: Option<serde_json::Value>,
    /// The dose modifications prescribed, each with its reason; the next cycle
    /// starts from these until the prescriber changes them.
    #[serde(default)]
    pub modifications: Vec<dosing::course::DrugModification>,
    pub release_findings: Vec<ReleaseFinding>,
    /// The pre-treatment results release was checked against, each with where it came from.
    #[serde(default)]
    pub release_results: BTreeMap<String, crate::release::TimedResult>,
    pub administrations: Vec<Administration>,
    /// Every act on this prescription version, signed with its actor's card, oldest first.
    #[serde(default)]
    pub signatures: Vec<crate::SignedAct>,
    /// Each version an amendment replaced, oldest first, whole and with its signatures.
    #[serde(default)]
    pub earlier_versions: Vec<EarlierVersion>,
}

/// What an amendment brings: the new prescription, recalculated by the engine, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    pub drugs: Vec<PrescribedDrug>,
    pub bsa_m2: Option<Decimal>,
    pub measurements: Option<RecordedMeasurements>,
    pub calculation: Option<serde_json::Value>,
    pub modifications: Vec<dosing::course::DrugModification>,
    pub reason: String,
}

impl Amendment {
    /// An amendment of the drug lines alone (the rules' tests).
    pub fn drugs_only(drugs: Vec<PrescribedDrug>, reason: &str) -> Self {
        Self {
            drugs,
            bsa_m2: None,
            measurements: None,
            calculation: None,
            modifications: Vec::new(),
            reason: reason.to_owned(),
        }
    }
}

/// A prescription version replaced by an amendment, kept as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierVersion {
    pub version: u32,
    /// How far it had gone: prescribed, verified or released.
    pub state: String,
    pub drugs: Vec<PrescribedDrug>,
    pub bsa_m2: Option<Decimal>,
    pub measurements: Option<RecordedMeasurements>,
    pub calculation: Option<serde_json::Value>,
    pub modifications: Vec<dosing::course::DrugModification>,
    pub release_findings: Vec<ReleaseFinding>,
    pub signatures: Vec<crate::SignedAct>,
    pub replaced_because: String,
}

impl Cycle {
    /// A cycle as its prescriber writes it.
    pub fn prescribe(
        number: u32,
        treatment_date: NaiveDate,
        prescriber: UserId,
        drugs: Vec<PrescribedDrug>,
    ) -> Result<Self, SactRefusal> {
        check_drugs(&drugs)?;
        Ok(Self {
            number,
            treatment_date,
            state: CycleState::Prescribed,
            prescription_version: 1,
            prescriber,
            verifier: None,
            releaser: None,
            drugs,
            bsa_m2: None,
            measurements: None,
            calculation: None,
            modifications: Vec::new(),
            release_findings: Vec::new(),
            release_results: BTreeMap::new(),
            administrations: Vec::new(),
            signatures: Vec::new(),
            earlier_versions: Vec::new(),
        })
    }

    /// The pharmacist's clinical check. Never by the prescriber, and only within the verifier's scope.
    pub fn verify(&mut self, verifier: &Verifier, scope: &VerificationScope) -> Result<(), SactRefusal> {
        self.require(&CycleState::Prescribed, "verify")?;
        if verifier.user_id == self.prescriber {
            return Err(SactRefusal::new(
                "self_verification",
                "The prescriber may not verify their own prescription; another pharmacist must.",
            ));
        }
        scope.check(verifier, self.drugs.iter().map(|d| d.drug.as_str()))?;
        self.verifier = Some(verifier.user_id.clone());
        self.state = CycleState::Verified;
        Ok(())
    }

    /// Release for preparation, once nothing blocks and every warning has a reason.
    pub fn release(
        &mut self,
        releaser: &UserId,
        evidence: &ReleaseEvidence,
        policy: &ReleasePolicy,
        overrides: &[Override],
        now: DateTime<Utc>,
    ) -> Result<(), SactRefusal> {
        self.require(&CycleState::Verified, "release")?;
        crate::release::check_typed_reasons(&evidence.results)?;
        let findings = apply_overrides(assess(evidence, policy, now)?, overrides)?;
        self.releaser = Some(releaser.clone());
        self.release_findings = findings;
        self.release_results = evidence.results.clone();
        self.state = CycleState::Released;
        Ok(())
    }

    /// Records one drug given, witnessed. Only on a released cycle, only a
    /// prescribed line, and never the same line twice.
    pub fn administer(&mut self, record: AdministrationRecord) -> Result<(), SactRefusal> {
        if !matches!(self.state, CycleState::Released | CycleState::PartlyAdministered) {
            return Err(SactRefusal::new(
                "not_released",
                format!("This cycle is {}; only a released cycle is given.", self.state.name()),
            ));
        }
        let Some(line) = self.drugs.iter().find(|d| d.drug == record.drug && d.day == record.day) else {
            return Err(SactRefusal::new(
                "not_prescribed",
                format!("{} {} is not prescribed in this cycle", record.drug, record.day),
            ));
        };
        if self.administrations.iter().any(|a| a.record.drug == record.drug && a.record.day == record.day) {
            return Err(SactRefusal::new(
                "double_administration",
                format!("{} {} has already been given in this cycle", record.drug, record.day),
            ));
        }
        record.check(line)?;
        let given = Administration { unit: line.unit, route: line.route.clone(), record };
        self.administrations.push(given);
        self.state = if self.administrations.len() == self.drugs.len() {
            CycleState::Administered
        } else {
            CycleState::PartlyAdministered
        };
        Ok(())
    }

    /// A new version of the prescription by its prescriber, back to
    /// verification. The version it replaces is kept whole, with the signatures
    /// made on it, so what was verified and released can still be shown and checked.
    pub fn amend(&mut self, prescriber: &UserId, amendment: Amendment) -> Result<(), SactRefusal> {
        if !matches!(self.state, CycleState::Prescribed | CycleState::Verified | CycleState::Released) {
            return Err(SactRefusal::new(
                "not_amendable",
                format!("A {} cycle cannot be amended; prescribe a new cycle instead.", self.state.name()),
            ));
        }
        if *prescriber != self.prescriber {
            return Err(SactRefusal::new("amend_by_prescriber", "Only the cycle's prescriber amends it."));
        }
        if amendment.reason.trim().is_empty() {
            return Err(SactRefusal::new("reason", "reason: say why the prescription is amended"));
        }
        check_drugs(&amendment.drugs)?;
        let earlier = EarlierVersion {
            version: self.prescription_version,
            state: self.state.name().to_owned(),
            drugs: std::mem::replace(&mut self.drugs, amendment.drugs),
            bsa_m2: std::mem::replace(&mut self.bsa_m2, amendment.bsa_m2),
            measurements: std::mem::replace(&mut self.measurements, amendment.measurements),
            calculation: std::mem::replace(&mut self.calculation, amendment.calculation),
            modifications: std::mem::replace(&mut self.modifications, amendment.modifications),
            release_findings: std::mem::take(&mut self.release_findings),
            signatures: std::mem::take(&mut self.signatures),
            replaced_because: amendment.reason.trim().to_owned(),
        };
        self.earlier_versions.push(earlier);
        self.prescription_version += 1;
        self.verifier = None;
        self.releaser = None;
        self.state = CycleState::Prescribed;
        Ok(())
    }

    /// The cycle as it stood at an earlier prescription version, to show it or
    /// check the signatures made on it.
    pub fn as_earlier_version(&self, earlier: &EarlierVersion) -> Cycle {
        Cycle {
            prescription_version: earlier.version,
            drugs: earlier.drugs.clone(),
            bsa_m2: earlier.bsa_m2,
            measurements: earlier.measurements.clone(),
            calculation: earlier.calculation.clone(),
            modifications: earlier.modifications.clone(),
            release_findings: earlier.release_findings.clone(),
            signatures: earlier.signatures.clone(),
            administrations: Vec::new(),
            earlier_versions: Vec::new(),
            ..self.clone()
        }
    }

    pub fn defer(&mut self, reason: DeferralReason, until: NaiveDate) -> Result<(), SactRefusal> {
        if !matches!(self.state, CycleState::Prescribed | CycleState::Verified | CycleState::Released) {
            return Err(SactRefusal::new(
                "not_deferrable",
                format!("A {} cycle cannot be deferred.", self.state.name()),
            ));
        }
        if until <= self.treatment_date {
            return Err(SactRefusal::new("until", "until: a deferral moves the cycle to a later date"));
        }
        self.state = CycleState::Deferred { reason, until };
        self.treatment_date = until;
        Ok(())
    }

    pub fn cancel(&mut self, reason: &str) -> Result<(), SactRefusal> {
        if reason.trim().is_empty() {
            return Err(SactRefusal::new("reason", "reason: say why the cycle is cancelled"));
        }
        if matches!(
            self.state,
            CycleState::PartlyAdministered | CycleState::Administered | CycleState::Cancelled { .. }
        ) {
            return Err(SactRefusal::new(
                "not_cancellable",
                format!("A {} cycle cannot be cancelled.", self.state.name()),
            ));
        }
        self.state = CycleState::Cancelled { reason: reason.trim().to_owned() };
        Ok(())
    }

    /// A deferred cycle taken up again on its new date goes back to verification.
    pub fn resume(&mut self) -> Result<(), SactRefusal> {
        self.require_deferred()?;
        self.verifier = None;
        self.releaser = None;
        self.release_findings.clear();
        self.state = CycleState::Prescribed;
        Ok(())
    }

    /// A line's dose per m² of the body surface area it was calculated for.
    pub fn dose_per_m2(&self, dose: Decimal) -> Option<Decimal> {
        self.bsa_m2.filter(|bsa| *bsa > Decimal::ZERO).and_then(|bsa| dose.checked_div(bsa))
    }

    fn require_deferred(&self) -> Result<(), SactRefusal> {
        match self.state {
            CycleState::Deferred { .. } => Ok(()),
            _ => Err(SactRefusal::new(
                "not_deferred",
                format!("This cycle is {}, not deferred.", self.state.name()),
            )),
        }
    }

    fn require(&self, state: &CycleState, act: &str) -> Result<(), SactRefusal> {
        if self.state == *state {
            return Ok(());
        }
        let rule = match (state, &self.state) {
            (_, CycleState::Cancelled { .. }) => "cancelled",
            (_, CycleState::Deferred { .. }) => "deferred",
            (CycleState::Verified, CycleState::Prescribed) => "not_verified",
            _ => "wrong_state",
        };
        Err(SactRefusal::new(
            rule,
            format!("This cycle is {}; it must be {} to {act}.", self.state.name(), state.name()),
        ))
    }
}

fn check_drugs(drugs: &[PrescribedDrug]) -> Result<(), SactRefusal> {
    if drugs.is_empty() {
        return Err(SactRefusal::new("drugs", "drugs: a cycle prescribes at least one drug"));
    }
    if let Some(line) = drugs.iter().find(|d| d.dose <= Decimal::ZERO) {
        return Err(SactRefusal::new("dose", format!("dose: {} {} has no dose", line.drug, line.day)));
    }
    for (index, line) in drugs.iter().enumerate() {
        if drugs[..index].iter().any(|d| d.drug == line.drug && d.day == line.day) {
            return Err(SactRefusal::new(
                "drugs",
                format!("drugs: {} {} is prescribed twice", line.drug, line.day),
            ));
        }
    }
    Ok(())
}
