//! The real app on a shared PostgreSQL store, as a trust's workstations run:
//! sign in with a card, and find and open a patient that `cws`, another
//! process (another workstation, in effect), added to the same store.

mod support;

use support::{ENTER, RunningApp};

#[tokio::test(flavor = "multi_thread")]
async fn on_a_shared_store_the_app_opens_a_patient_another_process_added() {
    let Some(app) = RunningApp::launch_with_cards_on_shared_store(
        "on_a_shared_store_the_app_opens_a_patient_another_process_added",
    )
    .await
    else {
        return;
    };
    let status: serde_json::Value =
        serde_json::from_str(&app.cws(&["store", "status", "--json"])).expect("status as JSON");
    assert_eq!(status["backend"], "shared PostgreSQL", "{status}");

    let choice = app.wait_for("input[name=card][data-label='DEMO-PRESCRIBER']").await;
    choice.send_keys(" ").await.expect("the card is chosen");
    app.wait_for("#pin").await.send_keys("1111").await.expect("PIN typed");
    app.press(ENTER).await;
    app.wait_for_text("main[data-page=patients] h1", "Find patient").await;

    let patient = r#"{"nhs_number":"9997770005","family_name":"Crossprocess","given_name":"Petunia","date_of_birth":"1961-04-01","sex":"female"}"#;
    app.cws_as_card_holder(
        &["patient", "add", "--stdin", "--card", "DEMO-NURSE", "--pin-stdin"],
        &format!("3333\n{patient}\n"),
    );

    app.wait_for("#patient-query").await.send_keys("crossproc").await.expect("typing");
    app.press(ENTER).await;
    app.wait_for_text_containing("[role=status]", "found").await;
    let found = app.wait_for("button.result").await;
    assert!(found.text().await.expect("a result").contains("CROSSPROCESS, Petunia"));
    found.send_keys(ENTER).await.expect("Enter opens");
    app.wait_for_text_containing("[data-testid=banner-name]", "CROSSPROCESS, Petunia").await;
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 777 0005").await;
    app.screenshot("shared-store-patient").await;
    app.quit().await;
}
