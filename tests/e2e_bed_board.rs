//! The bed board in the real app follows the PAS's feed live: an admission
//! applied from a file (`cws adt replay`), then a transfer sent by a peer over
//! MLLP to `cws adt listen`, each shown without a reload.

mod support;

use support::RunningApp;

async fn type_into_field(app: &RunningApp, css: &str, text: &str) {
    app.wait_for(css).await.send_keys(text).await.expect("typed");
}

fn adt(event: &str, id: &str, at: &str, bed: &str) -> String {
    format!(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|{at}||ADT^{event}^ADT_{event}|{id}|P|2.4\r\
         EVN|{event}|{at}\rPID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada||19310202|F\rPV1||I|WARD7^BAY1^{bed}"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bed_board_changes_live_as_the_feed_admits_and_transfers_a_patient() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    app.alt('5').await;
    app.wait_for_text("main[data-page=beds] h1", "Bed board").await;

    let (applied, log) = app.replay_adt(&adt("A01", "E2E1", "202611300900", "BED3"));
    assert!(applied.contains("Applied 1 of 1"), "{applied}{log}");
    app.wait_for("button[data-bed='WARD7/BAY1/BED3'][data-state=O]").await;
    // The transfer comes from a peer over MLLP, to the listener.
    let listener = app.start_adt_listener();
    assert_eq!(listener.send(&adt("A02", "E2E2", "202611301000", "BED4")), "AA");
    app.wait_for("button[data-bed='WARD7/BAY1/BED4'][data-state=O]").await;
    app.wait_for("button[data-bed='WARD7/BAY1/BED3'][data-state=H]").await;
    app.wait_for_text_containing("[data-ward=WARD7] [data-testid=occupancy]", "1 of 2 open beds").await;
    app.screenshot("bed-board").await;

    // The laboratory's results for her arrive too.
    let (applied, _) = app.replay_adt(
        "MSH|^~\\&|LIMS|RXX-PATH|CLINWS|RXX01|202611301030||ORU^R01^ORU_R01|E2E3|P|2.4\r\
         PID|||9990000018^^^NHS^NH||QUILLFEATHER^Ada\r\
         OBR|1||S1|FBC^Full blood count|||202611300715\r\
         OBX|1|NM|NEUT^Neutrophils||1.4|10*9/L|2.0-7.5|L|||F\r\
         OBX|2|NM|PLT^Platelets||180|10*9/L|150-400|N|||F\r\
         OBX|3|NM|HB^Haemoglobin||11.2|g/dL|11.5-16.5|L|||F",
    );
    assert!(applied.contains("Applied 1 of 1"), "{applied}");

    // Enter on the occupied bed opens that patient, with her results, out-of-range ones marked.
    let bed = app.wait_for("button[data-bed='WARD7/BAY1/BED4']").await;
    bed.send_keys("\u{E007}").await.expect("Enter");
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "999 000 0018").await;
    app.wait_for_text("[data-testid=patient-results] tr[data-code=NEUT] [data-testid=out-of-range]", "LOW")
        .await;
    let platelets = app.wait_for("[data-testid=patient-results] tr[data-code=PLT]").await;
    assert!(
        platelets.find(fantoccini::Locator::Css("[data-testid=out-of-range]")).await.is_err(),
        "180 is in range"
    );
    let haemoglobin =
        app.wait_for("[data-testid=patient-results] tr[data-code=HB]").await.text().await.expect("text");
    assert!(haemoglobin.contains("11.2") && haemoglobin.contains("LOW"), "{haemoglobin}");
    app.screenshot("patient-results").await;

    // Not on her wards: the doctor adds her to their own list, saying why, from the keyboard.
    app.wait_for_text_containing("[data-testid=relationship]", "Not on your wards or your list").await;
    type_into_field(&app, "#list-reason", "reviewing her as the oncology on-call").await;
    app.press("\u{E007}").await;
    app.wait_for_text_containing(
        "[data-testid=relationship]",
        "On your patient list: reviewing her as the oncology on-call",
    )
    .await;
    app.wait_for_text_containing("[data-testid=my-patient-list]", "reviewing her as the oncology on-call")
        .await;
    app.screenshot("patient-list").await;
    app.quit().await;
}

