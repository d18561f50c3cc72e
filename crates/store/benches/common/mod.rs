//! The synthetic million and the searches both benchmarks run.

use chrono::NaiveDate;
use patients::{NewPatient, NhsNumber, NhsNumberPolicy, PatientQuery, Sex};
use store::{Actor, Store};

pub const PATIENTS: usize = 1_000_000;
const FAMILY_NAMES: [&str; 8] = [
    "Quillfeather",
    "Marchbanks",
    "Zebedee",
    "Puddleford",
    "Thistlewood",
    "Gingerbrook",
    "Mossbottom",
    "Periwinkle",
];

pub fn synthetic(index: usize) -> Option<NewPatient> {
    // 9 then eight digits: the test range has room for all million.
    let mut nine = [9u8, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut n = index;
    for slot in nine[1..].iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    Some(NewPatient {
        nhs_number: Some(NhsNumber::from_nine_digits(nine)?),
        nhs_number_failing_check: None,
        mrn: Some(format!("BENCH{index:07}")),
        // Many family names share a prefix, as real ones do; the index makes them distinct.
        family_name: format!("{}{}", FAMILY_NAMES[index % FAMILY_NAMES.len()], index / 1000),
        given_names: "Ada".into(),
        title: None,
        date_of_birth: NaiveDate::from_ymd_opt(
            1930 + (index % 80) as i32,
            1 + (index % 12) as u32,
            1 + (index % 28) as u32,
        )?,
        sex: Sex::Unknown,
        address: None,
        postcode: None,
        gp_practice: None,
        deceased_date: None,
    })
}

/// Adds the million in batches of 5,000, each one audited act.
pub async fn seed(store: &Store, actor: &Actor) {
    let mut index = 1;
    let mut added = 0;
    while added < PATIENTS {
        let mut batch = Vec::with_capacity(5000);
        while batch.len() < 5000 {
            if let Some(p) = synthetic(index) {
                batch.push(p);
            }
            index += 1;
        }
        added += batch.len();
        store.patients().add_batch(actor, batch).await.expect("batch");
    }
}

/// Each search kind, named, against a patient in the middle of the million.
pub fn queries() -> Vec<(&'static str, PatientQuery)> {
    let policy = NhsNumberPolicy::default();
    let middle = synthetic(500_001).expect("a valid index");
    vec![
        ("nhs_number", PatientQuery::parse(&middle.nhs_number.digits(), None, policy).expect("query")),
        ("mrn", PatientQuery::parse("BENCH0500001", None, policy).expect("query")),
        (
            "name_prefix_and_birth",
            PatientQuery::parse("Thistlewood5", NaiveDate::from_ymd_opt(1934, 5, 5), policy).expect("query"),
        ),
        ("name_prefix", PatientQuery::parse("Thistlewood49", None, policy).expect("query")),
    ]
}
