//! The token: made only from a check that proved the permission, and accepted
//! only by the acts that permission allows. Against a real SQLCipher store.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use patients::{NhsNumberPolicy, PatientQuery};
use services::{Acting, ServiceError};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use store::{Store, StoreKey};

fn nurse() -> StaffUser {
    StaffUser {
        user_id: UserId::parse("555000000003").expect("twelve digits"),
        display_name: "NURSING, Nell (Ms)".into(),
        job_title: "Chemotherapy nurse".into(),
        role: JobRole { code: "R8001".into(), name: "Nurse Access Role".into() },
    }
}

fn signed_in(permissions: &[Permission]) -> (Workstation, Moment) {
    let mut workstation = Workstation::new(Duration::from_secs(300));
    let now = Moment::new(Instant::now(), SystemTime::now());
    workstation
        .sign_in(nurse(), permissions.iter().copied().collect::<BTreeSet<_>>(), now)
        .expect("signed in");
    (workstation, now)
}

#[test]
fn a_token_needs_a_check_that_required_its_permission() {
    let (mut workstation, now) = signed_in(&[Permission::ViewPatients, Permission::AdministerSact]);
    let bare = workstation.require_user(now).expect("active");
    assert!(matches!(
        Acting::from_session(&bare, Permission::ViewPatients, "ws1"),
        Err(ServiceError::NotPermitted(Permission::ViewPatients))
    ));
    let other = workstation.require(Permission::AdministerSact, now).expect("granted");
    assert!(
        Acting::from_session(&other, Permission::ViewPatients, "ws1").is_err(),
        "another permission proves nothing"
    );
    let proven = workstation.require(Permission::ViewPatients, now).expect("granted");
    let acting = Acting::from_session(&proven, Permission::ViewPatients, "ws1").expect("a token");
    assert_eq!((acting.actor().user.as_str(), acting.actor().workstation.as_str()), ("555000000003", "ws1"));
}

#[tokio::test]
async fn patients_are_found_only_with_a_view_patients_token_and_audited_against_its_holder() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context =
        services::Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("a context");
    let (mut workstation, now) = signed_in(&[Permission::ViewPatients, Permission::AdministerSact]);
    let query = PatientQuery::parse("quill", None, NhsNumberPolicy::default()).expect("query");

    let administering = workstation.require(Permission::AdministerSact, now).expect("granted");
    let wrong = Acting::from_session(&administering, Permission::AdministerSact, "ws1").expect("a token");
    assert!(matches!(
        services::patients::search(&context, &wrong, &query, 50).await,
        Err(ServiceError::NotPermitted(Permission::ViewPatients))
    ));

    let viewing = workstation.require(Permission::ViewPatients, now).expect("granted");
    let acting = Acting::from_session(&viewing, Permission::ViewPatients, "ws1").expect("a token");
    assert!(services::patients::search(&context, &acting, &query, 50).await.expect("searched").is_empty());
    let today = chrono::Utc::now();
    let audited = services::audit::entries(
        &context,
        today - chrono::TimeDelta::days(1),
        today + chrono::TimeDelta::days(1),
    )
    .await
    .expect("entries");
    let search = audited.last().expect("the search is audited");
    assert_eq!((search.actor.as_str(), search.workstation.as_str()), ("555000000003", "ws1"));
}

