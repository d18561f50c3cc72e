//! Patient search at 1,000,000 synthetic patients on the local SQLCipher file,
//! every search kind, through the public API (query plus its audit entry,
//! committed with a full sync) and, beside it, the bare query with no audit.
//! `cargo bench -p store --features bench --bench search`; figures in docs/PERFORMANCE.md.

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use store::{Actor, Store, StoreKey};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let folder = tempfile::tempdir().expect("temp folder");
    let actor = Actor { user: "bench".into(), workstation: "bench".into() };
    let store = runtime.block_on(async {
        let store =
            Store::create_with_key(&folder.path().join("bench.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store");
        common::seed(&store, &actor).await;
        store
    });
    for (name, query) in &common::queries() {
        c.bench_function(&format!("search_1m_{name}_audited"), |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(store.patients().search(&actor, query, 50).await.expect("search"))
            })
        });
        c.bench_function(&format!("search_1m_{name}_bare"), |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(store.patients().search_unaudited_for_benchmarks(query, 50).await.expect("search"))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
