//! Discharge summaries in the real app: the doctor opens a discharged patient
//! from the dashboard of discharges needing summaries, starts the summary from
//! the admission, and types it on the PRSB headings. The app is killed in the
//! middle of the typing and started again: the draft is there. Sign-off lists
//! what is missing, each a keyboard stop that goes to its field; the summary is
//! signed with the doctor's card and PIN, and the app's own sender delivers it
//! once to the GP practice over SMTP (aiosmtpd, STARTTLS), the signed PDF
//! attached, and over MESH (mesh-sandbox) in its ITK3 message, which the
//! practice's system answers; the answers show on the summary's sends.
//! Screenshots of each screen go to target/screenshots.

mod support;

use std::time::{Duration, Instant};

use support::{ENTER, RunningApp, TAB};
use test_services::{MESH_PASSWORD, MESH_SHARED_KEY, MeshSandbox, SMTP_ACCOUNT, SmtpServer};

async fn sign_in_with(app: &RunningApp, card: &str, pin: &str) {
    let choice = app.wait_for(&format!("input[name=card][data-label='{card}']")).await;
    choice.send_keys(" ").await.expect("the card is chosen");
    app.wait_for("#pin").await.send_keys(pin).await.expect("PIN typed");
    app.press(ENTER).await;
    app.wait_for_text("[data-testid=header-user]", "ONCOLOGY, Olive (Dr)").await;
}

fn by_id(id: &str) -> String {
    format!("[id='{id}']")
}

async fn type_into(app: &RunningApp, id: &str, text: &str) {
    let field = app.wait_for(&by_id(id)).await;
    field.clear().await.expect("cleared");
    field.send_keys(text).await.expect("typed");
}

async fn value_of(app: &RunningApp, id: &str) -> String {
    app.wait_for(&by_id(id)).await.prop("value").await.expect("value").unwrap_or_default()
}

