//! The SACT data set return for a period: one row per drug given here, from
//! what each cycle recorded. Rows lacking a mandatory item are reported, not
//! written (`sact::write_return`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sact::{Intent, ReturnRow};
use session::Permission;

use crate::{Acting, Context, ServiceError};

/// The period's rows, `from` to `to` inclusive (by the day each dose was given).
/// Taken by someone who may release SACT (the pharmacy submits the return).
pub async fn return_rows(
    context: &Context,
    acting: &Acting,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ReturnRow>, ServiceError> {
    let actor = acting.requires(Permission::ReleaseSact)?;
    let store = context.store();
    // A dose is given within its cycle, and no regimen's cycle is longer than 90
    // days; a dose given a day or two early is counted on the day it was given.
    // The window is wide enough for both, and each dose is then picked by its day.
    let margin = chrono::Days::new(90);
    let cycles_from = from.checked_sub_days(margin).unwrap_or(from);
    let cycles_to = to.checked_add_days(margin).unwrap_or(to);
    let period = store.sact().return_period(actor, cycles_from, cycles_to).await?;
    let mut consultants = BTreeMap::new();
    for course in period.courses.values() {
        if !consultants.contains_key(course.consultant.as_str()) {
            let registration = store
                .users()
                .get(course.consultant.as_str())
                .await?
                .and_then(|user| user.registration_number);
            consultants.insert(course.consultant.as_str().to_owned(), registration);
        }
    }
    let mut cycle_lengths = BTreeMap::new();
    let mut rows = Vec::new();
    for stored in &period.cycles {
        let (Some(course), Some(patient)) =
            (period.courses.get(&stored.course_id), period.patients.get(&stored.patient_id))
        else {
            continue;
        };
        let pin = (course.regimen.code.clone(), course.regimen.version.clone());
        let cycle_length = match cycle_lengths.get(&pin) {
            Some(length) => *length,
            None => {
                let length = crate::sact::pinned_regimen(context, &course.regimen)
                    .await
                    .ok()
                    .map(|r| r.cycle_length_days);
                cycle_lengths.insert(pin, length);
                length
            }
        };
        let patient = &patient.details;
        let cycle = &stored.cycle;
        let weight = cycle.measurements.as_ref().map(|m| m.entered.weight_kg.clone());
        let height_m = cycle
            .measurements
            .as_ref()
            .and_then(|m| m.entered.height_cm.parse::<rust_decimal::Decimal>().ok())
            .map(|cm| (cm / rust_decimal::Decimal::ONE_HUNDRED).normalize().to_string());
        let first_cycle = cycle.number == 1;
        for given in &cycle.administrations {
            let day = given.record.started.date_naive();
            if day < from || day > to {
                continue;
            }
            let oral = given.route.to_lowercase().contains("oral");
            let (curative_line, non_curative_line) = match course.intent {
                Intent::Curative | Intent::Adjuvant | Intent::Neoadjuvant => (Some(course.line), None),
                Intent::Palliative => (None, Some(course.line)),
            };
            rows.push(ReturnRow {
                record: format!("cycle:{} {} {}", stored.id, given.record.drug, given.record.day),
                nhs_number: patient.nhs_number.map(|n| n.digits()),
                local_patient_id: patient.mrn.clone(),
                birth_date: Some(patient.date_of_birth.to_string()),
                postcode: patient.postcode.clone(),
                gp_practice: patient.gp_practice.as_ref().map(|gp| gp.ods_code.clone()),
                consultant: consultants[course.consultant.as_str()].clone(),
                intent: Some(format!("{:?}", course.intent).to_lowercase()),
                curative_line,
                non_curative_line,
                regimen: Some(course.regimen.code.clone()),
                height_m: height_m.clone().filter(|_| first_cycle),
                regimen_weight_kg: weight.clone().filter(|_| first_cycle),
                regimen_start: Some(course.start_date.to_string()),
                cycle_number: Some(cycle.number),
                cycle_start: Some(cycle.treatment_date.to_string()),
                cycle_weight_kg: weight.clone(),
                drug: Some(given.record.drug.clone()),
                dose: Some(given.record.dose_given.normalize().to_string()),
                dose_unit: Some(given.unit.symbol().to_owned()),
                route: Some(given.route.clone()),
                administered_at: (!oral).then(|| given.record.started.to_rfc3339()),
                dispensed_on: oral.then(|| day.to_string()),
                cycle_length_days: cycle_length,
                organisation: context.settings().site_ods_code.clone(),
            });
        }
    }
    Ok(rows)
}
