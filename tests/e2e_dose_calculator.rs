//! The dose calculator in the real app: R-CHOP-21 for a large patient caps
//! vincristine at 2 mg and says so in its derivation; an impossible height is
//! refused and the cursor goes back to it.

mod support;

use support::{ENTER, RunningApp, TAB};

#[tokio::test(flavor = "multi_thread")]
async fn r_chop_for_a_large_patient_shows_vincristine_capped_at_2_mg() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    app.alt('2').await;
    app.wait_for("#regimen option[value='R-CHOP-21']").await;

    // From the page heading, Tab passes the views (one tab stop) and reaches the
    // regimen; type-ahead picks R-CHOP-21.
    app.press(TAB).await;
    assert_eq!(app.focused_attribute("data-view").await.as_deref(), Some("calculator"));
    app.press(TAB).await;
    assert_eq!(app.focused_attribute("id").await.as_deref(), Some("regimen"));
    app.press("R-CHOP-21").await;
    app.press(TAB).await;
    app.press("190").await;
    app.press(TAB).await;
    app.press("120").await;
    app.press(ENTER).await;

    app.wait_for_text("[data-testid=dose-summary]", "R-CHOP-21 v1.0.0 · BSA 2.52 m²").await;
    app.wait_for_text("tr[data-drug=vincristine] [data-testid=final-dose]", "2 mg").await;
    app.wait_for_text("tr[data-drug=rituximab] [data-testid=final-dose]", "945 mg").await;

    let toggle = app.wait_for("tr[data-drug=vincristine] .derivation-toggle").await;
    toggle.send_keys(ENTER).await.expect("Enter opens the derivation");
    app.wait_for_text_containing(
        "[data-testid=derivation]",
        "Capped at the maximum single dose of 2 mg (3.528 mg exceeds it)",
    )
    .await;
    app.screenshot("dose-calculator").await;

    let bsa_toggle = app.wait_for("[aria-controls=bsa-derivation]").await;
    bsa_toggle.send_keys(ENTER).await.expect("Enter opens the BSA derivation");
    app.wait_for_text_containing(
        "[data-testid=bsa-derivation]",
        "BSA rounded by rule bsa-2dp-half-up = 2.52 m²",
    )
    .await;

    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_impossible_height_is_refused_and_focus_returns_to_it() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    app.alt('2').await;
    app.wait_for("#regimen option[value='AC']").await;

    let height = app.wait_for("#height_cm").await;
    height.send_keys("1700").await.expect("typing into height");
    app.press(TAB).await;
    app.press("70").await;
    app.press(ENTER).await;

    app.wait_for_text_containing(
        "[data-testid=dose-error]",
        "1700 cm is outside the possible range 30–250 cm",
    )
    .await;
    assert_eq!(app.focused_attribute("id").await.as_deref(), Some("height_cm"));
    assert_eq!(app.focused_attribute("aria-invalid").await.as_deref(), Some("true"));

    app.quit().await;
}
