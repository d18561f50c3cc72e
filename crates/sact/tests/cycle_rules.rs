//! Every step of a cycle and every refusal, on the rules alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use dosing::checks::ResultLimit;
use dosing::policy::LifetimeLimit;
use dosing::units::{DoseUnit, Kilograms};
use rust_decimal::Decimal;
use sact::{
    AdministrationRecord, Amendment, Course, Cycle, CycleState, DeferralReason, Intent, LifetimeDose,
    Override, PrescribedDrug, RegimenPin, ReleaseEvidence, ReleasePolicy, ResultSource, TimedResult,
    VerificationScope, Verifier,
};
use session::UserId;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("twelve digits")
}

const PRESCRIBER: &str = "555000000001";
const PHARMACIST: &str = "555000000002";
const NURSE: &str = "555000000003";
const WITNESS: &str = "555000000004";
const TECHNICIAN: &str = "555000000005";

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn treatment_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).expect("date")
}

fn at(hours_before_treatment_day: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&treatment_day().and_hms_opt(0, 0, 0).expect("midnight"))
        - Duration::hours(hours_before_treatment_day)
}

fn line(drug: &str, dose: &str) -> PrescribedDrug {
    PrescribedDrug {
        drug: drug.into(),
        day: "D1".into(),
        dose: dec(dose),
        unit: DoseUnit::Milligrams,
        route: "IV".into(),
    }
}

fn r_chop_day_one() -> Vec<PrescribedDrug> {
    vec![line("rituximab", "700"), line("doxorubicin", "95"), line("vincristine", "2")]
}

fn prescribed() -> Cycle {
    Cycle::prescribe(2, treatment_day(), user(PRESCRIBER), r_chop_day_one()).expect("prescribed")
}

fn pharmacist() -> Verifier {
    Verifier { user_id: user(PHARMACIST), role_code: "R8003".into() }
}

fn verified() -> Cycle {
    let mut cycle = prescribed();
    cycle.verify(&pharmacist(), &VerificationScope::site_default()).expect("verified");
    cycle
}

fn neutrophil_limit() -> Vec<ResultLimit> {
    vec![ResultLimit {
        test: "neutrophils".into(),
        unit: "10^9/L".into(),
        minimum: Some(dec("1.0")),
        maximum: None,
    }]
}

fn evidence(neutrophils: &str, hours_before: i64) -> ReleaseEvidence {
    ReleaseEvidence {
        treatment_date: treatment_day(),
        limits: neutrophil_limit(),
        results: BTreeMap::from([(
            "neutrophils".to_owned(),
            TimedResult {
                value: dec(neutrophils),
                taken_at: at(hours_before),
                source: ResultSource::Laboratory { laboratory: "RXX-PATH".into() },
            },
        )]),
        current_weight: Kilograms::new(dec("70")),
        dosing_weight: Kilograms::new(dec("70")),
        lifetime: vec![],
    }
}

fn released() -> Cycle {
    let mut cycle = verified();
    cycle
        .release(&user(PHARMACIST), &evidence("2.1", 24), &ReleasePolicy::default(), &[], at(1))
        .expect("released");
    cycle
}

fn given(drug: &str, dose: &str) -> AdministrationRecord {
    AdministrationRecord {
        drug: drug.into(),
        day: "D1".into(),
        dose_given: dec(dose),
        started: at(-10),
        stopped: Some(at(-11)),
        batch: "B12345".into(),
        expiry: NaiveDate::from_ymd_opt(2027, 6, 30).expect("date"),
        administered_by: user(NURSE),
        witness: user(WITNESS),
    }
}

#[test]
fn a_cycle_goes_from_prescribed_to_administered_with_four_people() {
    let mut cycle = released();
    assert_eq!(cycle.releaser, Some(user(PHARMACIST)));
    cycle.administer(given("rituximab", "700")).expect("given");
    assert_eq!(cycle.state, CycleState::PartlyAdministered);
    cycle.administer(given("doxorubicin", "95")).expect("given");
    cycle.administer(given("vincristine", "2")).expect("given");
    assert_eq!(cycle.state, CycleState::Administered);
    assert_eq!(cycle.verifier, Some(user(PHARMACIST)));
}

#[test]
fn the_prescriber_may_not_verify_their_own_prescription() {
    let mut cycle = prescribed();
    let own = Verifier { user_id: user(PRESCRIBER), role_code: "R8003".into() };
    let refused = cycle.verify(&own, &VerificationScope::site_default()).expect_err("self-verification");
    assert_eq!(refused.rule, "self_verification");
    assert_eq!(cycle.state, CycleState::Prescribed, "nothing changed");
}

