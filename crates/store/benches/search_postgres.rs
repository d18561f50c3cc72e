//! Patient search at 1,000,000 synthetic patients on a shared PostgreSQL 15 over
//! loopback (a private cluster from test-services, durable commits), every
//! search kind with its audit entry committed, and the bare query beside it;
//! then the audited-search throughput of 8 workstations searching at once.
//! `cargo bench -p store --features bench --bench search_postgres`; figures in docs/PERFORMANCE.md.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use store::{Actor, SharedDatabase, Store};
use test_services::Postgres;

const CLIENTS: usize = 8;

fn bench(c: &mut Criterion) {
    let server = match Postgres::start() {
        Ok(server) => server,
        Err(why) => {
            eprintln!("SKIPPED the PostgreSQL benchmarks: {why}");
            return;
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let database = SharedDatabase::parse(&server.url()).expect("a loopback URL");
    let actor = Actor { user: "bench".into(), workstation: "bench".into() };
    let store = runtime.block_on(async {
        let store = Store::create_shared(&database).await.expect("store");
        let started = Instant::now();
        common::seed(&store, &actor).await;
        eprintln!("seeded {} patients in {:.0?}", common::PATIENTS, started.elapsed());
        store
    });
    let queries = common::queries();
    for (name, query) in &queries {
        c.bench_function(&format!("pg_search_1m_{name}_audited"), |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(store.patients().search(&actor, query, 50).await.expect("search"))
            })
        });
        c.bench_function(&format!("pg_search_1m_{name}_bare"), |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(store.patients().search_unaudited_for_benchmarks(query, 50).await.expect("search"))
            })
        });
    }

    // Eight workstations, each its own store handle and connections, searching
    // at once; the figure is the wall time per search, so throughput is its inverse.
    let workstations: Vec<Store> = runtime.block_on(async {
        let mut opened = Vec::new();
        for _ in 0..CLIENTS {
            opened.push(Store::open_shared(&database).await.expect("opened"));
        }
        opened
    });
    let (_, by_number) = &queries[0];
    c.bench_function("pg_search_1m_nhs_number_audited_8_clients_per_search", |b| {
        b.to_async(&runtime).iter_custom(|rounds| {
            let workstations = workstations.clone();
            let actor = actor.clone();
            let query = by_number.clone();
            async move {
                let started = Instant::now();
                let searches = workstations.into_iter().map(|store| {
                    let (actor, query) = (actor.clone(), query.clone());
                    tokio::spawn(async move {
                        for _ in 0..rounds {
                            black_box(store.patients().search(&actor, &query, 50).await.expect("search"));
                        }
                    })
                });
                for search in searches.collect::<Vec<_>>() {
                    search.await.expect("a client finished");
                }
                started.elapsed() / CLIENTS as u32
            }
        })
    });
    drop(workstations);
    runtime.block_on(store.close());
    drop(server);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
