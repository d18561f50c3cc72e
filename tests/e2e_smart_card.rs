//! Signing in with a smart card in the real app, and pulling it out: the
//! screen locks with no patient data on it, and another card ends the session. The time from removal to the lock
//! screen is measured and written to target/measurements, not asserted.

mod support;

use std::time::{Duration, Instant};

use support::{ENTER, RunningApp, TAB};

const ARROW_DOWN: &str = "\u{E015}";

async fn sign_in_with(app: &RunningApp, card: &str, pin: &str) {
    let choice = app.wait_for(&format!("input[name=card][data-label='{card}']")).await;
    choice.send_keys(" ").await.expect("the card is chosen");
    let pin_box = app.wait_for("#pin").await;
    pin_box.send_keys(pin).await.expect("PIN typed");
    app.press(ENTER).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pulling_the_card_locks_the_screen_with_no_patient_data_left() {
    let app = RunningApp::launch_with_cards().await;
    app.wait_for_text("#sign-in-heading", "Sign in").await;
    app.wait_for("input[name=card]:checked").await;
    assert_eq!(
        app.focused_attribute("name").await.as_deref(),
        Some("card"),
        "with several cards present, focus starts on the card list, not the PIN"
    );
    sign_in_with(&app, "DEMO-PHARMACIST", "2222").await;
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;

    let query = app.wait_for("#patient-query").await;
    query.send_keys("quill").await.expect("typing");
    app.press(ENTER).await;
    app.wait_for("button.result").await;
    app.press(ARROW_DOWN).await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=banner-name]", "QUILLFEATHER").await;

    // A card leaving a PC/SC reader that does not hold the session's card locks nothing.
    let other_card = app.insert_reader_card();
    app.wait_for_log("a card arrived in a PC/SC reader").await;
    other_card.remove();
    app.wait_for_log("a card left a PC/SC reader").await;
    // A round trip through a session-checked command (the pharmacy queue) after the
    // watcher has heard the removal: the session is still open, the patient still shown.
    app.alt('2').await;
    app.wait_for_text("main[data-page=chemotherapy] h1", "Chemotherapy").await;
    app.wait_for_text_containing("[data-testid=queue-heading]", "Awaiting verification (0)").await;
    app.wait_for_text_containing("[data-testid=banner-name]", "QUILLFEATHER").await;

    let pulled = Instant::now();
    app.remove_card("DEMO-PHARMACIST");
    app.wait_for("[data-testid=lock-screen]").await;
    let removal_to_lock = pulled.elapsed();
    app.screenshot("locked").await;

    let page = app.client.source().await.expect("page source");
    assert!(!page.to_uppercase().contains("QUILLFEATHER"), "no patient data on the lock screen");
    assert!(page.contains("Your smart card was removed"), "the lock screen says why");

    // Another card on the locked session ends the pharmacist's session; nothing of theirs carries over.
    sign_in_with(&app, "DEMO-NURSE", "3333").await;
    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.wait_for_text("[data-testid=patient-banner]", "No patient selected").await;

    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    let lines: Vec<&str> = audit.lines().collect();
    let has = |actor: &str, action: &str, outcome: &str| {
        lines.iter().any(|l| {
            l.contains(&format!(",{actor},")) && l.contains(&format!(",{action},")) && l.contains(outcome)
        })
    };
    assert!(has("555000000002", "session.login", "ok"), "login audited with the user id:\n{audit}");
    assert!(has("555000000002", "patient.read", "ok"), "the patient read is attributed to the card holder");
    assert!(has("555000000002", "session.lock", "CardRemoved"), "the lock is audited");
    assert!(
        has("555000000003", "session.replace", "ok") && audit.contains("user:555000000002"),
        "the second card ending the session is audited, naming whose session it ended"
    );

    let folder = support::screenshot_folder().with_file_name("measurements");
    std::fs::create_dir_all(&folder).expect("measurement folder");
    std::fs::write(folder.join("removal-to-lock-ms.txt"), format!("{}\n", removal_to_lock.as_millis()))
        .expect("written");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alt_l_locks_at_once_and_the_same_card_and_pin_unlock() {
    let app = RunningApp::launch_with_cards().await;
    sign_in_with(&app, "DEMO-PHARMACIST", "2222").await;
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;

    app.alt('l').await;
    app.wait_for("[data-testid=lock-screen]").await;
    app.wait_for_text_containing("[data-testid=lock-screen] p", "The screen was locked.").await;
    // The session's own card is offered first, though another card sorts before it.
    let chosen = app.wait_for("input[name=card]:checked").await;
    assert_eq!(chosen.attr("data-label").await.expect("label").as_deref(), Some("DEMO-PHARMACIST"));
    app.wait_for_text("[data-testid=lock-screen] button[type=submit]", "Unlock").await;
    app.screenshot("locked-by-user").await;

    let pin_box = app.wait_for("#pin").await;
    pin_box.send_keys("2222").await.expect("PIN typed");
    app.press(ENTER).await;
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;

    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    let has = |action: &str, outcome: &str| {
        audit.lines().any(|l| l.contains(",555000000002,") && l.contains(action) && l.contains(outcome))
    };
    assert!(has(",session.lock,", "UserLocked"), "the lock is audited:\n{audit}");
    assert!(has(",session.unlock,", "ok"), "the unlock is audited:\n{audit}");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_pin_is_refused_and_the_right_one_signs_in() {
    let app = RunningApp::launch_with_cards().await;
    sign_in_with(&app, "DEMO-NURSE", "9999").await;
    app.wait_for_text_containing("[data-testid=sign-in-error]", "The PIN is wrong").await;
    app.screenshot("card-sign-in").await;
    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    let nurse_card = app.wait_for("input[name=card][data-label='DEMO-NURSE']").await;
    let serial = nurse_card.attr("value").await.expect("value").expect("the card's serial");
    assert!(
        audit
            .lines()
            .any(|l| l.contains(&format!("card:{serial}")) && l.contains("refused: the PIN is wrong")),
        "the refusal names the card by serial:\n{audit}"
    );
    let pin_box = app.wait_for("#pin").await;
    pin_box.send_keys("3333").await.expect("PIN typed");
    app.press(ENTER).await;
    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.wait_for_text_containing("[data-testid=header-role]", "Chemotherapy nurse").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_user_cannot_sign_in_even_with_the_right_pin() {
    let app = RunningApp::launch_with_cards().await;
    app.cws(&["user", "disable", "555000000004"]);
    sign_in_with(&app, "DEMO-WARD-DOCTOR", "4444").await;
    app.wait_for_text_containing(
        "[data-testid=sign-in-error]",
        "not enrolled at this workstation, or has been disabled",
    )
    .await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_cards_no_one_signs_in_even_by_calling_the_command() {
    let app = RunningApp::launch_unconfigured().await;
    app.wait_for_text_containing("[role=alert]", "Smart-card sign-in is not set up on this workstation")
        .await;
    assert!(
        app.client.find(fantoccini::Locator::Css("input[name=user]")).await.is_err(),
        "no staff to choose"
    );
    app.screenshot("sign-in-not-set-up").await;

    // The UI offers nothing; calling the command directly is refused in Rust too.
    let answer = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('sign_in', { userId: '555000000001' })
               .then((ok) => done({ ok }), (error) => done({ error }));",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(answer["error"]["code"], "card.unavailable", "{answer}");
    let state = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('session_state').then(done, done);",
            vec![],
        )
        .await
        .expect("script ran");
    assert_eq!(state["state"], "signed_out", "{state}");

    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        audit.lines().any(|l| l.contains(",demo:555000000001,")
            && l.contains("session.login")
            && l.contains("refused")),
        "the attempt is audited:\n{audit}"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_that_cannot_be_used_stop_card_sign_in_and_say_why() {
    let app = RunningApp::launch_with_cards_and_settings("[session]\ninactivity_lock_seconds = 0\n").await;
    app.wait_for_text_containing("[role=alert]", "Card sign-in is unavailable").await;
    app.wait_for_text_containing("[role=alert]", "session.inactivity_lock_seconds").await;
    assert!(
        app.client.find(fantoccini::Locator::Css("input[name=card]")).await.is_err(),
        "no card is offered while the settings are wrong"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_keeps_the_session_open_and_thirty_idle_seconds_lock_it() {
    let app = RunningApp::launch_with_cards_and_settings("[session]\ninactivity_lock_seconds = 30\n").await;
    sign_in_with(&app, "DEMO-PRESCRIBER", "1111").await;
    app.wait_for_text("[data-testid=header-user]", "ONCOLOGY, Olive (Dr)").await;

    // Forty seconds of keyboard work that calls no command: the lock waits.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(8)).await;
        app.press(TAB).await;
    }
    assert!(
        app.client.find(fantoccini::Locator::Css("[data-testid=lock-screen]")).await.is_err(),
        "someone typing is not locked out"
    );

    // Then nothing: the screen locks about thirty seconds after the last key.
    app.wait_for_within("[data-testid=lock-screen]", Duration::from_secs(45)).await;
    app.wait_for_text_containing("[data-testid=lock-screen] p", "The workstation was idle.").await;
    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        audit.lines().any(|l| l.contains(",555000000001,")
            && l.contains(",session.lock,")
            && l.contains("Inactivity")),
        "the inactivity lock is audited:\n{audit}"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_screen_locks_as_the_machine_goes_to_sleep() {
    let app = RunningApp::launch_with_cards().await;
    sign_in_with(&app, "DEMO-NURSE", "3333").await;
    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.wait_for_log("the session locks whenever the machine goes to sleep").await;

    app.machine_goes_to_sleep();
    app.wait_for("[data-testid=lock-screen]").await;
    app.wait_for_text_containing("[data-testid=lock-screen] p", "The workstation went to sleep.").await;
    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains(",555000000003,") && l.contains(",session.lock,") && l.contains("Sleep")),
        "the lock is audited:\n{audit}"
    );
    app.quit().await;
}

/// A patient's record still on its way from a busy store when the card is
/// pulled and another person signs in never reaches the new person's screen.
#[tokio::test(flavor = "multi_thread")]
async fn a_patient_answer_delayed_across_a_card_swap_never_reaches_the_next_user() {
    let app = RunningApp::launch_with_cards().await;
    sign_in_with(&app, "DEMO-PHARMACIST", "2222").await;
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;
    let query = app.wait_for("#patient-query").await;
    query.send_keys("quill").await.expect("typing");
    app.press(ENTER).await;
    app.wait_for("button.result").await;

    let mut writer = app.hold_the_store_busy().await;
    app.press(ARROW_DOWN).await;
    app.press(ENTER).await; // opens the patient: the store is busy, so the answer waits
    app.remove_card("DEMO-PHARMACIST");
    app.wait_for("[data-testid=lock-screen]").await;
    assert!(
        !app.log().contains("a session event could not be audited"),
        "the lock screen came first; the lock's audit still waits for the busy store"
    );
    sign_in_with(&app, "DEMO-NURSE", "3333").await;
    sqlx::raw_sql("ROLLBACK").execute(&mut writer).await.expect("the store is free again");

    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.wait_for_text("[data-testid=patient-banner]", "No patient selected").await;
    let refusal = |audit: &str| {
        audit.lines().any(|l| {
            l.contains(",555000000002,") && l.contains("session changed while the answer was fetched")
        })
    };
    for _ in 0..50 {
        if refusal(&app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"])) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(refusal(&audit), "the late answer was refused in Rust, and that is audited:\n{audit}");
    let page = app.client.source().await.expect("page source");
    assert!(
        !page.to_uppercase().contains("QUILLFEATHER"),
        "the pharmacist's patient is nowhere on the nurse's screen"
    );
    app.wait_for_text("[data-testid=patient-banner]", "No patient selected").await;
    app.quit().await;
}
