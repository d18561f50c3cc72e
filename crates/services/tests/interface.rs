//! Receiving HL7 v2 on a real store: results filed against the patient and
//! acknowledged only once committed; a resend acknowledged again and applied
//! once; what cannot be applied kept in the error queue and answered AE.

mod common;

use common::acting_as;
use services::interface::{FeedToken, receive};
use services::{Acting, Context};
use session::Permission;
use store::{Actor, Store, StoreKey};

fn viewer() -> Acting {
    acting_as("555000000002", Permission::ViewPatients)
}

async fn context_with_a_patient() -> (tempfile::TempDir, Context, String) {
    let folder = tempfile::tempdir().expect("folder");
    let store = Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
        .await
        .expect("store");
    let mut settings = settings::Settings::fail_safe();
    settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
    settings.lab_codes = vec![
        ("NEUT".into(), settings::LabCode { check: "neutrophils".into(), units: "10*9/L".into() }),
        ("PLT".into(), settings::LabCode { check: "platelets".into(), units: "10*9/L".into() }),
    ];
    let context = Context::with_store(store, settings, "ws1").expect("context");
    let patient = common::quillfeather_ada();
    let nhs_number = patient.nhs_number.expect("an NHS number");
    services::patients::add(&context, &viewer(), patient).await.expect("patient");
    (folder, context, nhs_number.digits())
}

fn oru(control_id: &str, nhs_number: &str, platelet_units: &str) -> String {
    format!(
        "MSH|^~\\&|LIMS|RXX-PATH|CLINWS|RXX01|20261130083000||ORU^R01^ORU_R01|{control_id}|P|2.4\r\
         PID|||{nhs_number}^^^NHS^NH||QUILLFEATHER^Ada||19600505|F\r\
         OBR|1||S1|FBC^Full blood count|||20261130071500\r\
         OBX|1|NM|NEUT^Neutrophils||1.40|10*9/L|2.0-7.5|L|||F\r\
         OBX|2|NM|PLT^Platelets||210|{platelet_units}|150-400|N|||F"
    )
}

fn ack_code(reply: &services::interface::Reply) -> (String, String) {
    let ack = hl7::Message::parse(&reply.acknowledgements[0]).expect("the ACK is HL7");
    let msa = ack.segment("MSA").expect("MSA");
    (msa.value(1).to_owned(), msa.value(2).to_owned())
}

fn listener() -> Actor {
    Actor { user: "site-it".into(), workstation: "ws1".into() }
}

