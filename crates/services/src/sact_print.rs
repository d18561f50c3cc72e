//! The printed SACT prescription, assembled from what the cycle keeps: the
//! measurements and calculation it was made with, its pin, and its signers.
//! Its signatures are checked first; a cycle whose signatures do not hold is
//! not printed.

use chrono::{Datelike, NaiveDate};
use printing::{PrescriptionLine, PrescriptionSheet, Signer};
use session::Permission;

use crate::sact::verify_signatures;
use crate::{Acting, Context, ServiceError};

/// The prescription of `cycle_id` as an A4 PDF, for someone who may view the patient.
pub async fn prescription_pdf(
    context: &Context,
    acting: &Acting,
    cycle_id: i64,
    trust: &identity::Trust,
    trust_name: &str,
) -> Result<Vec<u8>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    verify_signatures(&stored.cycle, trust)?;
    let course = store.sact().course(actor, stored.course_id).await?;
    let patient = store.patients().read(actor, stored.patient_id).await?;
    let totals = store.sact().lifetime_totals(actor, stored.patient_id).await?;
    let cycle = &stored.cycle;
    let mut signers = Vec::new();
    for signed in &cycle.signatures {
        let user = store.users().get(signed.signer.as_str()).await?;
        let (name, registration) = match user {
            Some(user) => (
                user.display_name,
                format!(
                    "{} {}",
                    user.professional_body.unwrap_or_default(),
                    user.registration_number.unwrap_or_default()
                )
                .trim()
                .to_owned(),
            ),
            None => (signed.signer.as_str().to_owned(), "not enrolled here".into()),
        };
        signers.push(Signer {
            act: signed.act.clone(),
            name,
            registration: if registration.is_empty() {
                "no registration recorded".into()
            } else {
                registration
            },
            at: signed.signed_at.format("%d-%b-%Y %H:%M UTC").to_string(),
        });
    }
    let calculation = cycle.calculation.as_ref();
    let sheet = PrescriptionSheet {
        trust: trust_name.to_owned(),
        patient_name: patient.details.display_name(),
        nhs_number: patient.details.nhs_number_display(),
        born: patient.details.date_of_birth.format("%d-%b-%Y").to_string(),
        hospital_number: patient.details.mrn.clone().unwrap_or_else(|| "Not recorded".into()),
        allergies: "Not recorded in this workstation; check the patient's record".into(),
        regimen: course.regimen.code.clone(),
        regimen_version: course.regimen.version.clone(),
        regimen_sha256: course.regimen.content_sha256.clone(),
        intent: format!("{:?}", course.intent).to_lowercase(),
        cycle: format!("Cycle {} of {}", cycle.number, course.planned_cycles),
        schedule: schedule(cycle),
        measurements: measurements(cycle),
        lines: cycle
            .drugs
            .iter()
            .enumerate()
            .map(|(index, line)| PrescriptionLine {
                what: format!("{}, {}, {}", line.drug, days_in_words(&line.day), route_in_words(&line.route)),
                dose: dose_text(calculation, index, line),
                derivation: derivation(calculation, index),
            })
            .collect(),
        supportive: Vec::new(),
        cumulative: totals
            .iter()
            .map(|(drug, total)| {
                format!(
                    "{drug}: {} mg in all, {} mg/m² given to date",
                    total.total.normalize(),
                    total.per_m2.round_dp(1)
                )
            })
            .collect(),
        warnings: calculation
            .and_then(|c| c["warnings"].as_array())
            .map(|warnings| {
                warnings.iter().filter_map(|w| w["message"].as_str().map(str::to_owned)).collect()
            })
            .unwrap_or_default(),
        signers,
        state: cycle.state.name().to_owned(),
        printed_at: context.now().format("%d-%b-%Y %H:%M UTC").to_string(),
    };
    Ok(printing::prescription_pdf(&sheet))
}

