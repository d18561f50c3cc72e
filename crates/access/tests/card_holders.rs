//! Card holders against a real SQLCipher store: enrolment decides who a card
//! proves, disabling ends it, and roles decide what they may do.

use access::{AccessError, ProvenCard, anyone_may, card_holder};
use session::{Permission, RolePermissions};
use store::{Actor, EnrolledRole, EnrolledUser, Store, StoreKey};

fn administrator() -> Actor {
    Actor { user: "os:test".into(), workstation: "test".into() }
}

fn enrolled(user_id: &str, role: &str) -> EnrolledUser {
    EnrolledUser {
        user_id: user_id.into(),
        display_name: "TESTER, Tess (Ms)".into(),
        job_title: "Tester".into(),
        professional_body: None,
        registration_number: None,
        roles: vec![EnrolledRole { code: role.into(), name: role.into() }],
        disabled: false,
        card_key_sha256: Some(key_of(user_id)),
    }
}

/// A stand-in fingerprint for the card enrolled for `user_id`.
fn key_of(user_id: &str) -> String {
    format!("{user_id:0>64}")
}

/// The card enrolled for `user_id`, as a login proves it.
fn enrolled_card(user_id: &str) -> (String, String) {
    (user_id.to_owned(), key_of(user_id))
}

fn proven(card: &(String, String)) -> ProvenCard<'_> {
    ProvenCard { user_id: &card.0, key_sha256: &card.1 }
}

async fn store(folder: &tempfile::TempDir) -> Store {
    Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store created")
}

#[tokio::test]
async fn an_enrolled_pharmacist_may_verify_but_not_prescribe() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    store.users().enrol(&administrator(), &enrolled("555000000002", "R8003")).await.expect("enrolled");

    let holder =
        card_holder(&store, proven(&enrolled_card("555000000002")), &RolePermissions::site_default())
            .await
            .expect("a card holder");
    assert!(holder.require(Permission::VerifySact).is_ok());
    let refused = holder.require(Permission::PrescribeSact).expect_err("refused");
    assert!(refused.to_string().contains("PrescribeSact"), "{refused}");
}

#[tokio::test]
async fn a_card_holder_not_enrolled_or_disabled_is_no_one_here() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    assert!(matches!(
        card_holder(&store, proven(&enrolled_card("555000000009")), &RolePermissions::site_default()).await,
        Err(AccessError::NotEnrolled)
    ));

    store.users().enrol(&administrator(), &enrolled("555000000003", "R8001")).await.expect("enrolled");
    store.users().disable(&administrator(), "555000000003").await.expect("disabled");
    assert!(matches!(
        card_holder(&store, proven(&enrolled_card("555000000003")), &RolePermissions::site_default()).await,
        Err(AccessError::NotEnrolled)
    ));
}

#[tokio::test]
async fn the_sites_own_mapping_decides_what_a_role_may_do() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    store.users().enrol(&administrator(), &enrolled("555000000008", "R8008")).await.expect("enrolled");
    let site: RolePermissions =
        serde_json::from_str(r#"{"R8008": ["manage_beds", "manage_users"]}"#).expect("mapping");
    let holder =
        card_holder(&store, proven(&enrolled_card("555000000008")), &site).await.expect("a card holder");
    assert!(holder.require(Permission::ManageUsers).is_ok(), "this site lets bed managers enrol staff");
    assert!(anyone_may(&store, &site, Permission::ManageUsers).await.expect("read"));
    assert!(
        !anyone_may(&store, &RolePermissions::site_default(), Permission::ManageUsers).await.expect("read")
    );
}

