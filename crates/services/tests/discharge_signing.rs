//! Signing a discharge summary with a real card (SoftHSM2): refused with every
//! missing field while incomplete, refused with another person's card, signed
//! and locked once complete; a summary changed after signing says so.

mod common;

use common::acting_as;
use common::discharge_site::{DOCTOR, DischargeSite};
use services::{Context, ServiceError};
use session::Permission;
use sqlx::ConnectOptions;
use store::Store;

#[tokio::test]
async fn a_summary_is_signed_only_when_complete_by_the_authors_own_card_and_a_change_after_is_caught() {
    let (site, context) = DischargeSite::new(DischargeSite::settings()).await;
    let (trust, key, patient_id) = (&site.trust, site.key.clone(), site.patient_id);
    let folder = &site.store_folder;

    let author = acting_as(DOCTOR, Permission::AuthorDischarge);
    let signer = acting_as(DOCTOR, Permission::SignDischarge);
    let draft =
        services::discharge::start(&context, &author, patient_id, "General medicine").await.expect("draft");
    let card = site.card("DOCTOR");
    let incomplete = services::discharge::sign(&context, &signer, draft.id, draft.row_version, &card).await;
    let Err(ServiceError::Refused { rule: "discharge_incomplete", reason }) = incomplete else {
        panic!("an incomplete summary is not signed: {incomplete:?}")
    };
    assert!(
        reason.contains("at least one diagnosis") && reason.contains("No known drug allergies"),
        "every missing field at once: {reason}"
    );

    let summary = DischargeSite::complete(&draft.summary);
    let read_at = services::discharge::save(&context, &author, draft.id, draft.row_version, &summary)
        .await
        .expect("saved");

    let someone_elses = site.card("OTHER");
    let refused = services::discharge::sign(&context, &signer, draft.id, read_at, &someone_elses).await;
    assert!(
        matches!(refused, Err(ServiceError::Refused { rule: "card_of_the_session_user", .. })),
        "{refused:?}"
    );

    let signed =
        services::discharge::sign(&context, &signer, draft.id, read_at, &card).await.expect("signed");
    assert_eq!(signed.signer.registration.as_deref(), Some("GMC 7000004"));
    let locked = services::discharge::save(&context, &author, draft.id, read_at + 1, &summary).await;
    assert!(
        matches!(locked, Err(ServiceError::Store(store::StoreError::Changed { .. }))),
        "signed is locked: {locked:?}"
    );

    let read = services::discharge::read_signed(&context, &author, draft.id, trust).await.expect("read");
    assert_eq!(read.broken, None, "the signature holds over the content as kept");
    assert_eq!(read.summary, summary);

    // An amendment is a new version with its reason; the signed one is kept as it was.
    let short = services::discharge::amend(&context, &author, draft.id, "typo").await;
    assert!(matches!(short, Err(ServiceError::Invalid { field: "amendment_reason", .. })));
    let amended =
        services::discharge::amend(&context, &author, draft.id, "Discharge medication dose corrected")
            .await
            .expect("amended");
    assert_eq!(
        amended.summary.amends,
        Some(discharge::Amendment {
            summary_id: draft.id,
            version: 1,
            reason: "Discharge medication dose corrected".into()
        })
    );
    let again =
        services::discharge::amend(&context, &author, draft.id, "A second amendment of version 1").await;
    assert!(matches!(again, Err(ServiceError::Refused { rule: "amend_the_latest", .. })), "{again:?}");
    assert_eq!(
        services::discharge::versions(&context, &author, patient_id).await.expect("versions"),
        [(draft.id, 1, "signed".to_owned()), (amended.id, 2, "draft".to_owned())]
    );

    // Someone with the store's key edits the signed content past the application: the check says so.
    context.close().await;
    let recovery = key.recovery_text().replace('-', "");
    let mut raw = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(folder.path().join("store.db"))
        .pragma("key", format!("\"x'{recovery}'\""))
        // New stores authenticate their pages with HMAC-SHA256 (store::page_mac).
        .pragma("cipher_hmac_algorithm", "HMAC_SHA256")
        .connect()
        .await
        .expect("raw connection");
    let tampered = serde_json::to_string(&discharge::DischargeSummary {
        diagnoses: vec![discharge::Coded { code: None, text: "Nothing of note".into() }],
        ..summary.clone()
    })
    .expect("json");
    sqlx::query("UPDATE discharge_summaries SET content = ? WHERE id = ?")
        .bind(tampered)
        .bind(draft.id)
        .execute(&mut raw)
        .await
        .expect("edited");
    sqlx::Connection::close(raw).await.expect("closed");
    let reopened = Context::with_store(
        Store::open_with_key(&folder.path().join("store.db"), key).await.expect("reopened"),
        DischargeSite::settings(),
        "ws1",
    )
    .expect("context");
    let read = services::discharge::read_signed(&reopened, &author, draft.id, trust).await.expect("read");
    assert!(
        read.broken.as_deref().is_some_and(|why| why.contains("changed since it was signed")),
        "{:?}",
        read.broken
    );
    reopened.close().await;
}