#[test]
fn a_technician_verifies_only_the_drugs_the_site_names_for_their_role() {
    let scope = VerificationScope {
        all_drugs: BTreeSet::from(["R8003".to_owned()]),
        named_drugs: BTreeMap::from([(
            "PHARM-TECH".to_owned(),
            BTreeSet::from(["zoledronic acid".to_owned(), "trastuzumab".to_owned()]),
        )]),
    };
    let technician = Verifier { user_id: user(TECHNICIAN), role_code: "PHARM-TECH".into() };
    let mut r_chop = prescribed();
    let refused = r_chop.verify(&technician, &scope).expect_err("outside scope");
    assert_eq!(refused.rule, "verification_scope");
    assert!(refused.message.contains("rituximab"), "{refused}");
    let mut zoledronic =
        Cycle::prescribe(1, treatment_day(), user(PRESCRIBER), vec![line("zoledronic acid", "4")])
            .expect("prescribed");
    zoledronic.verify(&technician, &scope).expect("within scope");
    let nurse = Verifier { user_id: user(NURSE), role_code: "R8001".into() };
    let mut other = prescribed();
    assert_eq!(other.verify(&nurse, &scope).expect_err("no scope").rule, "verification_scope");
}

#[test]
fn a_typed_result_without_its_reason_is_refused_naming_the_test_and_kept_with_it_when_given() {
    let mut typed = evidence("2.1", 24);
    if let Some(result) = typed.results.get_mut("neutrophils") {
        result.source = ResultSource::Typed { reason: "  ".into() };
    }
    let mut cycle = verified();
    let refused = cycle
        .release(&user(PHARMACIST), &typed, &ReleasePolicy::default(), &[], at(1))
        .expect_err("no reason");
    assert_eq!(refused.rule, "typed_result_reason");
    assert!(refused.message.starts_with("neutrophils:"), "{}", refused.message);
    assert_eq!(cycle.state, CycleState::Verified, "nothing changed");
    if let Some(result) = typed.results.get_mut("neutrophils") {
        result.source = ResultSource::Typed { reason: "point-of-care count on the unit".into() };
    }
    cycle.release(&user(PHARMACIST), &typed, &ReleasePolicy::default(), &[], at(1)).expect("released");
    assert_eq!(cycle.release_results, typed.results, "the results released on are kept with their sources");
}

#[test]
fn an_unverified_cycle_is_not_released_and_an_unreleased_one_not_given() {
    let mut cycle = prescribed();
    let refused = cycle
        .release(&user(PHARMACIST), &evidence("2.1", 24), &ReleasePolicy::default(), &[], at(1))
        .expect_err("not verified");
    assert_eq!(refused.rule, "not_verified");
    let mut verified = verified();
    assert_eq!(
        verified.administer(given("rituximab", "700")).expect_err("not released").rule,
        "not_released"
    );
}

#[test]
fn a_result_taken_before_the_window_blocks_release_even_with_a_reason() {
    let mut cycle = verified();
    let stale = evidence("2.1", 73);
    let overrides = [Override { code: "results_stale:neutrophils".into(), reason: "clinically well".into() }];
    let refused = cycle
        .release(&user(PHARMACIST), &stale, &ReleasePolicy::default(), &overrides, at(1))
        .expect_err("stale");
    assert_eq!(refused.rule, "release_blocked");
    assert!(refused.message.contains("73 hours"), "{refused}");
    assert_eq!(cycle.state, CycleState::Verified);
    cycle
        .release(&user(PHARMACIST), &evidence("2.1", 72), &ReleasePolicy::default(), &[], at(1))
        .expect("at 72 h");
}

#[test]
fn a_missing_or_future_result_blocks_release() {
    let mut missing = evidence("2.1", 24);
    missing.results.clear();
    let refused = verified()
        .release(&user(PHARMACIST), &missing, &ReleasePolicy::default(), &[], at(1))
        .expect_err("missing");
    assert!(refused.message.contains("No neutrophils result"), "{refused}");
    let future = evidence("2.1", -48);
    let refused = verified()
        .release(&user(PHARMACIST), &future, &ReleasePolicy::default(), &[], at(1))
        .expect_err("future");
    assert!(refused.message.contains("dated after now"), "{refused}");
}

