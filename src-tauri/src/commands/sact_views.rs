//! What the SACT screens are sent: cycles, courses, queue entries and the
//! day's list, with every decimal as the string a person reads (never a float).

use rust_decimal::Decimal;
use sact::{CycleState, SignedAct};
use serde::Serialize;
use services::sact_lists::{
    ChemotherapyRecord, CourseHistory, DueCycle, LifetimeStanding, NextCycle, QueueEntry, StaffDirectory,
};
use store::StoredCycle;

fn text(value: Decimal) -> String {
    value.normalize().to_string()
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SignerView {
    pub act: String,
    /// `PHARMACY, Percy (Mr)`, or the user id where they are not enrolled here.
    pub name: String,
    /// `GPhC 2000002`, where the register is known.
    pub registration: Option<String>,
    /// RFC 3339, UTC.
    pub signed_at: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GivenView {
    pub dose_given: String,
    pub started: String,
    pub stopped: Option<String>,
    pub batch: String,
    pub expiry: String,
    pub given_by: String,
    pub witness: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DrugLineView {
    pub drug: String,
    pub day: String,
    pub dose: String,
    pub unit: String,
    pub route: String,
    /// Oral drugs are dispensed rather than given.
    pub oral: bool,
    pub given: Option<GivenView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ModificationView {
    pub drug: String,
    pub percent: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct MeasurementsView {
    pub height_cm: String,
    pub weight_kg: String,
    pub sex: Option<String>,
    pub age_years: Option<String>,
    pub creatinine_umol_l: Option<String>,
    pub gfr_ml_min: Option<String>,
    /// ISO date the measurements were taken.
    pub taken_on: String,
    pub stale_because: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FindingView {
    pub code: String,
    pub blocks: bool,
    pub message: String,
    pub overridden_because: Option<String>,
}

/// A prescription version an amendment replaced, as it was, with its signers.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct EarlierVersionView {
    pub version: u32,
    /// How far it had gone: prescribed, verified or released.
    pub state: String,
    pub drugs: Vec<DrugLineView>,
    pub replaced_because: String,
    pub acts: Vec<SignerView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CycleView {
    pub id: u32,
    pub course_id: u32,
    pub number: u32,
    pub treatment_date: String,
    /// prescribed, verified, released, partly administered, administered, deferred, cancelled
    pub state: String,
    /// Why it was deferred or cancelled, in words.
    pub state_detail: Option<String>,
    pub prescription_version: u32,
    /// The row version it was read at: an act on it names this, so a change by
    /// someone else in between is refused rather than overwritten.
    pub row_version: u32,
    pub bsa_m2: Option<String>,
    pub measurements: Option<MeasurementsView>,
    pub modifications: Vec<ModificationView>,
    pub drugs: Vec<DrugLineView>,
    /// The engine's result as prescribed, every dose with its derivation, kept
    /// as it was calculated (never recalculated for display).
    #[specta(type = Option<dosing::course::CourseDoses>)]
    pub calculation: Option<serde_json::Value>,
    pub release_findings: Vec<FindingView>,
    pub acts: Vec<SignerView>,
    pub earlier_versions: Vec<EarlierVersionView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct NextCycleView {
    pub number: u32,
    pub treatment_date: String,
    pub last_measurements: Option<MeasurementsView>,
    /// Days old on the treatment day, and whether the site counts that as stale.
    pub measurement_age_days: Option<u32>,
    pub measurements_stale: bool,
    pub modifications: Vec<ModificationView>,
    /// The laboratory's latest usable results within the window before the treatment day.
    pub latest_results: Vec<super::sact::LabValueView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CourseView {
    pub id: u32,
    pub regimen_code: String,
    pub regimen_version: String,
    /// The first twelve hex digits of the pinned regimen's content hash.
    pub regimen_hash: String,
    pub intent: String,
    pub line: u32,
    pub planned_cycles: u32,
    pub start_date: String,
    pub consultant: String,
    pub cycles: Vec<CycleView>,
    pub next: Option<NextCycleView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LifetimeView {
    pub drug: String,
    pub given: String,
    /// Prescribed and not yet given.
    pub pending: String,
    /// Given and pending together, as a share of the limit.
    pub pending_percent: String,
    pub limit: String,
    /// `mg/m²` or `IU`.
    pub unit: String,
    /// Given as a share of the limit, 0–100 and beyond, to one decimal place.
    pub percent: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ChemotherapyView {
    pub courses: Vec<CourseView>,
    pub lifetime: Vec<LifetimeView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ChangeView {
    pub what: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PatientLine {
    pub id: u32,
    /// Ten digits, the UI shows them 3-3-4; none for a patient kept by hospital number.
    pub nhs_number: Option<String>,
    /// For a patient without a valid NHS number, the warning shown beside their name.
    pub nhs_number_flag: Option<String>,
    pub display_name: String,
    pub date_of_birth: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct QueueEntryView {
    pub patient: PatientLine,
    pub regimen: String,
    pub cycle: CycleView,
    pub previous_cycle: Option<u32>,
    pub changes: Vec<ChangeView>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct DueCycleView {
    pub patient: PatientLine,
    pub regimen: String,
    pub cycle: CycleView,
}

fn small(id: i64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}

fn staff_name(staff: &StaffDirectory, user_id: &str) -> (String, Option<String>) {
    match staff.get(user_id) {
        Some(user) => {
            let registration = match (&user.professional_body, &user.registration_number) {
                (Some(body), Some(number)) => Some(format!("{body} {number}")),
                _ => None,
            };
            (user.display_name.clone(), registration)
        }
        None => (format!("user {user_id}"), None),
    }
}

fn signer(staff: &StaffDirectory, act: &SignedAct) -> SignerView {
    let (name, registration) = staff_name(staff, act.signer.as_str());
    SignerView { act: act.act.clone(), name, registration, signed_at: act.signed_at.to_rfc3339() }
}

fn measurements(recorded: &sact::RecordedMeasurements) -> MeasurementsView {
    let entered = &recorded.entered;
    MeasurementsView {
        height_cm: entered.height_cm.clone(),
        weight_kg: entered.weight_kg.clone(),
        sex: entered.sex.clone(),
        age_years: entered.age_years.clone(),
        creatinine_umol_l: entered.creatinine_umol_l.clone(),
        gfr_ml_min: entered.gfr_ml_min.clone(),
        taken_on: recorded.taken_on.to_string(),
        stale_because: recorded.stale_because.clone(),
    }
}

fn modifications(given: &[dosing::course::DrugModification]) -> Vec<ModificationView> {
    given
        .iter()
        .map(|m| ModificationView {
            drug: m.drug.clone(),
            percent: text(m.modification.percent),
            reason: m.modification.reason.clone(),
        })
        .collect()
}

pub fn cycle_view(stored: &StoredCycle, staff: &StaffDirectory) -> CycleView {
    let cycle = &stored.cycle;
    let state_detail = match &cycle.state {
        CycleState::Deferred { reason, until } => Some(format!("{reason:?} until {until}")),
        CycleState::Cancelled { reason } => Some(reason.clone()),
        _ => None,
    };
    let drugs = drug_lines(cycle, staff);
    let earlier_versions = cycle
        .earlier_versions
        .iter()
        .map(|earlier| EarlierVersionView {
            version: earlier.version,
            state: earlier.state.clone(),
            drugs: drug_lines(&cycle.as_earlier_version(earlier), staff),
            replaced_because: earlier.replaced_because.clone(),
            acts: earlier.signatures.iter().map(|s| signer(staff, s)).collect(),
        })
        .collect();
    CycleView {
        id: small(stored.id),
        course_id: small(stored.course_id),
        number: cycle.number,
        treatment_date: cycle.treatment_date.to_string(),
        state: cycle.state.name().to_owned(),
        state_detail,
        prescription_version: cycle.prescription_version,
        row_version: small(stored.row_version),
        bsa_m2: cycle.bsa_m2.map(text),
        measurements: cycle.measurements.as_ref().map(measurements),
        modifications: modifications(&cycle.modifications),
        drugs,
        calculation: cycle.calculation.clone(),
        release_findings: cycle
            .release_findings
            .iter()
            .map(|f| FindingView {
                code: f.code.clone(),
                blocks: f.blocks,
                message: f.message.clone(),
                overridden_because: f.overridden_because.clone(),
            })
            .collect(),
        acts: cycle.signatures.iter().map(|s| signer(staff, s)).collect(),
        earlier_versions,
    }
}

fn drug_lines(cycle: &sact::Cycle, staff: &StaffDirectory) -> Vec<DrugLineView> {
    cycle
        .drugs
        .iter()
        .map(|line| {
            let given =
                cycle.administrations.iter().find(|a| a.record.drug == line.drug && a.record.day == line.day);
            DrugLineView {
                drug: line.drug.clone(),
                day: line.day.clone(),
                dose: text(line.dose),
                unit: line.unit.symbol().to_owned(),
                route: line.route.clone(),
                oral: line.route.eq_ignore_ascii_case("oral"),
                given: given.map(|a| GivenView {
                    dose_given: text(a.record.dose_given),
                    started: a.record.started.to_rfc3339(),
                    stopped: a.record.stopped.map(|t| t.to_rfc3339()),
                    batch: a.record.batch.clone(),
                    expiry: a.record.expiry.to_string(),
                    given_by: staff_name(staff, a.record.administered_by.as_str()).0,
                    witness: staff_name(staff, a.record.witness.as_str()).0,
                }),
            }
        })
        .collect()
}

fn next_view(next: &NextCycle) -> NextCycleView {
    NextCycleView {
        number: next.number,
        treatment_date: next.treatment_date.to_string(),
        last_measurements: next.last_measurements.as_ref().map(measurements),
        measurement_age_days: next.measurement_age.map(|a| u32::try_from(a.days).unwrap_or(u32::MAX)),
        measurements_stale: next.measurement_age.is_some_and(|a| a.stale),
        modifications: modifications(&next.modifications),
        latest_results: next.latest_results.iter().map(super::sact::lab_value_view).collect(),
    }
}

fn course_view(history: &CourseHistory, staff: &StaffDirectory) -> CourseView {
    let course = &history.course;
    let pin = &course.regimen;
    CourseView {
        id: small(history.id),
        regimen_code: pin.code.clone(),
        regimen_version: pin.version.clone(),
        regimen_hash: pin.content_sha256.chars().take(12).collect(),
        intent: format!("{:?}", course.intent).to_lowercase(),
        line: course.line,
        planned_cycles: course.planned_cycles,
        start_date: course.start_date.to_string(),
        consultant: staff_name(staff, course.consultant.as_str()).0,
        cycles: history.cycles.iter().map(|c| cycle_view(c, staff)).collect(),
        next: history.next.as_ref().map(next_view),
    }
}

fn lifetime_view(standing: &LifetimeStanding) -> LifetimeView {
    let (limit, unit) = match standing.limit {
        dosing::policy::LifetimeLimit::MgPerM2(limit) => (limit, "mg/m²"),
        dosing::policy::LifetimeLimit::TotalIu(limit) => (limit, "IU"),
    };
    let share = |amount: Decimal| {
        amount.checked_mul(Decimal::ONE_HUNDRED).and_then(|a| a.checked_div(limit)).map(|p| p.round_dp(1))
    };
    let percent = share(standing.given).unwrap_or_default();
    let with_pending = standing.given.checked_add(standing.pending).and_then(share).unwrap_or_default();
    LifetimeView {
        drug: standing.drug.clone(),
        given: text(standing.given.round_dp(2)),
        pending: text(standing.pending.round_dp(2)),
        pending_percent: text(with_pending),
        limit: text(limit),
        unit: unit.to_owned(),
        percent: text(percent),
    }
}

pub fn chemotherapy_view(record: &ChemotherapyRecord) -> ChemotherapyView {
    ChemotherapyView {
        courses: record.courses.iter().map(|c| course_view(c, &record.staff)).collect(),
        lifetime: record.lifetime.iter().map(lifetime_view).collect(),
    }
}

fn patient_line(record: &patients::PatientRecord) -> PatientLine {
    PatientLine {
        id: small(record.id),
        nhs_number: record.details.nhs_number.map(|n| n.digits()),
        nhs_number_flag: record.details.nhs_number_flag(),
        display_name: record.details.display_name(),
        date_of_birth: record.details.date_of_birth.to_string(),
    }
}

fn regimen_label(course: &sact::Course) -> String {
    format!("{} v{}", course.regimen.code, course.regimen.version)
}

pub fn queue_view(entries: &[QueueEntry], staff: &StaffDirectory) -> Vec<QueueEntryView> {
    entries
        .iter()
        .map(|entry| QueueEntryView {
            patient: patient_line(&entry.patient),
            regimen: regimen_label(&entry.course),
            cycle: cycle_view(&entry.cycle, staff),
            previous_cycle: entry.previous_cycle,
            changes: entry
                .changes
                .iter()
                .map(|c| ChangeView {
                    what: c.what.clone(),
                    before: c.before.clone(),
                    after: c.after.clone(),
                })
                .collect(),
        })
        .collect()
}

pub fn due_view(due: &[DueCycle], staff: &StaffDirectory) -> Vec<DueCycleView> {
    due.iter()
        .map(|d| DueCycleView {
            patient: patient_line(&d.patient),
            regimen: regimen_label(&d.course),
            cycle: cycle_view(&d.cycle, staff),
        })
        .collect()
}
