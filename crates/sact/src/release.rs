//! The checks made before a verified cycle is released for preparation: the
//! pre-treatment results within the regimen's limits and recent enough, the
//! weight not changed enough to need recalculation, and no lifetime limit
//! passed. A block stops release; anything else needs a recorded reason.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use dosing::checks::{ResultLimit, Severity};
use dosing::policy::LifetimeLimit;
use dosing::units::Kilograms;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::SactRefusal;

/// A result with the time its sample was taken, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedResult {
    pub value: Decimal,
    pub taken_at: DateTime<Utc>,
    pub source: ResultSource,
}

/// Where a result release used came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ResultSource {
    /// Filed from the laboratory's feed (ORU^R01), final and in the expected units.
    Laboratory { laboratory: String },
    /// Typed by a person, with why (a point-of-care test, a result not yet on the feed).
    Typed { reason: String },
}

/// Every typed result carries the reason it was typed: refused, naming the
/// test, when one does not.
pub fn check_typed_reasons(results: &BTreeMap<String, TimedResult>) -> Result<(), SactRefusal> {
    for (test, result) in results {
        if let ResultSource::Typed { reason } = &result.source
            && reason.trim().is_empty()
        {
            return Err(SactRefusal::new(
                "typed_result_reason",
                format!(
                    "{test}: a value typed rather than taken from the laboratory's results needs the reason it was typed"
                ),
            ));
        }
    }
    Ok(())
}

/// A limited drug's lifetime dose: given before (counted from administrations,
/// never typed), and in this cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeDose {
    pub drug: String,
    pub limit: LifetimeLimit,
    pub given_before: Decimal,
    pub this_cycle: Decimal,
}

/// What release is judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEvidence {
    pub treatment_date: NaiveDate,
    pub limits: Vec<ResultLimit>,
    pub results: BTreeMap<String, TimedResult>,
    pub current_weight: Kilograms,
    pub dosing_weight: Kilograms,
    pub lifetime: Vec<LifetimeDose>,
}

/// The site's release rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePolicy {
    /// Results must be taken no longer than this before the treatment day begins.
    pub results_window: Duration,
    pub weight_change_percent: Decimal,
    /// A lifetime dose at this share of the limit (percent) is "near" it.
    pub lifetime_warn_percent: Decimal,
}

impl Default for ReleasePolicy {
    fn default() -> Self {
        Self {
            results_window: Duration::hours(72),
            weight_change_percent: Decimal::TEN,
            lifetime_warn_percent: Decimal::from(90),
        }
    }
}

/// One thing release found: a block, or a warning that needs a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseFinding {
    /// A stable code, e.g. `results_stale`, `result_outside_limit:neutrophils`.
    pub code: String,
    pub blocks: bool,
    pub message: String,
    /// The reason recorded to go on despite it (warnings only).
    pub overridden_because: Option<String>,
}

/// A reason recorded against a warning's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub code: String,
    pub reason: String,
}

/// Everything release finds.
pub fn assess(
    evidence: &ReleaseEvidence,
    policy: &ReleasePolicy,
    now: DateTime<Utc>,
) -> Result<Vec<ReleaseFinding>, SactRefusal> {
    let mut findings = results_findings(evidence, policy, now);
    if let Some(warning) = dosing::checks::weight_change(
        evidence.current_weight,
        evidence.dosing_weight,
        policy.weight_change_percent,
    ) {
        findings.push(finding(&warning.code, true, warning.message));
    }
    for dose in &evidence.lifetime {
        let checked = dosing::checks::cumulative(
            &dose.drug,
            dose.limit,
            dose.given_before,
            dose.this_cycle,
            policy.lifetime_warn_percent,
        )
        .map_err(|e| SactRefusal::new("lifetime_dose", e.to_string()))?;
        if let Some(warning) = checked {
            let code = format!("{}:{}", warning.code, dose.drug);
            findings.push(finding(&code, warning.severity == Severity::Block, warning.message));
        }
    }
    Ok(findings)
}

fn results_findings(
    evidence: &ReleaseEvidence,
    policy: &ReleasePolicy,
    now: DateTime<Utc>,
) -> Vec<ReleaseFinding> {
    let day_begins = evidence.treatment_date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let oldest_allowed = day_begins - policy.results_window;
    let mut findings = Vec::new();
    for limit in &evidence.limits {
        let test = &limit.test;
        match evidence.results.get(test) {
            None => findings.push(finding(
                &format!("results_missing:{test}"),
                true,
                format!("No {test} result was recorded; the regimen's limit must be checked before release."),
            )),
            Some(result) if result.taken_at > now => findings.push(finding(
                &format!("result_in_future:{test}"),
                true,
                format!("The {test} result is dated after now; check the date it was taken."),
            )),
            Some(result) if result.taken_at < oldest_allowed => findings.push(finding(
                &format!("results_stale:{test}"),
                true,
                format!(
                    "The {test} result was taken {} hours before the treatment day, more than the site's {} hours; take a new sample.",
                    (day_begins - result.taken_at).num_hours(),
                    policy.results_window.num_hours()
                ),
            )),
            Some(result) => {
                let values = BTreeMap::from([(test.clone(), result.value)]);
                for warning in dosing::checks::pre_treatment(std::slice::from_ref(limit), &values) {
                    findings.push(finding(&format!("{}:{test}", warning.code), false, warning.message));
                }
            }
        }
    }
    findings
}

fn finding(code: &str, blocks: bool, message: String) -> ReleaseFinding {
    ReleaseFinding { code: code.to_owned(), blocks, message, overridden_because: None }
}

/// Applies the overrides given: refused while anything blocks, while any warning
/// lacks a reason, or when an override names nothing found (a mistyped code).
pub fn apply_overrides(
    mut findings: Vec<ReleaseFinding>,
    overrides: &[Override],
) -> Result<Vec<ReleaseFinding>, SactRefusal> {
    if let Some(block) = findings.iter().find(|f| f.blocks) {
        return Err(SactRefusal::new("release_blocked", format!("Release is blocked: {}", block.message)));
    }
    for given in overrides {
        if given.reason.trim().is_empty() {
            return Err(SactRefusal::new(
                "override_reason",
                format!("{}: an override needs a reason", given.code),
            ));
        }
        let Some(found) = findings.iter_mut().find(|f| f.code == given.code) else {
            return Err(SactRefusal::new(
                "override_unknown",
                format!("{}: nothing of that code was found to override", given.code),
            ));
        };
        found.overridden_because = Some(given.reason.trim().to_owned());
    }
    if let Some(open) = findings.iter().find(|f| f.overridden_because.is_none()) {
        return Err(SactRefusal::new(
            "override_needed",
            format!("{}: {} Give --override {}=REASON to release.", open.code, open.message, open.code),
        ));
    }
    Ok(findings)
}