async fn open_patient(app: &RunningApp, nhs_number: &str) {
    app.alt('1').await;
    let query = app.wait_for("#patient-query").await;
    query.clear().await.expect("cleared");
    query.send_keys(nhs_number).await.expect("typed");
    app.press(ENTER).await;
    app.wait_for("button.result").await.click().await.expect("patient opened");
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 000 0018").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_summary_is_drafted_survives_a_crash_is_signed_with_the_card_and_reaches_the_gp_once() {
    let Some(smtp) = SmtpServer::start_or_skip("e2e discharge") else { return };
    let Some(mesh) = MeshSandbox::start_or_skip("e2e discharge") else { return };
    let settings = format!(
        "[site]\nname = \"Example Hospitals NHS Trust\"\nods_code = \"RX1\"\n\n\
         [discharge]\ngp_addresses = {{ Y99999 = \"gp.y99999@nhs.net\" }}\n\n\
         [discharge.smtp]\nhost = \"127.0.0.1\"\nport = {}\naccount = {SMTP_ACCOUNT:?}\npassword_file = {:?}\nca = {:?}\ntimeout_seconds = 10\n\n\
         [discharge.mesh]\nurl = {:?}\nmailbox = \"X26ABC1\"\npassword_file = {:?}\nshared_key_file = {:?}\ntimeout_seconds = 10\n\
         gp_mailboxes = {{ Y99999 = \"X26ABC2\" }}\n",
        smtp.port(),
        smtp.password_file().to_string_lossy(),
        smtp.ca_certificate().to_string_lossy(),
        mesh.url(),
        mesh.secret_file("mesh-password", MESH_PASSWORD).to_string_lossy(),
        mesh.secret_file("mesh-shared-key", MESH_SHARED_KEY).to_string_lossy(),
    );
    let mut app =
        RunningApp::launch_with_cards_and_settings_traced(Box::leak(settings.into_boxed_str())).await;
    let discharged = chrono::Utc::now() - chrono::Duration::hours(3);
    let (admitted_at, discharged_at) =
        ((discharged - chrono::Duration::days(5)).format("%Y%m%d%H%M"), discharged.format("%Y%m%d%H%M"));
    let (applied, _) = app.replay_adt(&format!(
        "MSH|^~\\&|PAS|RX1|CWS|RX1|{admitted_at}||ADT^A01^ADT_A01|DIS1|P|2.4\rEVN|A01|{admitted_at}\r\
         PID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19310202|F\rPV1||I|WARD9^BAY1^BED2\r\n\
         MSH|^~\\&|PAS|RX1|CWS|RX1|{discharged_at}||ADT^A03^ADT_A03|DIS2|P|2.4\rEVN|A03|{discharged_at}\r\
         PID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19310202|F\rPV1||I|WARD9^BAY1^BED2\r\n"
    ));
    assert!(applied.contains("Applied 2 of 2"), "{applied}");

    // The dashboard: her discharge, 21 hours left, no summary yet; Enter opens her.
    sign_in_with(&app, "DEMO-PRESCRIBER", "1111").await;
    app.alt('4').await;
    let due = app.wait_for("[data-testid=due] button.due").await;
    app.wait_for_text_containing("[data-testid=due] button.due", "No summary started").await;
    assert!(due.text().await.expect("text").contains("20 h"), "about 21 hours left");
    app.screenshot("discharge-dashboard").await;
    due.send_keys(ENTER).await.expect("Enter opens her");
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 000 0018").await;

    // Started from her admission, on general medicine.
    app.wait_for("[data-testid=start-summary] button[type=submit]").await.click().await.expect("started");
    app.wait_for("[data-testid=summary-form]").await;
    assert_eq!(value_of(&app, "discharge_location").await, "WARD9", "prefilled from the stay");
    assert!(!value_of(&app, "discharged_at").await.is_empty(), "the discharge time prefilled");
    type_into(&app, "admission_reason", "Breathless, fever").await;
    type_into(&app, "text.clinical_summary", "Community-acquired pneumonia treated with amoxicillin").await;
    app.wait_for_text_containing("[data-testid=save-state]", "Saved at").await;
    app.screenshot("discharge-draft").await;

    // The app dies mid-draft and starts again: nothing typed before the save is lost.
    app.crash_and_reopen().await;
    sign_in_with(&app, "DEMO-PRESCRIBER", "1111").await;
    open_patient(&app, "9990000018").await;
    app.alt('4').await;
    app.wait_for("[data-testid=summary-form]").await;
    assert_eq!(
        value_of(&app, "text.clinical_summary").await,
        "Community-acquired pneumonia treated with amoxicillin"
    );
    assert_eq!(value_of(&app, "admission_reason").await, "Breathless, fever");

    // Sign-off lists everything still needed; each is reached by the keyboard.
    let needed = app.wait_for("[data-testid=still-needed] button").await;
    let target = needed.attr("data-target").await.expect("attribute").expect("a target");
    needed.send_keys(ENTER).await.expect("Enter goes to the field");
    assert_eq!(app.focused_attribute("id").await.as_deref(), Some(target.as_str()));
    app.screenshot("discharge-still-needed").await;

    for (id, text) in [
        ("admission_method", "21"),
        ("admission_source", "19"),
        ("discharging_consultant", "ONCOLOGY, Olive (Dr)"),
        ("discharge_method", "1"),
        ("discharge_destination", "19"),
        ("diagnoses.0.text", "Community acquired pneumonia"),
        ("diagnoses.0.code", "385093006"),
        ("text.plan_and_requested_actions", "GP: please repeat the chest X-ray in 6 weeks."),
        ("text.information_and_advice_given", "Return if breathless."),
    ] {
        type_into(&app, id, text).await;
    }
    app.wait_for(&by_id("allergies")).await.send_keys(" ").await.expect("no known drug allergies");
    app.wait_for(&by_id("text.information_and_advice_given"))
        .await
        .send_keys(TAB)
        .await
        .expect("leave the field");
    app.wait_for("[data-testid=nothing-needed]").await;

    // Signed with her card and PIN: the letter, and the app's sender delivers it.
    type_into(&app, "sign-pin", "1111").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=signed-by]", "Signed by").await;
    app.wait_for_text_containing(
        "[data-testid=letter]",
        "Community acquired pneumonia (SNOMED CT 385093006)",
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.messages().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.wait_for("[data-testid=sends] li[data-channel=smtp][data-status=delivered]").await;

    // The practice's system takes the MESH message and answers: both answers show on the send.
    app.wait_for("[data-testid=sends] li[data-channel=mesh][data-status=delivered]").await;
    let inbox = mesh.inbox("X26ABC2");
    assert_eq!(inbox.len(), 1, "one MESH message: {inbox:?}");
    mesh.respond_as_practice("X26ABC2", inbox[0]["id"].as_str().expect("id"), &["20013", "30001"]);
    app.wait_for_text_containing(
        "[data-testid=sends] li[data-channel=mesh][data-status=acknowledged]",
        "ITK3 business response 30001: Patient known here",
    )
    .await;
    app.screenshot("discharge-signed-letter").await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1, "delivered once");
    let text = String::from_utf8_lossy(&mail[0]).into_owned();
    let subject = text.lines().find(|l| l.starts_with("Subject: ")).unwrap_or_default().to_owned();
    assert!(subject.contains(", Ada, NHS number 999 000 0018"), "the subject names her: {subject}");

    // Off the dashboard once delivered.
    app.wait_for("button[data-view=due]").await.click().await.expect("dashboard");
    app.wait_for("[data-testid=due-none]").await;
    app.wait_for_text_containing("[data-testid=share-total]", "1 of 1 (100%) reached the GP within 24 hours")
        .await;
    app.screenshot("discharge-dashboard-after").await;

    // Signed, sent by SMTP and MESH, answered: at trace level, no log or other
    // file outside the store holds her name or NHS number.
    // The feed's messages the test itself wrote for `cws adt replay` are its input, not the app's output.
    for file in app.files_outside_the_store().into_iter().filter(|f| !f.ends_with("replay.hl7")) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        for part in ["MARCHBANKS", "Marchbanks", "QUILLFEATHER", "9990000018", "999 000 0018"] {
            assert!(!text.contains(part), "{} holds {part:?}", file.display());
        }
    }
    assert!(app.log().contains("TRACE"), "the app's log was captured at trace level, so the scan read it");
}