/// Three messages at once on the local file, so they are committed together:
/// a resend of the first, finding it kept but its group not yet committed, is
/// answered only once that group is durable (after the third, the one that
/// commits the group, is answered), never on the strength of work that could
/// still be lost.
#[tokio::test]
async fn a_resend_arriving_while_its_message_waits_in_a_group_commit_is_answered_only_after_it() {
    let (_folder, context, nhs_number) = context_with_a_patient().await;
    let feed =
        FeedToken::for_account(&context, &listener()).expect("a stand-alone workstation's own account");
    let third_answered = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let receiving = |text: String, done: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>| {
        let (context, feed) = (context.clone(), feed.clone());
        tokio::spawn(async move {
            let reply = receive(&context, &feed, &text).await;
            if let Some(done) = done {
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            reply
        })
    };
    let first = receiving(oru("GROUP1", &nhs_number, "10*9/L"), None);
    let resend = receiving(oru("GROUP1", &nhs_number, "10*9/L"), None);
    let third = receiving(oru("GROUP2", &nhs_number, "10*9/L"), Some(third_answered.clone()));
    let resent = resend.await.expect("ran");
    let answered_after_the_group = third_answered.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(ack_code(&resent).0, "AA");
    assert!(answered_after_the_group, "the resend was answered before its message's group was committed");
    assert_eq!(ack_code(&first.await.expect("ran")).0, "AA");
    assert_eq!(ack_code(&third.await.expect("ran")).0, "AA");
    let results = services::results::of_patient(&context, &viewer(), 1).await.expect("results");
    assert_eq!(results.len(), 4, "two messages' results, each once");
}

#[tokio::test]
async fn results_are_filed_once_and_acknowledged_only_when_kept() {
    let (_folder, context, nhs_number) = context_with_a_patient().await;
    let feed =
        FeedToken::for_account(&context, &listener()).expect("a stand-alone workstation's own account");
    let reply = receive(&context, &feed, &oru("LAB1", &nhs_number, "10*6/L")).await;
    assert_eq!(ack_code(&reply), ("AA".to_owned(), "LAB1".to_owned()));
    let results = services::results::of_patient(&context, &viewer(), 1).await.expect("results");
    assert_eq!(results.len(), 2);
    let neutrophils = results.iter().map(|k| &k.result).find(|r| r.code == "NEUT").expect("NEUT");
    assert_eq!((neutrophils.value.as_str(), neutrophils.used_for.as_deref()), ("1.40", Some("neutrophils")));
    let platelets = results.iter().map(|k| &k.result).find(|r| r.code == "PLT").expect("PLT");
    assert!(platelets.used_for.is_none(), "other units are not used");
    assert!(platelets.held_because.as_deref().is_some_and(|r| r.contains("not converted")), "{platelets:?}");

    let again = receive(&context, &feed, &oru("LAB1", &nhs_number, "10*6/L")).await;
    assert_eq!(ack_code(&again).0, "AA", "a resend is acknowledged again");
    assert_eq!(again.message_id, reply.message_id);
    assert_eq!(
        services::results::of_patient(&context, &viewer(), 1).await.expect("results").len(),
        2,
        "and applied once"
    );
}

#[tokio::test]
async fn what_cannot_be_applied_waits_in_the_error_queue_answered_ae() {
    let (_folder, context, _) = context_with_a_patient().await;
    let feed = FeedToken::for_account(&context, &listener()).expect("token");
    let stranger = receive(&context, &feed, &oru("LAB2", "9990000026", "10*9/L")).await;
    assert_eq!(ack_code(&stranger).0, "AE");
    let err = hl7::Message::parse(&stranger.acknowledgements[0]).expect("HL7");
    // A 2.4 message: ERR-1 is segment^sequence^field^code&text&HL70357.
    let eld = &err.segment("ERR").expect("ERR").field(1).expect("ERR-1").repetitions()[0];
    assert_eq!((eld.component(1), eld.0[3].0[0].as_str()), ("PID", "204"), "unknown key, in PID");
    let broken =
        receive(&context, &feed, "MSH|^~\\&|LIMS|RXX-PATH|||20261130||ORU^R01|LAB3|P|2.4\rpid|bad").await;
    assert_eq!(ack_code(&broken).0, "AE", "unreadable past its header");
    let queue = services::interface::errors(&context, &feed, 50).await.expect("queue");
    let ids: Vec<&str> = queue.iter().map(|m| m.key.control_id.as_str()).collect();
    assert_eq!(ids, ["LAB2", "LAB3"]);
    assert!(
        services::results::of_patient(&context, &viewer(), 1).await.expect("results").is_empty(),
        "nothing filed"
    );
    // A sender that asks for no acknowledgement gets none, but its header was read:
    // the listener must not take it for an unreadable message and drop the connection.
    let quiet =
        oru("LAB4", "9990000026", "10*9/L").replacen("ORU_R01|LAB4|P|2.4", "ORU_R01|LAB4|P|2.4|||NE|NE", 1);
    let unanswered = receive(&context, &feed, &quiet).await;
    assert!(unanswered.acknowledgements.is_empty() && !unanswered.unreadable, "{unanswered:?}");
    let garbage = receive(&context, &feed, "not an HL7 message").await;
    assert!(garbage.unreadable && garbage.acknowledgements.is_empty());
    let resent = receive(&context, &feed, &oru("LAB2", "9990000026", "10*9/L")).await;
    assert_eq!(ack_code(&resent).0, "AE", "a resend of a message in error is answered as before");
}

#[tokio::test]
async fn only_the_named_interface_account_receives_for_a_site_that_names_one() {
    let (_folder, context, _) = context_with_a_patient().await;
    let mut settings = context.settings().clone();
    settings.interface_account = Some("cws-hl7".into());
    // The site names its account: another is refused, the named one is not.
    let site = context.clone().with_settings(settings);
    assert!(FeedToken::for_account(&site, &listener()).is_err());
    let account = Actor { user: "cws-hl7".into(), workstation: "ws1".into() };
    assert!(FeedToken::for_account(&site, &account).is_ok());
}

fn adt(event: &str, control_id: &str, at: &str, pid3: &str, name: &str, pv1_3: &str) -> String {
    format!(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}|{control_id}|P|2.4\r\
         EVN|{event}|{at}\r\
         PID|||{pid3}||{name}||19580303|F\r\
         PV1||I|{pv1_3}"
    )
}

