//! Patient search at 1,000,000 synthetic patients, every search kind, through
//! the public API (query plus its audit entry, committed with a full sync) and,
//! for comparison, the bare indexed query on the same encrypted file.
//! Figures go in docs/PERFORMANCE.md.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use patients::PatientQuery;
use patients::{NewPatient, NhsNumber, NhsNumberPolicy, Sex};
use store::{Actor, Store, StoreKey};

const PATIENTS: usize = 1_000_000;
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

fn synthetic(index: usize) -> Option<NewPatient> {
    // 9 then eight digits: the test range has room for all million.
    let mut nine = [9u8, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut n = index;
    for slot in nine[1..].iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
    }
    Some(NewPatient {
        nhs_number: NhsNumber::from_nine_digits(nine)?,
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

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let folder = tempfile::tempdir().expect("temp folder");
    let actor = Actor { user: "bench".into(), workstation: "bench".into() };
    let store = runtime.block_on(async {
        let store =
            Store::create_with_key(&folder.path().join("bench.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store");
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
            store.add_patients(&actor, batch).await.expect("batch");
        }
        store
    });

    let policy = NhsNumberPolicy::default();
    let middle = synthetic(500_001).expect("a valid index");
    let queries = [
        ("nhs_number", PatientQuery::parse(&middle.nhs_number.digits(), None, policy).expect("query")),
        ("mrn", PatientQuery::parse("BENCH0500001", None, policy).expect("query")),
        (
            "name_prefix_and_birth",
            PatientQuery::parse("Thistlewood5", NaiveDate::from_ymd_opt(1934, 5, 5), policy).expect("query"),
        ),
        ("name_prefix", PatientQuery::parse("Thistlewood49", None, policy).expect("query")),
    ];
    for (name, query) in &queries {
        c.bench_function(&format!("search_1m_{name}_audited"), |b| {
            b.to_async(&runtime)
                .iter(|| async { black_box(store.search_patients(&actor, query, 50).await.expect("search")) })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