#[test]
fn a_result_outside_the_limit_needs_an_override_with_a_reason() {
    let low = evidence("0.8", 24);
    let mut cycle = verified();
    let refused =
        cycle.release(&user(PHARMACIST), &low, &ReleasePolicy::default(), &[], at(1)).expect_err("low");
    assert_eq!(refused.rule, "override_needed");
    assert!(refused.message.contains("result_outside_limit:neutrophils"), "{refused}");
    let blank = [Override { code: "result_outside_limit:neutrophils".into(), reason: "  ".into() }];
    let refused =
        cycle.release(&user(PHARMACIST), &low, &ReleasePolicy::default(), &blank, at(1)).expect_err("blank");
    assert_eq!(refused.rule, "override_reason");
    let typo = [Override { code: "result_outside_limits:neutrophils".into(), reason: "GCSF given".into() }];
    let refused =
        cycle.release(&user(PHARMACIST), &low, &ReleasePolicy::default(), &typo, at(1)).expect_err("typo");
    assert_eq!(refused.rule, "override_unknown");
    let reasoned =
        [Override { code: "result_outside_limit:neutrophils".into(), reason: "GCSF given".into() }];
    cycle.release(&user(PHARMACIST), &low, &ReleasePolicy::default(), &reasoned, at(1)).expect("released");
    assert_eq!(cycle.release_findings[0].overridden_because.as_deref(), Some("GCSF given"));
}

#[test]
fn a_ten_percent_weight_change_blocks_release() {
    let mut changed = evidence("2.1", 24);
    changed.current_weight = Kilograms::new(dec("77"));
    let refused = verified()
        .release(&user(PHARMACIST), &changed, &ReleasePolicy::default(), &[], at(1))
        .expect_err("weight");
    assert_eq!(refused.rule, "release_blocked");
    assert!(refused.message.contains("recalculation"), "{refused}");
    changed.current_weight = Kilograms::new(dec("76.9"));
    verified()
        .release(&user(PHARMACIST), &changed, &ReleasePolicy::default(), &[], at(1))
        .expect("under 10%");
}

#[test]
fn a_lifetime_limit_passed_blocks_release_and_one_near_needs_a_reason() {
    let mut past = evidence("2.1", 24);
    past.lifetime = vec![LifetimeDose {
        drug: "doxorubicin".into(),
        limit: LifetimeLimit::MgPerM2(dec("450")),
        given_before: dec("400"),
        this_cycle: dec("60"),
    }];
    let refused = verified()
        .release(&user(PHARMACIST), &past, &ReleasePolicy::default(), &[], at(1))
        .expect_err("passed");
    assert_eq!(refused.rule, "release_blocked");
    past.lifetime[0].given_before = dec("350");
    let refused = verified()
        .release(&user(PHARMACIST), &past, &ReleasePolicy::default(), &[], at(1))
        .expect_err("near");
    assert_eq!(refused.rule, "override_needed");
    let reason =
        [Override { code: "cumulative_limit_near:doxorubicin".into(), reason: "echo normal".into() }];
    verified()
        .release(&user(PHARMACIST), &past, &ReleasePolicy::default(), &reason, at(1))
        .expect("released");
}

#[test]
fn a_drug_is_never_given_twice_in_a_cycle() {
    let mut cycle = released();
    cycle.administer(given("rituximab", "700")).expect("given");
    let refused = cycle.administer(given("rituximab", "700")).expect_err("twice");
    assert_eq!(refused.rule, "double_administration");
    assert_eq!(cycle.administrations.len(), 1);
}

#[test]
fn an_administration_is_refused_for_each_thing_wrong_with_it() {
    let mut cycle = released();
    let cases: Vec<(&str, AdministrationRecord)> = vec![
        ("witness", AdministrationRecord { witness: user(NURSE), ..given("rituximab", "700") }),
        ("dose_given", given("rituximab", "0")),
        ("dose_given", given("rituximab", "700.5")),
        ("stopped", AdministrationRecord { stopped: Some(at(-9)), ..given("rituximab", "700") }),
        (
            "expiry",
            AdministrationRecord {
                expiry: NaiveDate::from_ymd_opt(2026, 12, 6).expect("date"),
                ..given("rituximab", "700")
            },
        ),
        ("batch", AdministrationRecord { batch: " ".into(), ..given("rituximab", "700") }),
        ("not_prescribed", given("bleomycin", "10")),
        ("not_prescribed", AdministrationRecord { day: "D8".into(), ..given("rituximab", "700") }),
    ];
    for (rule, record) in cases {
        assert_eq!(cycle.administer(record).expect_err(rule).rule, rule);
    }
    assert!(cycle.administrations.is_empty(), "nothing was recorded");
    cycle
        .administer(given("rituximab", "650"))
        .expect("less than prescribed, as when an infusion is stopped");
}