#[tokio::test]
async fn the_bootstrap_ends_once_an_enabled_user_may_manage_users() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    assert!(
        !anyone_may(&store, &RolePermissions::site_default(), Permission::ManageUsers).await.expect("read"),
        "an empty store is bootstrapping"
    );

    store.users().enrol(&administrator(), &enrolled("555000000001", "R8000")).await.expect("enrolled");
    assert!(
        !anyone_may(&store, &RolePermissions::site_default(), Permission::ManageUsers).await.expect("read"),
        "a prescriber cannot manage users"
    );

    store.users().enrol(&administrator(), &enrolled("555000000099", "LOCAL-ADMIN")).await.expect("enrolled");
    assert!(
        anyone_may(&store, &RolePermissions::site_default(), Permission::ManageUsers).await.expect("read")
    );

    store.users().disable(&administrator(), "555000000099").await.expect("disabled");
    assert!(
        !anyone_may(&store, &RolePermissions::site_default(), Permission::ManageUsers).await.expect("read"),
        "a disabled administrator manages nothing"
    );
}

#[tokio::test]
async fn another_card_bearing_an_enrolled_user_id_is_refused() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    store.users().enrol(&administrator(), &enrolled("555000000090", "LOCAL-ADMIN")).await.expect("enrolled");
    let forged = ProvenCard { user_id: "555000000090", key_sha256: &"f".repeat(64) };
    assert!(matches!(
        card_holder(&store, forged, &RolePermissions::site_default()).await,
        Err(AccessError::NotTheEnrolledCard(id)) if id == "555000000090"
    ));
}

#[tokio::test]
async fn enrolment_without_the_card_key_is_refused() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    let unbound = EnrolledUser { card_key_sha256: None, ..enrolled("555000000004", "R8000") };
    let refused = store.users().enrol(&administrator(), &unbound).await.expect_err("refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");
}

fn login_of(user_id: &str) -> identity::CardLogin {
    identity::CardLogin {
        user_id: user_id.into(),
        common_name: "TESTER, Tess (Ms)".into(),
        card_serial: "SERIAL-1".into(),
        certificate_serial: "01".into(),
        key_sha256: key_of(user_id),
    }
}

async fn refusals(store: &Store) -> Vec<(String, String, String)> {
    let now = chrono::Utc::now();
    store
        .audit()
        .entries(now - chrono::Duration::days(1), now + chrono::Duration::days(1))
        .await
        .expect("entries")
        .into_iter()
        .filter(|e| e.outcome.starts_with("refused"))
        .map(|e| (e.actor, e.action, e.outcome))
        .collect()
}

#[tokio::test]
async fn one_flow_proves_a_card_holder_and_audits_each_refusal_against_whom_it_knows() {
    let folder = tempfile::tempdir().expect("folder");
    let store = store(&folder).await;
    store.users().enrol(&administrator(), &enrolled("555000000003", "R8001")).await.expect("enrolled");
    let audit = access::AuditAs { action: store::AuditAction::UserEnrol, workstation: "ws1" };
    let mapping = RolePermissions::site_default();

    let wrong_pin =
        Err(identity::IdentityError::WrongPin { remaining: "few tries are left before the card locks" });
    let refused = access::prove_card_holder(&store, "SERIAL-1", wrong_pin, &mapping, None, audit).await;
    assert!(matches!(refused, Err(access::CardRefusal::Card { .. })));

    let nurse = Ok(login_of("555000000003"));
    let refused =
        access::prove_card_holder(&store, "SERIAL-1", nurse, &mapping, Some(Permission::ManageUsers), audit)
            .await;
    assert!(matches!(refused, Err(access::CardRefusal::Holder { .. })));

    let nurse = Ok(login_of("555000000003"));
    let (login, holder) = access::prove_card_holder(
        &store,
        "SERIAL-1",
        nurse,
        &mapping,
        Some(Permission::AdministerSact),
        audit,
    )
    .await
    .expect("the nurse may administer");
    assert_eq!((login.user_id.as_str(), holder.user().user_id.as_str()), ("555000000003", "555000000003"));

    let audited = refusals(&store).await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert_eq!(audited[0].0, "card:SERIAL-1", "before a user is proven, the card is named");
    assert!(audited[0].2.contains("PIN is wrong"), "{audited:?}");
    assert_eq!((audited[1].0.as_str(), audited[1].1.as_str()), ("555000000003", "user.enrol"));
    assert!(audited[1].2.contains("ManageUsers"), "{audited:?}");
}