fn board(beds: &[services::beds::BoardBed]) -> Vec<String> {
    beds.iter()
        .map(|b| {
            let who = b.patient.as_ref().map(|p| p.details.family_name.clone()).unwrap_or_default();
            format!("{}/{} {} {who}", b.location.ward, b.location.bed, b.state.code()).trim().to_owned()
        })
        .collect()
}

/// A day on the ward: admitted, transferred, a late message that must not move
/// the patient back, a cancelled transfer, a discharge and its cancellation,
/// an update of the name, and a merge.
#[tokio::test]
async fn the_ward_follows_the_feed_forwards_only_and_cancellations_undo_exactly() {
    let (_folder, context, first_patient) = context_with_a_patient().await;
    let feed = FeedToken::for_account(&context, &listener()).expect("token");
    let send = |text: String| {
        let (context, feed) = (context.clone(), feed.clone());
        async move { ack_code(&receive(&context, &feed, &text).await).0 }
    };
    let newcomer = "9990000107^^^NHS^NH~RXX77^^^RXX^PI";
    assert_eq!(
        send(adt("A01", "A1", "202611300900", newcomer, "OAKAPPLE^Ada", "WARD7^BAY1^BED3")).await,
        "AA"
    );
    let beds = services::beds::board(&context, &viewer()).await.expect("board");
    assert_eq!(board(&beds), ["WARD7/BED3 O OAKAPPLE"], "admitted, and added to the index");

    assert_eq!(
        send(adt("A02", "A2", "202611301100", newcomer, "OAKAPPLE^Ada", "WARD9^BAY2^BED5")).await,
        "AA"
    );
    assert_eq!(
        send(adt("A02", "A3", "202611301000", newcomer, "OAKAPPLE^Ada", "WARD8^BAY1^BED1")).await,
        "AA",
        "a late message is acknowledged"
    );
    let beds = services::beds::board(&context, &viewer()).await.expect("board");
    assert_eq!(
        board(&beds),
        ["WARD7/BED3 H", "WARD9/BED5 O OAKAPPLE"],
        "and moves nobody back: no WARD8 bed"
    );

    assert_eq!(
        send(adt("A12", "A4", "202611301110", newcomer, "OAKAPPLE^Ada", "WARD7^BAY1^BED3")).await,
        "AA"
    );
    let beds = services::beds::board(&context, &viewer()).await.expect("board");
    assert_eq!(board(&beds), ["WARD7/BED3 O OAKAPPLE", "WARD9/BED5 U"], "the transfer undone");

    assert_eq!(
        send(adt("A03", "A5", "202611301500", newcomer, "OAKAPPLE^Ada", "WARD7^BAY1^BED3")).await,
        "AA"
    );
    assert_eq!(board(&services::beds::board(&context, &viewer()).await.expect("board"))[0], "WARD7/BED3 H");
    assert_eq!(
        send(adt("A13", "A6", "202611301510", newcomer, "OAKAPPLE^Ada", "WARD7^BAY1^BED3")).await,
        "AA"
    );
    assert_eq!(
        board(&services::beds::board(&context, &viewer()).await.expect("board"))[0],
        "WARD7/BED3 O OAKAPPLE"
    );
    assert_eq!(
        send(adt("A13", "A7", "202611301520", newcomer, "OAKAPPLE^Ada", "WARD7^BAY1^BED3")).await,
        "AE",
        "no discharge left to cancel"
    );

    assert_eq!(
        send(adt("A08", "A8", "202611301600", newcomer, "OAKAPPLE-SMITH^Ada", "WARD7^BAY1^BED3")).await,
        "AA"
    );
    assert_eq!(
        board(&services::beds::board(&context, &viewer()).await.expect("board"))[0],
        "WARD7/BED3 O OAKAPPLE-SMITH"
    );

    // The first patient's results, then a merge of that patient into the newcomer.
    let lab = receive(&context, &feed, &oru("LAB9", &first_patient, "10*9/L")).await;
    assert_eq!(ack_code(&lab).0, "AA");
    let merge = format!(
        "MSH|^~\\&|PAS|RXX01|||202611301700||ADT^A40^ADT_A39|A9|P|2.4\rEVN|A40|202611301700\r\
         PID|||9990000107^^^NHS^NH||OAKAPPLE-SMITH^Ada||19580303|F\rMRG|{first_patient}^^^NHS^NH"
    );
    assert_eq!(send(merge).await, "AA");
    let survivor = 2;
    assert_eq!(
        services::results::of_patient(&context, &viewer(), survivor).await.expect("results").len(),
        2,
        "the results moved"
    );
    assert!(services::results::of_patient(&context, &viewer(), 1).await.expect("results").is_empty());
    let itself = "MSH|^~\\&|PAS|RXX01|||202611301800||ADT^A40|A10|P|2.4\rEVN|A40|202611301800\r\
         PID|||9990000107^^^NHS^NH||OAKAPPLE-SMITH^Ada||19580303|F\rMRG|9990000107^^^NHS^NH"
        .to_owned();
    assert_eq!(send(itself).await, "AE", "a merge into itself is refused");
}