#[test]
fn an_amendment_is_a_new_version_that_goes_back_to_verification() {
    let mut cycle = released();
    let before = cycle.clone();
    let refused = cycle
        .amend(&user(PHARMACIST), Amendment::drugs_only(r_chop_day_one(), "renal function fell"))
        .expect_err("not the prescriber");
    assert_eq!(refused.rule, "amend_by_prescriber");
    let mut reduced = r_chop_day_one();
    reduced[1].dose = dec("71");
    let blank =
        cycle.amend(&user(PRESCRIBER), Amendment::drugs_only(reduced.clone(), "  ")).expect_err("no reason");
    assert_eq!(blank.rule, "reason");
    assert_eq!(cycle, before, "a refused amendment changes nothing");
    cycle
        .amend(&user(PRESCRIBER), Amendment::drugs_only(reduced.clone(), "renal function fell"))
        .expect("amended");
    assert_eq!(
        (cycle.state.clone(), cycle.prescription_version, cycle.verifier.clone()),
        (CycleState::Prescribed, 2, None)
    );
    assert_eq!(cycle.drugs, reduced);
    let kept = &cycle.earlier_versions[0];
    assert_eq!(
        (kept.version, kept.state.as_str(), &kept.drugs),
        (1, "released", &before.drugs),
        "the old one is kept"
    );
    assert_eq!(kept.replaced_because, "renal function fell");
    assert_eq!(cycle.as_earlier_version(kept).drugs, before.drugs);
    let mut given_cycle = released();
    given_cycle.administer(given("rituximab", "700")).expect("given");
    assert_eq!(
        given_cycle
            .amend(&user(PRESCRIBER), Amendment::drugs_only(r_chop_day_one(), "too late"))
            .expect_err("given")
            .rule,
        "not_amendable"
    );
}

#[test]
fn a_deferred_cycle_moves_to_its_new_date_and_is_verified_again() {
    let mut cycle = released();
    let later = NaiveDate::from_ymd_opt(2026, 12, 14).expect("date");
    assert_eq!(
        cycle.defer(DeferralReason::BloodCountsNotRecovered, treatment_day()).expect_err("same day").rule,
        "until"
    );
    cycle.defer(DeferralReason::BloodCountsNotRecovered, later).expect("deferred");
    assert_eq!(cycle.treatment_date, later);
    assert_eq!(cycle.administer(given("rituximab", "700")).expect_err("deferred").rule, "not_released");
    cycle.resume().expect("resumed");
    assert_eq!((cycle.state.clone(), cycle.verifier.clone()), (CycleState::Prescribed, None));
}

#[test]
fn a_cancelled_cycle_is_never_given_and_cancelling_needs_a_reason() {
    let mut cycle = released();
    assert_eq!(cycle.cancel(" ").expect_err("no reason").rule, "reason");
    cycle.cancel("disease progression").expect("cancelled");
    assert_eq!(cycle.administer(given("rituximab", "700")).expect_err("cancelled").rule, "not_released");
    assert_eq!(
        cycle.verify(&pharmacist(), &VerificationScope::site_default()).expect_err("cancelled").rule,
        "cancelled"
    );
}

#[test]
fn a_prescription_without_drugs_or_with_a_line_twice_is_refused() {
    assert_eq!(
        Cycle::prescribe(1, treatment_day(), user(PRESCRIBER), vec![]).expect_err("empty").rule,
        "drugs"
    );
    let twice = vec![line("vincristine", "2"), line("vincristine", "2")];
    assert_eq!(
        Cycle::prescribe(1, treatment_day(), user(PRESCRIBER), twice).expect_err("twice").rule,
        "drugs"
    );
    assert_eq!(
        Cycle::prescribe(1, treatment_day(), user(PRESCRIBER), vec![line("vincristine", "0")])
            .expect_err("zero")
            .rule,
        "dose"
    );
}

