//! Whatever people do, in whatever order, no cycle reaches a drug given
//! without a verification by someone other than the prescriber of the version given.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use dosing::units::{DoseUnit, Kilograms};
use proptest::prelude::*;
use rust_decimal::Decimal;
use sact::{
    AdministrationRecord, Cycle, DeferralReason, PrescribedDrug, ReleaseEvidence, ReleasePolicy,
    VerificationScope, Verifier,
};
use session::UserId;

const PEOPLE: [&str; 4] = ["555000000001", "555000000002", "555000000003", "555000000004"];

#[derive(Debug, Clone)]
enum Act {
    Verify(usize),
    Release(usize),
    Administer { by: usize, witness: usize, drug: usize },
    Amend(usize),
    Defer,
    Resume,
    Cancel,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        (0..4usize).prop_map(Act::Verify),
        (0..4usize).prop_map(Act::Release),
        (0..4usize, 0..4usize, 0..2usize).prop_map(|(by, witness, drug)| Act::Administer {
            by,
            witness,
            drug
        }),
        (0..4usize).prop_map(Act::Amend),
        Just(Act::Defer),
        Just(Act::Resume),
        Just(Act::Cancel),
    ]
}

fn person(index: usize) -> UserId {
    UserId::parse(PEOPLE[index]).expect("twelve digits")
}

fn drugs() -> Vec<PrescribedDrug> {
    ["cyclophosphamide", "doxorubicin"]
        .iter()
        .map(|drug| PrescribedDrug {
            drug: (*drug).into(),
            day: "D1".into(),
            dose: Decimal::from(100),
            unit: DoseUnit::Milligrams,
            route: "IV".into(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_sequence_of_acts_gives_a_drug_without_another_persons_verification(
        prescriber in 0..4usize,
        acts in proptest::collection::vec(act(), 1..30),
    ) {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let now = Utc.from_utc_datetime(&day.and_hms_opt(8, 0, 0).expect("time"));
        let mut cycle = Cycle::prescribe(1, day, person(prescriber), drugs()).expect("prescribed");
        // Every role may verify here: only the prescriber rule can stop a verifier.
        let scope = VerificationScope { all_drugs: ["ANY".to_owned()].into(), named_drugs: BTreeMap::new() };
        let evidence = ReleaseEvidence {
            treatment_date: day,
            limits: vec![],
            results: BTreeMap::new(),
            current_weight: Kilograms::new(Decimal::from(70)),
            dosing_weight: Kilograms::new(Decimal::from(70)),
            lifetime: vec![],
        };
        for act in acts {
            let _ = match act {
                Act::Verify(who) => cycle.verify(&Verifier { user_id: person(who), role_code: "ANY".into() }, &scope),
                Act::Release(who) => cycle.release(&person(who), &evidence, &ReleasePolicy::default(), &[], now),
                Act::Administer { by, witness, drug } => cycle.administer(AdministrationRecord {
                    drug: drugs()[drug].drug.clone(),
                    day: "D1".into(),
                    dose_given: Decimal::from(100),
                    started: now,
                    stopped: Some(now + Duration::minutes(30)),
                    batch: "B1".into(),
                    expiry: NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
                    administered_by: person(by),
                    witness: person(witness),
                }),
                Act::Amend(who) => cycle.amend(&person(who), sact::Amendment::drugs_only(drugs(), "changed")),
                Act::Defer => cycle.defer(DeferralReason::Toxicity, cycle.treatment_date + Duration::days(7)),
                Act::Resume => cycle.resume(),
                Act::Cancel => cycle.cancel("test"),
            };
            if !cycle.administrations.is_empty() {
                let verifier = cycle.verifier.clone();
                prop_assert!(verifier.is_some(), "given without verification: {:?}", cycle.state);
                prop_assert_ne!(verifier.as_ref(), Some(&cycle.prescriber), "verified by its prescriber");
                prop_assert!(cycle.releaser.is_some(), "given without release");
            }
            for given in &cycle.administrations {
                prop_assert_ne!(&given.record.witness, &given.record.administered_by, "witnessed by the giver");
            }
        }
    }
}
