//! SACT in the real app, card by card: the prescriber prescribes cycle 2 of
//! R-CHOP-21 and cannot verify it; the pharmacist verifies and releases it; the
//! nurse records a drug given, witnessed by a second nurse's card and PIN at
//! the same workstation. Screenshots of each screen go to target/screenshots.

mod support;

use support::{ENTER, RunningApp};

async fn sign_in_with(app: &RunningApp, card: &str, pin: &str) {
    let choice = app.wait_for(&format!("input[name=card][data-label='{card}']")).await;
    choice.send_keys(" ").await.expect("the card is chosen");
    app.wait_for("#pin").await.send_keys(pin).await.expect("PIN typed");
    app.press(ENTER).await;
}

async fn type_into(app: &RunningApp, css: &str, text: &str) {
    let field = app.wait_for(css).await;
    field.clear().await.expect("cleared");
    field.send_keys(text).await.expect("typed");
}

/// Sets a date or time input as a person picking from it would, for inputs
/// WebKitWebDriver cannot type into.
async fn set_value(app: &RunningApp, css: &str, value: &str) {
    let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));";
    app.client.execute(script, vec![css.into(), value.into()]).await.expect("value set");
}

async fn click(app: &RunningApp, css: &str) {
    app.wait_for(css).await.click().await.expect("clicked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cycle_is_prescribed_verified_released_and_given_with_each_persons_card() {
    let app = RunningApp::launch_with_cards().await;
    let seeded: serde_json::Value =
        serde_json::from_str(&app.add_demo_courses_json()).expect("cws demo courses --json");
    let patient = seeded["patients"]["cycle_2_due"].as_str().expect("the patient due cycle 2").to_owned();

    // The prescriber first sees a patient near doxorubicin's lifetime limit, counted
    // from doses given at the regional centre and the reduced dose now prescribed.
    sign_in_with(&app, "DEMO-PRESCRIBER", "1111").await;
    app.wait_for_text("[data-testid=header-user]", "ONCOLOGY, Olive (Dr)").await;
    let near_limit = seeded["patients"]["near_lifetime_limit"].as_str().expect("the patient near the limit");
    type_into(&app, "#patient-query", near_limit).await;
    app.press(ENTER).await;
    app.wait_for("button.result").await.click().await.expect("patient opened");
    app.alt('2').await;
    click(&app, "button[data-view=patient]").await;
    app.wait_for_text_containing(
        "[data-testid=lifetime-chart] text[data-drug=doxorubicin]",
        "390 of 450 mg/m² given (86.7%); 45 prescribed brings it to 96.7%",
    )
    .await;
    app.screenshot("sact-lifetime-chart").await;

    // Then opens the patient due cycle 2 and prescribes it from the prefilled, dated measurements.
    app.alt('1').await;
    type_into(&app, "#patient-query", &patient).await;
    app.press(ENTER).await;
    app.wait_for("button.result").await.click().await.expect("patient opened");
    app.alt('2').await;
    click(&app, "button[data-view=patient]").await;
    app.wait_for("[data-testid=cycle-history] tr[data-cycle='1'][data-state=administered]").await;
    assert!(
        app.client.find(fantoccini::Locator::Css("button[data-view=queue]")).await.is_err(),
        "no pharmacy queue for a prescriber"
    );
    click(&app, "[data-testid=prescribe-next-button]").await;
    app.wait_for_text_containing("[data-testid=prefilled-from]", "Prefilled from cycle 1").await;
    // No laboratory results within the window yet: the prescriber is told, not shown nothing.
    app.wait_for_text_containing("[data-testid=latest-results]", "none yet within the window").await;
    // Three weeks old on the treatment day: stale, and the screen asks for an answer before it is used.
    app.wait_for_text_containing("[data-testid=stale-measurements]", "days old on the treatment day").await;
    app.screenshot("sact-stale-measurements").await;
    type_into(&app, "#weight_kg", "75.5").await;
    set_value(&app, "#measured_on", &chrono::Local::now().format("%Y-%m-%d").to_string()).await;
    // Enter calculates first: the doses, their derivations and warnings, read before signing.
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=prescribe-preview] [data-testid=dose-summary]", "R-CHOP-21")
        .await;
    type_into(&app, "#prescribe-pin", "1111").await;
    app.screenshot("sact-prescribe").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=sact-notice]", "Cycle 2 of R-CHOP-21 prescribed").await;
    app.wait_for("[data-testid=cycle-history] tr[data-cycle='2'][data-state=prescribed]").await;

    // The prescriber's own attempt to verify it is refused by Rust, whatever the screen offers.
    let cycle_id: u32 = app
        .wait_for("[data-testid=cycle-history] tr[data-cycle='2']")
        .await
        .attr("data-cycle-id")
        .await
        .expect("attribute")
        .and_then(|id| id.parse().ok())
        .expect("the new cycle's id");
    let refused: serde_json::Value = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke('sact_verify', {cycleId: arguments[0], pin: '1111'}).then(ok => done({ok}), error => done({error}));",
            vec![cycle_id.into()],
        )
        .await
        .expect("the command answered");
    assert_eq!(refused["error"]["code"], "session.not_permitted", "{refused}");
    app.sign_out().await;

    // The pharmacist sees what changed, verifies, then releases with the results.
    sign_in_with(&app, "DEMO-PHARMACIST", "2222").await;
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;
    app.alt('2').await;
    click(&app, &format!("[data-testid=verification-queue] button[data-cycle-id='{cycle_id}']")).await;
    app.wait_for_text_containing("[data-testid=queue-detail] h3", "What changed since cycle 1").await;
    let spaced = format!("{} {} {}", &patient[..3], &patient[3..6], &patient[6..]);
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", &spaced).await;
    type_into(&app, "#verify-pin", "2222").await;
    app.screenshot("sact-verify").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=queue-notice]", "verified").await;
    click(&app, &format!("[data-testid=release-queue] button[data-cycle-id='{cycle_id}']")).await;
    app.wait_for("[data-testid=release-form] #result-0").await;
    let yesterday = (chrono::Local::now() - chrono::Duration::hours(20)).format("%Y-%m-%dT%H:%M").to_string();
    for index in 0..2 {
        if let Ok(label) =
            app.client.find(fantoccini::Locator::Css(&format!("label[for=result-{index}]"))).await
        {
            let test = label.text().await.expect("the result's name");
            let value = if test.contains("platelets") { "250" } else { "4.5" };
            type_into(&app, &format!("#result-{index}"), value).await;
            set_value(&app, &format!("#result-taken-{index}"), &yesterday).await;
            // Typed, not from the laboratory's feed: the reason is asked for and kept.
            type_into(&app, &format!("#result-reason-{index}"), "point-of-care count on the day unit").await;
        }
    }
    click(&app, "[data-testid=release-form] button.secondary").await;
    app.wait_for("[data-testid=release-clear]").await;
    type_into(&app, "#release-pin", "2222").await;
    app.screenshot("sact-release").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=queue-notice]", "released for preparation").await;
    app.sign_out().await;

    // The nurse records rituximab given; the second nurse witnesses with her own card and PIN.
    sign_in_with(&app, "DEMO-NURSE", "3333").await;
    app.wait_for_text("[data-testid=header-user]", "NURSING, Nell (Ms)").await;
    app.alt('2').await;
    click(
        &app,
        &format!(
            "[data-testid=treatment-list] section[data-cycle-id='{cycle_id}'] button[data-drug=rituximab]"
        ),
    )
    .await;
    app.wait_for("[data-testid=administer-form]").await;
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", &spaced).await;
    type_into(&app, "#batch", "RTX-2291").await;
    set_value(&app, "#expiry", "2027-06-30").await;
    type_into(&app, "#administer-pin", "3333").await;
    let witness = app.wait_for("#witness-card option[data-label=DEMO-SECOND-NURSE]").await;
    witness.click().await.expect("witness card chosen");
    type_into(&app, "#witness-pin", "5555").await;
    app.screenshot("sact-administer").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=treatment-notice]", "rituximab given").await;
    app.wait_for_text_containing("[data-testid=treatment-list]", "checked by CHECKWELL, Cora (Ms)").await;
    app.screenshot("sact-treatment-list").await;

    // The prescriber defers another patient's cycle, not yet verified, for a week.
    app.sign_out().await;
    sign_in_with(&app, "DEMO-PRESCRIBER", "1111").await;
    app.wait_for_text("[data-testid=header-user]", "ONCOLOGY, Olive (Dr)").await;
    let waiting =
        seeded["patients"]["awaiting_verification"].as_str().expect("the patient awaiting verification");
    app.alt('1').await;
    type_into(&app, "#patient-query", waiting).await;
    app.press(ENTER).await;
    app.wait_for("button.result").await.click().await.expect("patient opened");
    app.alt('2').await;
    click(&app, "button[data-view=patient]").await;
    click(&app, "[data-testid=branch-button]").await;
    let next_week = (chrono::Local::now() + chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
    set_value(&app, "#defer-until", &next_week).await;
    type_into(&app, "#branch-pin", "1111").await;
    app.press(ENTER).await;
    app.wait_for("[data-testid=cycle-history] tr[data-cycle='2'][data-state=deferred]").await;

    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    let acted = |actor: &str, action: &str| {
        audit.lines().any(|l| l.contains(&format!(",{actor},")) && l.contains(action))
    };
    assert!(acted("555000000001", "sact.cycle.prescribe"), "the prescription is the prescriber's:\n{audit}");
    assert!(acted("555000000002", "sact.cycle.update"), "verification and release are the pharmacist's");
    assert!(acted("555000000003", "sact.dose.given"), "the dose given is the nurse's");
    assert!(audit.contains("user:555000000005"), "the witness is named on the administration");
    app.quit().await;
}