/// Each act that could expose or change the whole record, or who may sign in,
/// refuses a token proven for another permission, before it touches anything.
#[tokio::test]
async fn store_and_staff_acts_refuse_a_token_for_another_permission() {
    let folder = tempfile::tempdir().expect("folder");
    let path = folder.path().join("store.db");
    let store = Store::create_with_key(&path, StoreKey::generate().expect("key")).await.expect("store");
    let context =
        services::Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("a context");
    let (mut workstation, now) = signed_in(&[Permission::ViewPatients]);
    let viewing = workstation.require(Permission::ViewPatients, now).expect("granted");
    let viewer = Acting::from_session(&viewing, Permission::ViewPatients, "ws1").expect("a token");
    let refused = |result: Result<(), ServiceError>, act: &str, needed: Permission| match result {
        Err(ServiceError::NotPermitted(permission)) => assert_eq!(permission, needed, "{act}"),
        other => panic!("{act} with a view_patients token: {other:?}"),
    };

    let backup = folder.path().join("backup.db");
    refused(
        services::store_admin::backup(&context, &viewer, &backup).await,
        "backup",
        Permission::ManageStore,
    );
    assert!(!backup.exists(), "no backup was written");
    refused(
        services::store_admin::recovery_key(&context, &viewer).await.map(|_| ()),
        "recovery key",
        Permission::ManageStore,
    );
    let target = store::SharedDatabase::parse("postgres://cws@127.0.0.1:1/never").expect("url");
    refused(
        services::store_admin::copy_to(&context, &viewer, &target, |_| {}).await.map(|_| ()),
        "copy-to",
        Permission::ManageStore,
    );
    refused(
        services::store_admin::restore(&path, &backup, &viewer).await.map(|_| ()),
        "restore",
        Permission::ManageStore,
    );
    let user = store::EnrolledUser {
        user_id: "555000000009".into(),
        display_name: "TESTER, Tess (Ms)".into(),
        job_title: "Tester".into(),
        professional_body: None,
        registration_number: None,
        roles: vec![store::EnrolledRole { code: "R8000".into(), name: "Clinical Practitioner".into() }],
        disabled: false,
        card_key_sha256: Some("ab".repeat(32)),
    };
    refused(services::users::enrol(&context, &viewer, &user).await, "enrol", Permission::ManageUsers);
    refused(
        services::users::disable(&context, &viewer, "555000000003").await,
        "disable",
        Permission::ManageUsers,
    );
    assert!(services::users::list(&context).await.expect("users").is_empty(), "no one was enrolled");
    refused(services::store_admin::rekey(context, &viewer).await, "rekey", Permission::ManageStore);
}

/// The first-run bootstrap: the store's OS account may manage users only while
/// no enabled user may; from the first such enrolment on, it takes a card.
#[tokio::test]
async fn the_os_account_may_bootstrap_only_until_someone_holds_the_permission() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context =
        services::Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("a context");
    let roles = session::RolePermissions::site_default();
    let operator = store::Actor { user: "os:site-it".into(), workstation: "ws1".into() };
    assert!(!services::cards::anyone_may(&context, &roles, Permission::ManageUsers).await.expect("read"));
    let first = services::cards::bootstrap_acting(&context, &roles, Permission::ManageUsers, &operator)
        .await
        .expect("read")
        .expect("nobody holds manage_users yet, so the OS account may");
    assert_eq!(first.actor(), &operator);
    let administrator = store::EnrolledUser {
        user_id: "555000000090".into(),
        display_name: "ADMIN, Ada (Ms)".into(),
        job_title: "Registration Authority".into(),
        professional_body: None,
        registration_number: None,
        roles: vec![store::EnrolledRole { code: "LOCAL-ADMIN".into(), name: "Local administrator".into() }],
        disabled: false,
        card_key_sha256: Some("cd".repeat(32)),
    };
    services::users::enrol(&context, &first, &administrator).await.expect("the first administrator");
    assert_eq!(services::users::list(&context).await.expect("users"), std::slice::from_ref(&administrator));
    assert!(services::cards::anyone_may(&context, &roles, Permission::ManageUsers).await.expect("read"));
    assert!(
        services::cards::bootstrap_acting(&context, &roles, Permission::ManageUsers, &operator)
            .await
            .expect("read")
            .is_none(),
        "once someone may manage users, the OS account alone may not"
    );
    services::users::disable(&context, &first, "555000000090").await.expect("disabled");
    assert!(
        !services::cards::anyone_may(&context, &roles, Permission::ManageUsers).await.expect("read"),
        "a disabled user holds nothing"
    );
}

#[tokio::test]
async fn a_session_event_is_recorded_against_the_person_it_concerns() {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let context =
        services::Context::with_store(store, settings::Settings::fail_safe(), "ws1").expect("a context");
    let actor = store::Actor { user: "555000000003".into(), workstation: "ws1".into() };
    let replaced = [store::RecordRef::User("555000000001".into())];
    services::cards::record_session_event(
        &context,
        &actor,
        store::AuditAction::SessionReplace,
        &replaced,
        "ok",
    )
    .await
    .expect("recorded");
    let today = chrono::Utc::now();
    let entries = services::audit::entries(
        &context,
        today - chrono::TimeDelta::days(1),
        today + chrono::TimeDelta::days(1),
    )
    .await
    .expect("entries");
    let last = entries.last().expect("an entry");
    assert_eq!(
        (last.actor.as_str(), last.action.as_str(), last.record_ids.as_str()),
        ("555000000003", "session.replace", r#"["user:555000000001"]"#)
    );
}
