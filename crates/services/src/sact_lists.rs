//! What the SACT screens list: a patient's courses with every cycle, the
//! pharmacist's verification queue with what changed since the last cycle, and
//! the day's treatment list for nurses. Each read is audited by the store.

use chrono::NaiveDate;
use patients::PatientRecord;
use sact::{Change, Course, CycleState, MeasurementAge, RecordedMeasurements};
use session::Permission;
use store::StoredCycle;

use crate::{Acting, Context, ServiceError};

/// A course and its cycles in order, with what "Prescribe next cycle" starts from.
#[derive(Debug, Clone)]
pub struct CourseHistory {
    pub id: i64,
    pub course: Course,
    pub cycles: Vec<StoredCycle>,
    /// `None` once every planned cycle has been prescribed.
    pub next: Option<NextCycle>,
}

/// The next cycle of a course, prefilled from the last one prescribed: its
/// measurements with the day they were taken (and how old they will be on the
/// treatment day), and its modifications, which carry on until changed.
#[derive(Debug, Clone)]
pub struct NextCycle {
    pub number: u32,
    pub treatment_date: NaiveDate,
    pub last_measurements: Option<RecordedMeasurements>,
    pub measurement_age: Option<MeasurementAge>,
    pub modifications: Vec<dosing::course::DrugModification>,
    /// The laboratory's latest usable result for each pre-treatment check the
    /// regimen names, and creatinine, within the release window before the
    /// offered treatment day (the prescriber sees them before prescribing).
    pub latest_results: Vec<crate::sact::LaboratoryValue>,
}

/// A patient's courses, newest first, each with every cycle (view_patients).
pub async fn patient_courses(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<Vec<CourseHistory>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let sact = context.store().sact();
    let mut histories = Vec::new();
    for (id, course) in sact.courses_of_patient(actor, patient_id).await? {
        let cycles = sact.cycles_of_course(actor, id).await?;
        let next = next_cycle(context, actor, patient_id, &course, &cycles).await?;
        histories.push(CourseHistory { id, course, cycles, next });
    }
    Ok(histories)
}

async fn next_cycle(
    context: &Context,
    actor: &store::Actor,
    patient_id: i64,
    course: &Course,
    cycles: &[StoredCycle],
) -> Result<Option<NextCycle>, ServiceError> {
    // The pinned version's cycle length; a course whose pinned version is not
    // held here still shows, and simply offers no next cycle.
    let Ok(regimen) = crate::sact::pinned_regimen(context, &course.regimen).await else { return Ok(None) };
    let documents: Vec<&sact::Cycle> = cycles.iter().map(|c| &c.cycle).collect();
    let Some((number, treatment_date)) = course.next_cycle(&documents, regimen.cycle_length_days) else {
        return Ok(None);
    };
    let last = documents.iter().rev().find(|c| c.measurements.is_some());
    let last_measurements = last.and_then(|c| c.measurements.clone());
    let measurement_age = match &last_measurements {
        Some(m) => sact::measurement_age(
            m.taken_on,
            treatment_date.max(m.taken_on),
            context.site_policy().measurement_max_age_days,
        )
        .ok(),
        None => None,
    };
    let modifications = last.map(|c| c.modifications.clone()).unwrap_or_default();
    let mut tests: Vec<String> = regimen.pre_treatment_limits.iter().map(|l| l.test.clone()).collect();
    if !tests.iter().any(|t| t == "creatinine") {
        tests.push("creatinine".into());
    }
    let latest_results =
        crate::sact::laboratory_values(context, actor, patient_id, treatment_date, &tests).await?;
    Ok(Some(NextCycle {
        number,
        treatment_date,
        last_measurements,
        measurement_age,
        modifications,
        latest_results,
    }))
}

/// A cycle awaiting verification, its patient, and what changed since that
/// patient's previous cycle of the course (empty for a first cycle).
#[derive(Debug, Clone)]
pub struct QueueEntry {
    pub cycle: StoredCycle,
    pub course: Course,
    pub patient: PatientRecord,
    pub previous_cycle: Option<u32>,
    pub changes: Vec<Change>,
}

/// The pharmacist's queue: cycles awaiting verification, oldest treatment date
/// first, each with its patient and what changed (verify_sact).
pub async fn verification_queue(
    context: &Context,
    acting: &Acting,
    limit: u32,
) -> Result<(Vec<QueueEntry>, StaffDirectory), ServiceError> {
    let actor = acting.requires(Permission::VerifySact)?;
    queue_of(context, actor, "prescribed", limit).await
}

/// Verified cycles awaiting release, oldest treatment date first (release_sact).
pub async fn release_queue(
    context: &Context,
    acting: &Acting,
    limit: u32,
) -> Result<(Vec<QueueEntry>, StaffDirectory), ServiceError> {
    let actor = acting.requires(Permission::ReleaseSact)?;
    queue_of(context, actor, "verified", limit).await
}

async fn queue_of(
    context: &Context,
    actor: &store::Actor,
    state: &str,
    limit: u32,
) -> Result<(Vec<QueueEntry>, StaffDirectory), ServiceError> {
    let page = context.store().sact().queue_page(actor, state, limit).await?;
    let mut entries = Vec::with_capacity(page.cycles.len());
    for cycle in page.cycles {
        // Read in separate statements: a course or patient gone meanwhile is left for the next look.
        let (Some(course), Some(patient)) = (
            page.courses.get(&cycle.course_id),
            page.courses.get(&cycle.course_id).and_then(|c| page.patients.get(&c.patient_id)),
        ) else {
            continue;
        };
        let previous = page
            .course_cycles
            .iter()
            .filter(|c| {
                c.course_id == cycle.course_id
                    && c.cycle.number < cycle.cycle.number
                    && !matches!(c.cycle.state, CycleState::Cancelled { .. })
            })
            .max_by_key(|c| c.cycle.number);
        let changes = previous.map(|p| sact::changes_since(&p.cycle, &cycle.cycle)).unwrap_or_default();
        let previous_cycle = previous.map(|p| p.cycle.number);
        entries.push(QueueEntry {
            course: course.clone(),
            patient: patient.clone(),
            previous_cycle,
            changes,
            cycle,
        });
    }
    Ok((entries, staff_directory(context).await?))
}