#[test]
fn a_course_plans_its_cycles_and_is_pinned_to_its_regimen() {
    let pin = RegimenPin {
        code: "R-CHOP-21".into(),
        version: "1.0".into(),
        content_sha256: "ab".repeat(32),
        policy_version: "2026-11".into(),
        banding_version: "2016".into(),
    };
    let start = treatment_day();
    let consultant = user(PRESCRIBER);
    assert_eq!(
        Course::new(1, pin.clone(), Intent::Curative, 1, consultant.clone(), 0, start)
            .expect_err("no cycles")
            .rule,
        "cycles"
    );
    let course = Course::new(1, pin, Intent::parse("Curative").expect("intent"), 1, consultant, 6, start)
        .expect("course");
    assert_eq!(course.check_cycle_number(7).expect_err("past the plan").rule, "cycle");
    course.check_cycle_number(6).expect("the last cycle");
    assert_eq!(Intent::parse("hopeful").expect_err("unknown").rule, "intent");
}

#[test]
fn the_edges_of_an_administration_are_allowed() {
    let mut cycle = released();
    let bolus = AdministrationRecord { stopped: Some(at(-10)), ..given("vincristine", "2") };
    cycle.administer(bolus).expect("a bolus stops as it starts");
    let expires_today = AdministrationRecord { expiry: at(-10).date_naive(), ..given("doxorubicin", "95") };
    cycle.administer(expires_today).expect("a batch is good through its expiry date");
}

#[test]
fn a_result_taken_this_moment_counts_and_a_refusal_names_the_state() {
    let mut cycle = verified();
    let mut now_taken = evidence("2.1", 24);
    now_taken.results.get_mut("neutrophils").expect("result").taken_at = at(1);
    cycle
        .release(&user(PHARMACIST), &now_taken, &ReleasePolicy::default(), &[], at(1))
        .expect("taken just now");
    let refused =
        cycle.verify(&pharmacist(), &VerificationScope::site_default()).expect_err("already released");
    assert_eq!(refused.rule, "wrong_state");
    assert!(refused.message.contains("This cycle is released; it must be prescribed to verify"), "{refused}");
    let mut deferred = prescribed();
    deferred
        .defer(DeferralReason::PatientChoice, NaiveDate::from_ymd_opt(2026, 12, 10).expect("date"))
        .expect("deferred");
    assert_eq!(
        deferred.verify(&pharmacist(), &VerificationScope::site_default()).expect_err("deferred").rule,
        "deferred"
    );
}

#[test]
fn a_signature_covers_its_act_and_later_acts_do_not_change_what_it_covers() {
    let mut cycle = verified();
    let verified_bytes = cycle.signing_bytes("verified v1");
    assert_ne!(verified_bytes, cycle.signing_bytes("released v1"), "the act is part of what is signed");
    cycle
        .release(&user(PHARMACIST), &evidence("2.1", 24), &ReleasePolicy::default(), &[], at(1))
        .expect("released");
    cycle.administer(given("rituximab", "700")).expect("given");
    assert_eq!(cycle.signing_bytes("verified v1"), verified_bytes, "still checkable after later acts");
    let given_bytes = cycle.signing_bytes("given rituximab D1");
    assert!(String::from_utf8_lossy(&given_bytes).contains("B12345"), "a dose's signature covers its record");
    let signed = sact::SignedAct {
        act: "verified v1".into(),
        signer: user(NURSE),
        signed_at: at(1),
        algorithm: "ecdsa-p256-sha256".into(),
        signature: vec![1, 2, 3],
        certificate_der: vec![],
    };
    assert_eq!(
        cycle.add_signature(signed.clone(), &user(PHARMACIST)).expect_err("another's card").rule,
        "signer"
    );
    cycle
        .add_signature(sact::SignedAct { signer: user(PHARMACIST), ..signed }, &user(PHARMACIST))
        .expect("own");
    assert_eq!(cycle.signatures.len(), 1);
}

#[test]
fn a_dose_per_square_metre_needs_the_area_it_was_calculated_for() {
    let mut cycle = prescribed();
    assert_eq!(cycle.dose_per_m2(dec("85")), None, "no area recorded, no per-m² figure");
    cycle.bsa_m2 = Some(dec("1.70"));
    assert_eq!(cycle.dose_per_m2(dec("85")), Some(dec("50")));
    cycle.bsa_m2 = Some(Decimal::ZERO);
    assert_eq!(cycle.dose_per_m2(dec("85")), None, "never divided by zero");
}