/// `make run`'s board: three wards of twenty beds from the demonstration day,
/// each drawn as its bays with its occupancy, on a 1366x768 screen.
#[tokio::test(flavor = "multi_thread")]
async fn the_demonstration_wards_are_drawn_bay_by_bay_with_their_occupancy() {
    let app = RunningApp::launch().await;
    let said = app.cws(&["demo", "ward-day"]);
    assert!(said.contains("71 ADT messages acknowledged"), "{said}");
    app.sign_in_as_prescriber().await;
    app.alt('5').await;
    app.wait_for_text("main[data-page=beds] h1", "Bed board").await;
    app.wait_for_text_containing("[data-ward=WARD7] [data-testid=occupancy]", "19 of 20").await;
    app.wait_for_text_containing("[data-ward=WARD9] [data-testid=occupancy]", "15 of 20").await;
    app.wait_for("button[data-bed='WARD9/SIDE2/SR2'][data-state=O]").await;
    let home = app.wait_for("button[data-bed='WARD7/BAY1/BED2'] [data-testid=expected-discharge]").await;
    assert!(home.text().await.expect("text").starts_with("Home "), "the day expected home is shown");
    app.screenshot("bed-board-ward-day").await;
    // Bed by bed from the keyboard, down and across as the beds are drawn (three to a row).
    let bed = app.wait_for("button[data-bed='WARD7/BAY1/BED2']").await;
    bed.send_keys("\u{E015}").await.expect("ArrowDown on the bed");
    assert_eq!(app.focused_attribute("data-bed").await.as_deref(), Some("WARD7/BAY1/BED5"));
    app.press("\u{E014}").await; // ArrowRight
    assert_eq!(app.focused_attribute("data-bed").await.as_deref(), Some("WARD7/BAY1/BED6"));
    app.press("\u{E013}").await; // ArrowUp
    assert_eq!(app.focused_attribute("data-bed").await.as_deref(), Some("WARD7/BAY1/BED3"));

    // The feed puts a second patient in an occupied bed: both are shown, the bed marked.
    let (applied, _) = app.replay_adt(
        "MSH|^~\\&|PAS|RXX01|CLINWS|RXX01|202612010900||ADT^A01^ADT_A01|E2E9|P|2.4\r\
         EVN|A01|202612010900\rPID|||9990005095^^^NHS^NH||HOTELFICTION^Hal||19600606|M\rPV1||I|WARD8^BAY1^BED2",
    );
    assert!(applied.contains("Applied 1 of 1"), "{applied}");
    app.wait_for("button[data-bed='WARD8/BAY1/BED2'].conflict [data-testid=also-claimed]").await;
    let warning = app.wait_for("button[data-bed='WARD8/BAY1/BED2'] [data-testid=also-claimed]").await;
    assert!(warning.text().await.expect("text").starts_with("Also admitted here:"));
    app.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
            vec!["button[data-bed='WARD8/BAY1/BED2']".into()],
        )
        .await
        .expect("scrolled");
    app.screenshot("bed-board-conflict").await;

    // A patient whose NHS number fails its check is in their bed, flagged, and
    // opening them puts the flag in the banner where the number would be.
    let flagged = app.wait_for("button[data-bed='WARD9/BAY1/BED1'] [data-testid=no-valid-nhs-number]").await;
    assert!(flagged.text().await.expect("text").contains("fails the check"), "flagged on the board");
    app.client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
            vec!["button[data-bed='WARD9/BAY1/BED1']".into()],
        )
        .await
        .expect("scrolled");
    app.screenshot("bed-board-no-valid-nhs-number").await;
    let bed = app.wait_for("button[data-bed='WARD9/BAY1/BED1'][data-state=O]").await;
    bed.send_keys("\u{E007}").await.expect("Enter on the bed");
    app.wait_for_text_containing("[data-testid=banner-no-valid-nhs-number]", "hospital no. DEMOX0001").await;
    app.wait_for_text_containing("[data-testid=banner-name]", "CHECKDIGIT").await;
    app.screenshot("patient-without-a-valid-nhs-number").await;

    // A bed manager (the nurse, manage_beds) marks a bed clean from the keyboard.
    app.sign_out().await;
    let nurse = app.wait_for("input[name=user][value='555000000003']").await;
    nurse.send_keys(" ").await.expect("the nurse is chosen");
    app.press("\u{E007}").await;
    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.alt('5').await;
    let bed = app.wait_for("button[data-bed='WARD7/BAY1/BED1'][data-state=H]").await;
    bed.send_keys("\u{E007}").await.expect("Enter on the bed");
    app.wait_for("[data-testid=mark-panel]").await;
    assert_eq!(
        app.focused_attribute("data-mark").await.as_deref(),
        Some("clean"),
        "the first action has focus"
    );
    app.screenshot("bed-board-mark").await;
    app.press("\u{E007}").await;
    app.wait_for("button[data-bed='WARD7/BAY1/BED1'][data-state=U]").await;
    assert_eq!(
        app.focused_attribute("data-bed").await.as_deref(),
        Some("WARD7/BAY1/BED1"),
        "back on the bed"
    );
    app.quit().await;
}