/// A cycle due on the day, with its patient, for the treatment list.
#[derive(Debug, Clone)]
pub struct DueCycle {
    pub cycle: StoredCycle,
    pub course: Course,
    pub patient: PatientRecord,
}

/// Released cycles due on `day`, and those part given, with their patients (administer_sact).
pub async fn treatment_list(
    context: &Context,
    acting: &Acting,
    day: NaiveDate,
) -> Result<(Vec<DueCycle>, StaffDirectory), ServiceError> {
    let actor = acting.requires(Permission::AdministerSact)?;
    let store = context.store();
    let due = store.sact().cycles_due_on(actor, &["released", "partly administered"], day).await?;
    let mut list = Vec::with_capacity(due.len());
    for cycle in due {
        let course = store.sact().course(actor, cycle.course_id).await?;
        let patient = store.patients().read(actor, cycle.patient_id).await?;
        list.push(DueCycle { cycle, course, patient });
    }
    Ok((list, staff_directory(context).await?))
}

/// A patient's whole SACT record for the Chemotherapy page: every course with
/// its cycles, each lifetime-limited drug's standing, and the staff who signed.
#[derive(Debug, Clone)]
pub struct ChemotherapyRecord {
    pub courses: Vec<CourseHistory>,
    pub lifetime: Vec<LifetimeStanding>,
    pub staff: StaffDirectory,
}

/// A lifetime-limited drug: what has been given (here and at other sites,
/// counted from doses recorded as given) against its limit, in the limit's unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifetimeStanding {
    pub drug: String,
    pub given: rust_decimal::Decimal,
    /// Prescribed here and not yet given (cycles prescribed, verified or released).
    pub pending: rust_decimal::Decimal,
    pub limit: dosing::policy::LifetimeLimit,
}

/// Enrolled staff by user id, to show each signer's name and registration.
pub type StaffDirectory = std::collections::BTreeMap<String, store::EnrolledUser>;

/// Everything the Chemotherapy page shows for a patient (view_patients).
pub async fn chemotherapy_record(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<ChemotherapyRecord, ServiceError> {
    let courses = patient_courses(context, acting, patient_id).await?;
    let totals = crate::sact::lifetime_totals(context, acting, patient_id).await?;
    let mut drugs: Vec<String> = totals.keys().cloned().collect();
    for history in &courses {
        if let Ok(regimen) = crate::sact::pinned_regimen(context, &history.course.regimen).await {
            drugs.extend(regimen.drugs.iter().map(|d| d.drug.clone()));
        }
    }
    drugs.sort_unstable();
    drugs.dedup();
    let lifetime = drugs
        .into_iter()
        .filter_map(|drug| {
            let limit = context.site_policy().drug(&drug, "drug").ok()?.lifetime_limit?;
            let total = totals.get(&drug).copied().unwrap_or_default();
            let given = match limit {
                dosing::policy::LifetimeLimit::MgPerM2(_) => total.per_m2,
                dosing::policy::LifetimeLimit::TotalIu(_) => total.total,
            };
            let pending = pending_dose(&courses, &drug, limit);
            Some(LifetimeStanding { drug, given, pending, limit })
        })
        .collect();
    Ok(ChemotherapyRecord { courses, lifetime, staff: staff_directory(context).await? })
}

/// What the patient's cycles not yet given would add to a limited drug's total,
/// in the limit's unit: each line prescribed and not recorded as given.
fn pending_dose(
    courses: &[CourseHistory],
    drug: &str,
    limit: dosing::policy::LifetimeLimit,
) -> rust_decimal::Decimal {
    let waiting = |state: &CycleState| {
        matches!(
            state,
            CycleState::Prescribed
                | CycleState::Verified
                | CycleState::Released
                | CycleState::PartlyAdministered
        )
    };
    courses
        .iter()
        .flat_map(|history| &history.cycles)
        .map(|stored| &stored.cycle)
        .filter(|cycle| waiting(&cycle.state))
        .flat_map(|cycle| {
            cycle
                .drugs
                .iter()
                .filter(move |line| {
                    line.drug == drug
                        && !cycle
                            .administrations
                            .iter()
                            .any(|a| a.record.drug == line.drug && a.record.day == line.day)
                })
                .filter_map(move |line| match limit {
                    dosing::policy::LifetimeLimit::MgPerM2(_) => cycle.dose_per_m2(line.dose),
                    dosing::policy::LifetimeLimit::TotalIu(_) => Some(line.dose),
                })
        })
        .fold(rust_decimal::Decimal::ZERO, |sum, dose| sum.checked_add(dose).unwrap_or(sum))
}

/// Every enrolled member of staff by user id (names, roles and registrations; no patient data).
pub async fn staff_directory(context: &Context) -> Result<StaffDirectory, ServiceError> {
    let staff = crate::users::list(context).await?;
    Ok(staff.into_iter().map(|user| (user.user_id.clone(), user)).collect())
}