#[test]
fn a_transfer_signs_the_whole_record_so_any_change_shows() {
    let pin = RegimenPin {
        code: "R-CHOP-21".into(),
        version: "1.0".into(),
        content_sha256: "ab".repeat(32),
        policy_version: "p".into(),
        banding_version: "b".into(),
    };
    let course =
        Course::new(1, pin, Intent::Curative, 1, user(PRESCRIBER), 6, treatment_day()).expect("course");
    let record = sact::TransferRecord {
        schema: sact::TRANSFER_SCHEMA.into(),
        from_site: "RXX01".into(),
        patient: sact::TransferPatient {
            nhs_number: "9990000026".into(),
            family_name: "Quillfeather".into(),
            given_names: "Ada".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1958, 3, 3).expect("date"),
        },
        course,
        cycles: vec![released()],
        doses_given: vec![sact::TransferredDose {
            drug: "doxorubicin".into(),
            dose: dec("95"),
            unit: "mg".into(),
            dose_per_m2: Some(dec("50")),
            given_at: at(-10),
            site: "RXX01".into(),
        }],
        sent_at: at(-12),
    };
    let signed = record.signing_bytes();
    assert!(String::from_utf8_lossy(&signed).contains("doxorubicin"), "the doses are signed");
    let mut changed = record.clone();
    changed.doses_given[0].dose = dec("9.5");
    assert_ne!(changed.signing_bytes(), signed, "a changed dose changes what was signed");
}

#[test]
fn each_approving_capacity_reads_back_from_its_text() {
    for capacity in [sact::Capacity::Consultant, sact::Capacity::Pharmacist] {
        assert_eq!(sact::Capacity::parse(capacity.text()), Some(capacity));
    }
    assert_eq!(sact::Capacity::parse("nurse"), None);
}

/// The version an amendment replaced is rebuilt exactly as it was signed, so
/// its signatures can be checked long after: every field a signature covers,
/// its modifications and signatures, and nothing of the later version's.
#[test]
fn an_earlier_version_is_rebuilt_exactly_as_it_was_signed() {
    let mut before = released();
    before.signatures.push(sact::SignedAct {
        act: "released v1".into(),
        signer: user(PHARMACIST),
        signed_at: at(1),
        algorithm: "ecdsa-p256-sha256".into(),
        signature: vec![1, 2, 3],
        certificate_der: vec![4, 5, 6],
    });
    before.modifications = vec![dosing::course::DrugModification {
        drug: "vincristine".into(),
        modification: dosing::pipeline::Modification { percent: dec("50"), reason: "neuropathy".into() },
    }];
    before.release_findings.push(sact::ReleaseFinding {
        code: "result_outside_limit:neutrophils".into(),
        blocks: false,
        message: "neutrophils 0.9, below 1.0".into(),
        overridden_because: Some("consultant agreed".into()),
    });
    let mut cycle = before.clone();
    let amendment = Amendment {
        drugs: vec![line("rituximab", "650")],
        bsa_m2: Some(dec("1.9")),
        measurements: Some(sact::RecordedMeasurements {
            entered: dosing::course::MeasurementsText {
                height_cm: "170".into(),
                weight_kg: "68".into(),
                ..Default::default()
            },
            taken_on: treatment_day(),
            stale_because: None,
        }),
        calculation: Some(serde_json::json!({"regimen": "R-CHOP-21"})),
        modifications: vec![],
        reason: "weight loss".into(),
    };
    cycle.amend(&user(PRESCRIBER), amendment).expect("amended");
    // Version 2 goes on to be verified, released and given; version 1 gave nothing.
    cycle.verify(&pharmacist(), &sact::VerificationScope::site_default()).expect("verified");
    cycle
        .release(&user(PHARMACIST), &evidence("2.1", 24), &ReleasePolicy::default(), &[], at(1))
        .expect("released");
    cycle.administer(given("rituximab", "650")).expect("given");
    let rebuilt = cycle.as_earlier_version(&cycle.earlier_versions[0]);
    for act in ["prescribed v1", "verified v1", "released v1"] {
        assert_eq!(
            rebuilt.signing_bytes(act),
            before.signing_bytes(act),
            "{act} checks against what was signed"
        );
    }
    assert_eq!(
        (&rebuilt.modifications, &rebuilt.signatures, &rebuilt.release_findings),
        (&before.modifications, &before.signatures, &before.release_findings)
    );
    assert!(rebuilt.administrations.is_empty() && rebuilt.earlier_versions.is_empty());
    assert_eq!((rebuilt.prescription_version, cycle.prescription_version), (1, 2));
}