/// The aseptic unit's preparation worksheet for a released cycle (view_patients):
/// refused before release, since nothing is prepared until a pharmacist has
/// released it, and after cancellation; signatures are checked first.
pub async fn worksheet_pdf(
    context: &Context,
    acting: &Acting,
    cycle_id: i64,
    trust: &identity::Trust,
    trust_name: &str,
) -> Result<Vec<u8>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let stored = store.sact().cycle(actor, cycle_id).await?;
    let cycle = &stored.cycle;
    if !matches!(cycle.state, sact::CycleState::Released | sact::CycleState::PartlyAdministered) {
        return Err(ServiceError::Refused {
            rule: "not_released",
            reason: format!(
                "this cycle is {}; a preparation worksheet is printed only for a released cycle",
                cycle.state.name()
            ),
        });
    }
    verify_signatures(cycle, trust)?;
    let course = store.sact().course(actor, stored.course_id).await?;
    let patient = store.patients().read(actor, stored.patient_id).await?;
    let regimen = crate::sact::pinned_regimen(context, &course.regimen).await.ok();
    let released_by = match cycle.signatures.iter().rev().find(|s| s.act.starts_with("released")) {
        Some(signed) => {
            let who = store.users().get(signed.signer.as_str()).await?;
            let name = who.map(|u| match (u.professional_body, u.registration_number) {
                (Some(body), Some(number)) => format!("{}, {body} {number}", u.display_name),
                _ => u.display_name,
            });
            format!(
                "{}, {}",
                name.unwrap_or_else(|| signed.signer.as_str().to_owned()),
                signed.signed_at.format("%d-%b-%Y %H:%M UTC")
            )
        }
        None => "no release signature found".into(),
    };
    let items = cycle
        .drugs
        .iter()
        .map(|line| {
            let drug = regimen.as_ref().and_then(|r| r.drugs.iter().find(|d| d.drug == line.drug));
            let container = match (drug.and_then(|d| d.diluent.clone()), drug.and_then(|d| d.volume_ml)) {
                (Some(diluent), Some(volume)) => {
                    format!("{diluent} to a final volume of {} mL", volume.normalize())
                }
                (Some(diluent), None) => diluent,
                _ => "not stated in the regimen; as the unit's standard".into(),
            };
            printing::WorksheetItem {
                drug: line.drug.clone(),
                dose: format!("{} {}", line.dose.normalize(), line.unit.symbol()),
                route: route_in_words(&line.route),
                days: days_in_words(&line.day),
                container,
                rate_or_duration: drug
                    .and_then(|d| d.rate_or_duration.clone())
                    .unwrap_or_else(|| "as the regimen directs".into()),
                oral: line.route.eq_ignore_ascii_case("oral"),
            }
        })
        .collect();
    let sheet = printing::PreparationWorksheet {
        trust: trust_name.to_owned(),
        patient_name: patient.details.display_name(),
        nhs_number: patient.details.nhs_number_display(),
        born: patient.details.date_of_birth.format("%d-%b-%Y").to_string(),
        hospital_number: patient.details.mrn.clone().unwrap_or_else(|| "Not recorded".into()),
        regimen: course.regimen.code.clone(),
        regimen_version: course.regimen.version.clone(),
        cycle: format!("Cycle {} of {}", cycle.number, course.planned_cycles),
        treatment_date: long_date(cycle.treatment_date),
        released_by,
        items,
        printed_at: context.now().format("%d-%b-%Y %H:%M UTC").to_string(),
    };
    Ok(printing::worksheet_pdf(&sheet))
}

/// A route as the regimen names it, without abbreviations: "IV infusion" → "intravenous infusion".
fn route_in_words(route: &str) -> String {
    match route.strip_prefix("IV ") {
        Some(rest) => format!("intravenous {rest}"),
        None => route.to_owned(),
    }
}

fn long_date(date: NaiveDate) -> String {
    format!("{} {} {}", date.format("%A"), date.day(), date.format("%B %Y"))
}