/// A nurse may see a patient admitted to one of their wards, or put on their own
/// list with a reason; not another ward's patient, and not once taken off.
#[tokio::test]
async fn a_legitimate_relationship_comes_from_the_ward_or_the_patient_list() {
    let (_folder, context, first_patient) = context_with_a_patient().await;
    let feed = FeedToken::for_account(&context, &listener()).expect("token");
    let admitted = receive(
        &context,
        &feed,
        &adt(
            "A01",
            "R1",
            "202611300900",
            &format!("{first_patient}^^^NHS^NH"),
            "QUILLFEATHER^Ada",
            "WARD7^BAY1^BED3",
        ),
    )
    .await;
    assert_eq!(ack_code(&admitted).0, "AA");
    let nurse = "555000000003";
    let admin = acting_as("555000000009", Permission::ManageUsers);
    services::relationships::set_wards(&context, &admin, nurse, &["WARD7".to_owned()]).await.expect("wards");
    let as_nurse = acting_as(nurse, Permission::ViewPatients);
    assert_eq!(
        services::relationships::with_patient(&context, &as_nurse, 1).await.expect("check"),
        Some(store::Relationship::Ward("WARD7".into()))
    );
    let other = acting_as("555000000005", Permission::ViewPatients);
    assert_eq!(services::relationships::with_patient(&context, &other, 1).await.expect("check"), None);
    services::relationships::add_to_list(&context, &other, 1, "covering WARD7 tonight").await.expect("added");
    assert_eq!(
        services::relationships::with_patient(&context, &other, 1).await.expect("check"),
        Some(store::Relationship::PatientList("covering WARD7 tonight".into()))
    );
    assert_eq!(services::relationships::list(&context, &other).await.expect("list").len(), 1);
    services::relationships::remove_from_list(&context, &other, 1).await.expect("removed");
    assert_eq!(services::relationships::with_patient(&context, &other, 1).await.expect("check"), None);
    let refused = services::relationships::set_wards(&context, &as_nurse, nurse, &[]).await;
    assert!(refused.is_err(), "only someone who manages users sets wards");
}

/// The hl7 crate's byte-level corpus, each message received by the interface
/// on a real store: answered (or, with no readable header, not), never a
/// panic; the patient already held is untouched and the audit chain intact.
#[tokio::test]
async fn the_byte_corpus_is_answered_and_leaves_the_store_whole() {
    let (_folder, context, nhs_number) = context_with_a_patient().await;
    let feed = FeedToken::for_account(&context, &listener()).expect("token");
    let folder = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hl7/tests/corpus");
    let mut answered = 0;
    for entry in std::fs::read_dir(&folder).expect("the corpus") {
        let path = entry.expect("an entry").path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
        let reply = receive(&context, &feed, &text).await;
        if !reply.unreadable {
            answered += 1;
            for ack in &reply.acknowledgements {
                hl7::Message::parse(ack)
                    .unwrap_or_else(|e| panic!("{}: our ACK is HL7: {e:?}", path.display()));
            }
        }
    }
    assert!(answered > 10, "{answered}");
    let query = patients::PatientQuery::NhsNumber(
        patients::NhsNumber::parse(&nhs_number, patients::NhsNumberPolicy { accept_test_range: true })
            .expect("number"),
    );
    let found = services::patients::search(&context, &viewer(), &query, 5).await.expect("search");
    assert_eq!(found.len(), 1, "the patient is there once");
    assert_eq!(found[0].display_name, "QUILLFEATHER, Ada", "and unchanged by anything in the corpus");
    let verdict = services::audit::verify(&context, &[]).await.expect("verify");
    assert!(format!("{verdict:?}").contains("Intact"), "{verdict:?}");
}

