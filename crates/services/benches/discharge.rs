//! Discharge summaries: rendering a signed letter (the A4 PDF and the FHIR
//! document, as each send does), and the outbox delivering 1,000 queued sends
//! to a loopback SMTP submission server (aiosmtpd, STARTTLS, login), each one
//! claimed, its card signature checked, rendered, mailed and recorded.
//! Figures go in docs/PERFORMANCE.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::discharge_site::DischargeSite;
use criterion::{Criterion, criterion_group, criterion_main};
use services::discharge_outbox::{SenderToken, run_once};
use test_services::{SMTP_ACCOUNT, SmtpServer};

/// Sends each measured run delivers.
const SENDS: usize = 1_000;

fn rendering(c: &mut Criterion) {
    let letter = discharge::Letter::example();
    c.bench_function("discharge letter: A4 PDF and FHIR document", |b| {
        b.iter(|| {
            black_box(printing::discharge_letter_pdf(black_box(&letter)));
            black_box(discharge::fhir::document_bundle(black_box(&letter)));
        })
    });
    let to = discharge::itk::Addressing {
        practice: "A81001".into(),
        mailbox: "X26HC001".into(),
        sender_reference: "cws-1".into(),
    };
    let at = chrono::Utc::now();
    c.bench_function("discharge letter: ITK3 message in XML", |b| {
        b.iter(|| black_box(discharge::itk::message_xml(black_box(&letter), &to, at).expect("xml")))
    });
}

fn delivering(c: &mut Criterion) {
    let smtp = SmtpServer::start().expect("aiosmtpd (make test installs it)");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut settings = DischargeSite::settings();
    settings.discharge.smtp = Some(settings::SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp.port(),
        account: SMTP_ACCOUNT.into(),
        password_file: smtp.password_file(),
        ca: Some(smtp.ca_certificate()),
        timeout: Duration::from_secs(10),
    });
    // A thousand practices, one mailbox: each send is a whole mail of its own.
    // The signed summary queues its own practice's send (A81001); the bench adds 999 more.
    let practices: Vec<String> =
        std::iter::once("A81001".to_owned()).chain((1..SENDS).map(|n| format!("G{n:05}"))).collect();
    for practice in &practices {
        settings.discharge.gp_addresses.insert(practice.clone(), "gp.bench@nhs.net".into());
    }
    let (site, context) = runtime.block_on(DischargeSite::new(settings));
    let sender =
        SenderToken::for_account(&context, &store::Actor { user: "bench".into(), workstation: "ws1".into() })
            .expect("sender");
    let store = runtime.block_on(async {
        store::Store::open_with_key(&site.store_folder.path().join("store.db"), site.key.clone())
            .await
            .expect("a second handle on the store")
    });
    let mut group = c.benchmark_group("discharge outbox");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.bench_function("1,000 sends to loopback SMTP", |b| {
        b.iter_custom(|runs| {
            let mut total = Duration::ZERO;
            for _ in 0..runs {
                runtime.block_on(async {
                    let id = site.signed_summary(&context).await;
                    let mut tx = store.begin().await.expect("begun");
                    for practice in &practices[1..] {
                        tx.discharge_outbox()
                            .enqueue(id, "smtp", practice, &chrono::Utc::now().to_rfc3339())
                            .await
                            .expect("queued");
                    }
                    tx.audit(
                        &store::Actor { user: "bench".into(), workstation: "ws1".into() },
                        store::AuditAction::DischargeSend,
                        None,
                        &[store::RecordRef::DischargeSummary(id)],
                        "bench: queued",
                    )
                    .await
                    .expect("audited");
                    tx.commit().await.expect("committed");
                    let started = Instant::now();
                    let mut delivered = 0;
                    while delivered < SENDS {
                        let report = run_once(&context, &sender, &site.trust).await.expect("run");
                        assert_eq!(report.retrying + report.given_up, 0, "every send delivered");
                        delivered += report.delivered;
                    }
                    total += started.elapsed();
                });
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, rendering, delivering);
criterion_main!(benches);