/// The treatment date and exact duration, in words.
fn schedule(cycle: &sact::Cycle) -> String {
    let last_day = cycle.drugs.iter().flat_map(|line| day_numbers(&line.day)).max().unwrap_or(1);
    let start = cycle.treatment_date;
    if last_day <= 1 {
        return format!("Treatment on {}, for one day.", long_date(start));
    }
    let end = start + chrono::TimeDelta::days(i64::from(last_day) - 1);
    format!("Treatment from {} for {last_day} days, to {}.", long_date(start), long_date(end))
}

/// The days of a line (`D1`, `D1, D8`, `D1–D5`) as numbers.
fn day_numbers(days: &str) -> Vec<u32> {
    days.split(',')
        .flat_map(|part| {
            let part = part.trim();
            match part.split_once('–') {
                Some((first, last)) => {
                    let first = first.trim_start_matches('D').parse().unwrap_or(1);
                    let last = last.trim_start_matches('D').parse().unwrap_or(first);
                    (first..=last).collect::<Vec<u32>>()
                }
                None => part.trim_start_matches('D').parse().into_iter().collect(),
            }
        })
        .collect()
}

/// `D1` → "day 1"; `D1–D5` → "days 1 to 5"; `D1, D8` → "days 1 and 8": no abbreviations.
fn days_in_words(days: &str) -> String {
    if let Some((first, last)) = days.split_once('–') {
        return format!("days {} to {}", first.trim_start_matches('D'), last.trim_start_matches('D'));
    }
    let numbers: Vec<&str> = days.split(',').map(|d| d.trim().trim_start_matches('D')).collect();
    match numbers.as_slice() {
        [one] => format!("day {one}"),
        [rest @ .., last] => format!("days {} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

fn measurements(cycle: &sact::Cycle) -> Vec<String> {
    let Some(kept) = &cycle.measurements else { return vec!["Not recorded".into()] };
    let entered = &kept.entered;
    let mut line = format!(
        "Height {} cm, weight {} kg, taken on {}",
        entered.height_cm,
        entered.weight_kg,
        kept.taken_on.format("%d-%b-%Y")
    );
    if let Some(bsa) = cycle.bsa_m2 {
        line.push_str(&format!("; body surface area {} m²", bsa.normalize()));
    }
    let mut lines = vec![line];
    if let Some(creatinine) = &entered.creatinine_umol_l {
        lines.push(format!("Creatinine {creatinine} µmol/L"));
    }
    if let Some(gfr) = &entered.gfr_ml_min {
        lines.push(format!("Measured GFR {gfr} mL/min"));
    }
    lines
}

fn dose_text(calculation: Option<&serde_json::Value>, index: usize, line: &sact::PrescribedDrug) -> String {
    let final_dose = format!("{} {}", line.dose.normalize(), line.unit.symbol());
    let Some(drug) = calculation.map(|c| &c["drugs"][index]) else { return final_dose };
    match drug["calculated_dose"].as_str() {
        Some(calculated) => {
            format!("calculated {calculated} {}; final dose {final_dose}", line.unit.symbol())
        }
        None => format!("final dose {final_dose}"),
    }
}

fn derivation(calculation: Option<&serde_json::Value>, index: usize) -> Vec<String> {
    let steps = calculation.and_then(|c| c["drugs"][index]["steps"].as_array());
    steps
        .map(|steps| {
            steps
                .iter()
                // Each step's text already states its value, as a pharmacist reads it.
                .filter_map(|step| step["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_out_in_words() {
        assert_eq!(days_in_words("D1"), "day 1");
        assert_eq!(days_in_words("D1–D5"), "days 1 to 5");
        assert_eq!(days_in_words("D1, D8, D15"), "days 1, 8 and 15");
        assert_eq!(day_numbers("D1, D8"), [1, 8]);
        assert_eq!(day_numbers("D1–D5"), [1, 2, 3, 4, 5]);
    }
}