/// Transfers of one patient arriving on two connections at once, on each
/// backend: both are applied and answered AA (before, the second was planned on
/// a stay the first had moved, and answered AR), and the patient ends in the
/// bed of the latest event, the one bed occupied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_moving_one_patient_at_once_are_both_applied_on_both_backends() {
    let test = "two_connections_moving_one_patient_at_once_are_both_applied_on_both_backends";
    let backends = Backends::start(test).await;
    for (backend, context) in backends.contexts() {
        let feed = FeedToken::for_account(&context, &listener()).expect("token");
        let message = |event: &str, id: &str, minute: u32, bed: u32| {
            format!(
                "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|20261201{:02}{:02}00||ADT^{event}^ADT_A01|{id}|P|2.4\rEVN|{event}|20261201{:02}{:02}00\r\
                 PID|||9990005133^^^NHS^NH||JULIETFICTION^Jo||19800808|F\rPV1||I|WARD7^BAY1^BED{bed}",
                8 + minute / 60,
                minute % 60,
                8 + minute / 60,
                minute % 60
            )
        };
        let admitted = receive(&context, &feed, &message("A01", "C0", 0, 1)).await;
        assert_eq!(ack_code(&admitted).0, "AA", "{backend}");
        for round in 0..8u32 {
            let (first, second) = (1 + 2 * round, 2 + 2 * round);
            let a = message("A02", &format!("C{first}"), first, first + 1);
            let b = message("A02", &format!("C{second}"), second, second + 1);
            let (one, two) = tokio::join!(receive(&context, &feed, &a), receive(&context, &feed, &b));
            assert_eq!(
                (ack_code(&one).0, ack_code(&two).0),
                ("AA".to_owned(), "AA".to_owned()),
                "{backend} round {round}"
            );
        }
        let board = services::beds::board(&context, &viewer()).await.expect("board");
        let occupied: Vec<&str> = board
            .iter()
            .filter(|b| b.state == adt::BedState::Occupied)
            .map(|b| b.location.bed.as_str())
            .collect();
        assert_eq!(occupied, ["BED17"], "{backend}: in the bed of the latest event, and only there");
        context.close().await;
    }
}

