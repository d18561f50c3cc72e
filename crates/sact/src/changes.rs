//! What changed between a patient's last cycle and the one awaiting
//! verification: the pharmacist checks these first. Weight, BSA, each dose and
//! each modification, compared exactly.

use dosing::course::DrugModification;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::cycle::Cycle;

/// One difference, written for the pharmacist: `what` names it, `before` and
/// `after` are as the prescriptions state them (empty where there was none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub what: String,
    pub before: String,
    pub after: String,
}

/// Every difference from `previous` to `current`, in a fixed order: weight,
/// BSA, then each drug line, then each modification. Nothing is listed where
/// nothing changed, so an empty list means "as last cycle".
pub fn since(previous: &Cycle, current: &Cycle) -> Vec<Change> {
    let mut changes = Vec::new();
    let weight = |cycle: &Cycle| {
        cycle.measurements.as_ref().and_then(|m| m.entered.weight_kg.trim().parse::<Decimal>().ok())
    };
    if let Some(change) = compare("weight (kg)", weight(previous), weight(current)) {
        changes.push(change);
    }
    if let Some(change) = compare("BSA (m²)", previous.bsa_m2, current.bsa_m2) {
        changes.push(change);
    }
    for line in &current.drugs {
        let before = previous.drugs.iter().find(|p| p.drug == line.drug && p.day == line.day);
        let what = format!("{} {} ({})", line.drug, line.day, line.unit.symbol());
        if let Some(change) = compare(&what, before.map(|b| b.dose), Some(line.dose)) {
            changes.push(change);
        }
    }
    for line in &previous.drugs {
        if !current.drugs.iter().any(|c| c.drug == line.drug && c.day == line.day) {
            let what = format!("{} {} ({})", line.drug, line.day, line.unit.symbol());
            changes.push(Change { what, before: line.dose.normalize().to_string(), after: String::new() });
        }
    }
    changes.extend(modification_changes(&previous.modifications, &current.modifications));
    changes
}

fn compare(what: &str, before: Option<Decimal>, after: Option<Decimal>) -> Option<Change> {
    // Decimals compare by value: 70.0 and 70 are the same weight.
    if before == after {
        return None;
    }
    let text = |value: Option<Decimal>| value.map(|v| v.normalize().to_string()).unwrap_or_default();
    Some(Change { what: what.to_owned(), before: text(before), after: text(after) })
}

fn modification_changes(before: &[DrugModification], after: &[DrugModification]) -> Vec<Change> {
    let describe = |m: Option<&DrugModification>| {
        m.map(|m| format!("{}% ({})", m.modification.percent.normalize(), m.modification.reason))
            .unwrap_or_default()
    };
    let mut drugs: Vec<&str> = before.iter().chain(after).map(|m| m.drug.as_str()).collect();
    drugs.sort_unstable();
    drugs.dedup();
    drugs
        .into_iter()
        .filter_map(|drug| {
            let old = before.iter().find(|m| m.drug == drug);
            let new = after.iter().find(|m| m.drug == drug);
            (old != new).then(|| Change {
                what: format!("modification of {drug}"),
                before: describe(old),
                after: describe(new),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::{PrescribedDrug, RecordedMeasurements};
    use chrono::NaiveDate;
    use dosing::pipeline::Modification;
    use dosing::units::DoseUnit;

    fn cycle(weight: &str, bsa: &str, doxorubicin: &str, modifications: Vec<DrugModification>) -> Cycle {
        let line = |drug: &str, dose: &str| PrescribedDrug {
            drug: drug.into(),
            day: "D1".into(),
            dose: dose.parse().expect("decimal"),
            unit: DoseUnit::Milligrams,
            route: "intravenous".into(),
        };
        let prescriber = session::UserId::parse("555000000001").expect("id");
        let date = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let mut cycle = Cycle::prescribe(
            1,
            date,
            prescriber,
            vec![line("doxorubicin", doxorubicin), line("vincristine", "2")],
        )
        .expect("cycle");
        cycle.bsa_m2 = Some(bsa.parse().expect("decimal"));
        cycle.measurements = Some(RecordedMeasurements {
            entered: dosing::course::MeasurementsText {
                height_cm: "170".into(),
                weight_kg: weight.into(),
                ..Default::default()
            },
            taken_on: date,
            stale_because: None,
        });
        cycle.modifications = modifications;
        cycle
    }

    fn reduced(drug: &str, percent: u32) -> DrugModification {
        DrugModification {
            drug: drug.into(),
            modification: Modification {
                percent: Decimal::from(percent),
                reason: "grade 2 neuropathy".into(),
            },
        }
    }

    #[test]
    fn the_same_prescription_again_has_no_changes() {
        let last = cycle("70", "1.81", "90.5", vec![reduced("vincristine", 50)]);
        let again = cycle("70.0", "1.810", "90.50", vec![reduced("vincristine", 50)]);
        assert_eq!(since(&last, &again), vec![], "equal values written differently are the same");
    }

    #[test]
    fn weight_bsa_dose_and_a_new_modification_are_each_named_with_before_and_after() {
        let last = cycle("70", "1.81", "90.5", vec![]);
        let now = cycle("64", "1.74", "65", vec![reduced("doxorubicin", 75)]);
        let changes = since(&last, &now);
        let row = |what: &str, before: &str, after: &str| Change {
            what: what.into(),
            before: before.into(),
            after: after.into(),
        };
        assert_eq!(
            changes,
            vec![
                row("weight (kg)", "70", "64"),
                row("BSA (m²)", "1.81", "1.74"),
                row("doxorubicin D1 (mg)", "90.5", "65"),
                row("modification of doxorubicin", "", "75% (grade 2 neuropathy)"),
            ]
        );
    }

    #[test]
    fn a_dropped_line_and_a_lifted_modification_are_listed() {
        let mut last = cycle("70", "1.81", "90.5", vec![reduced("vincristine", 50)]);
        last.drugs.push(PrescribedDrug {
            drug: "bleomycin".into(),
            day: "D1".into(),
            dose: Decimal::from(15000),
            unit: DoseUnit::InternationalUnits,
            route: "intravenous".into(),
        });
        let now = cycle("70", "1.81", "90.5", vec![]);
        let changes = since(&last, &now);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!((changes[0].before.as_str(), changes[0].after.as_str()), ("15000", ""));
        assert_eq!(changes[1].what, "modification of vincristine");
        assert_eq!(changes[1].after, "", "the modification was lifted");
    }
}
