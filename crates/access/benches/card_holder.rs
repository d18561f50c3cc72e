//! The app's step after the card proves its holder: the enrolled user and their
//! permissions, from a real SQLCipher store holding 5,000 staff. With the card
//! login (`cargo bench -p identity`) this makes "PIN entered → session ready".
//! Figures go in docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::Criterion;
use session::RolePermissions;
use store::{Actor, EnrolledRole, EnrolledUser, Store, StoreKey};

const STAFF: u64 = 5_000;

fn main() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = runtime.block_on(async {
        let store =
            Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store");
        let actor = Actor { user: "os:bench".into(), workstation: "bench".into() };
        for n in 0..STAFF {
            let user = EnrolledUser {
                user_id: format!("{:012}", 555_000_100_000 + n),
                display_name: "BENCH, Staff (Dr)".into(),
                job_title: "Consultant".into(),
                professional_body: Some("GMC".into()),
                registration_number: Some(format!("{}", 7_000_000 + n)),
                roles: vec![EnrolledRole { code: "R8000".into(), name: "Clinical Practitioner".into() }],
                disabled: false,
                card_key_sha256: Some(format!("{n:064x}")),
            };
            store.users().enrol(&actor, &user).await.expect("enrolled");
        }
        store
    });
    let mapping = RolePermissions::site_default();
    let mut criterion = Criterion::default().configure_from_args().sample_size(100);
    criterion.bench_function("card_holder_of_5000_staff", |b| {
        b.iter(|| {
            let card = access::ProvenCard { user_id: "555000102500", key_sha256: &format!("{:064x}", 2500) };
            let holder = runtime.block_on(access::card_holder(&store, card, &mapping));
            black_box(holder.expect("enrolled"))
        })
    });
    criterion.final_summary();
}