/// A patient the PAS sends with an NHS number that fails its check, on each
/// backend: admitted and kept by hospital number with the number flagged (their
/// bed shows them, never free), found by hospital number, and given their NHS
/// number when the PAS corrects it (A08). A later failing number never takes a
/// valid one away, and a hospital number held with another NHS number is
/// refused rather than guessed between.
#[tokio::test]
async fn a_patient_whose_nhs_number_fails_its_check_is_kept_by_hospital_number_and_flagged_on_both_backends()
{
    let test =
        "a_patient_whose_nhs_number_fails_its_check_is_kept_by_hospital_number_and_flagged_on_both_backends";
    let backends = Backends::start(test).await;
    for (backend, context) in backends.contexts() {
        let feed = FeedToken::for_account(&context, &listener()).expect("token");
        let send = |text: String| {
            let (context, feed) = (context.clone(), feed.clone());
            async move { ack_code(&receive(&context, &feed, &text).await) }
        };
        // 999 000 0107 is valid; 999 000 0108 fails its check digit.
        let failing = "9990000108^^^NHS^NH~RXX55^^^RXX^PI";
        let admitted =
            send(adt("A01", "F1", "202611300900", failing, "MISCOUNT^Mo", "WARD7^BAY1^BED2")).await;
        assert_eq!(admitted.0, "AA", "{backend}: kept, not refused: {admitted:?}");
        let beds = services::beds::board(&context, &viewer()).await.expect("board");
        assert_eq!(board(&beds), ["WARD7/BED2 O MISCOUNT"], "{backend}: the bed shows them");
        let occupant = beds[0].patient.clone().expect("occupant");
        assert_eq!(occupant.details.nhs_number, None, "{backend}");
        assert_eq!(occupant.details.nhs_number_failing_check.as_deref(), Some("9990000108"), "{backend}");
        assert_eq!(
            occupant.details.nhs_number_flag().as_deref(),
            Some("No valid NHS number (received 9990000108, which fails the check): hospital no. RXX55"),
            "{backend}"
        );
        let by_mrn =
            services::patients::search(&context, &viewer(), &patients::PatientQuery::Mrn("RXX55".into()), 5)
                .await
                .expect("search");
        assert_eq!(by_mrn.len(), 1, "{backend}: found by hospital number");
        assert!(by_mrn[0].nhs_number_flag.is_some(), "{backend}: and flagged in the search results");

        let moved = send(adt("A02", "F2", "202611301000", failing, "MISCOUNT^Mo", "WARD7^BAY1^BED3")).await;
        assert_eq!(moved.0, "AA", "{backend}: later events find them by hospital number");

        let corrected = "9990000107^^^NHS^NH~RXX55^^^RXX^PI";
        let updated =
            send(adt("A08", "F3", "202611301100", corrected, "MISCOUNT^Mo", "WARD7^BAY1^BED3")).await;
        assert_eq!(updated.0, "AA", "{backend}: {updated:?}");
        let held = services::patients::open(&context, &viewer(), occupant.id).await.expect("read").details;
        assert_eq!(
            held.nhs_number.map(|n| n.digits()).as_deref(),
            Some("9990000107"),
            "{backend}: corrected"
        );
        assert_eq!(held.nhs_number_failing_check, None, "{backend}: the flag is gone");

        let downgraded =
            send(adt("A08", "F4", "202611301200", failing, "MISCOUNT^Mo", "WARD7^BAY1^BED3")).await;
        assert_eq!(downgraded.0, "AE", "{backend}: a failing number never replaces a valid one");
        let held = services::patients::open(&context, &viewer(), occupant.id).await.expect("read").details;
        assert_eq!(
            held.nhs_number.map(|n| n.digits()).as_deref(),
            Some("9990000107"),
            "{backend}: unchanged"
        );

        let other = "9990000115^^^NHS^NH~RXX55^^^RXX^PI";
        let clash = send(adt("A01", "F5", "202611301300", other, "OTHERSON^Ole", "WARD7^BAY1^BED4")).await;
        assert_eq!(clash.0, "AE", "{backend}: the hospital number is held with another NHS number");
        let neither =
            send(adt("A01", "F6", "202611301300", "9990000108^^^NHS^NH", "NOBODY^Nell", "WARD7^BAY1^BED5"))
                .await;
        assert_eq!(neither.0, "AE", "{backend}: a failing NHS number and no hospital number cannot be kept");
        let beds = services::beds::board(&context, &viewer()).await.expect("board");
        assert_eq!(
            board(&beds).into_iter().filter(|b| b.contains(" O ")).collect::<Vec<_>>(),
            ["WARD7/BED3 O MISCOUNT"],
            "{backend}: the refused admissions placed no one"
        );
        context.close().await;
    }
}

/// A local store and, where PostgreSQL runs (always under CI), a shared one,
/// each with the interface account named: for the tests that run on both.
struct Backends {
    _server: Option<test_services::Postgres>,
    _folder: tempfile::TempDir,
    stores: Vec<(&'static str, Store)>,
}

impl Backends {
    async fn start(test: &str) -> Self {
        let server = test_services::Postgres::start_or_skip(test);
        let folder = tempfile::tempdir().expect("folder");
        let mut stores = vec![(
            "local",
            Store::create_with_key(&folder.path().join("store.db"), StoreKey::generate().expect("key"))
                .await
                .expect("store"),
        )];
        if let Some(server) = &server {
            let database = store::SharedDatabase::parse(&server.url()).expect("a loopback URL");
            stores.push(("shared", Store::create_shared(&database).await.expect("created")));
        }
        Self { _server: server, _folder: folder, stores }
    }

    /// A context on each store; the servers and folders live as long as `self`.
    fn contexts(&self) -> Vec<(&'static str, Context)> {
        self.stores
            .iter()
            .map(|(backend, store)| {
                let mut settings = settings::Settings::fail_safe();
                settings.nhs_numbers = patients::NhsNumberPolicy { accept_test_range: true };
                settings.interface_account = Some(listener().user);
                (*backend, Context::with_store(store.clone(), settings, "ws1").expect("context"))
            })
            .collect()
    }
}
