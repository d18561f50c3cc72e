//! Finding and opening a patient in the real app against an encrypted demo
//! store: keyboard only (type, Enter, arrow, Enter); the CUI banner follows
//! the user to every screen and is gone after sign-out; nothing of the
//! patient reaches a log or the webview's files.

mod support;

use support::{ENTER, RunningApp, TAB};

const ARROW_DOWN: &str = "\u{E015}";

#[tokio::test(flavor = "multi_thread")]
async fn search_open_and_see_the_banner_on_every_screen() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    app.wait_for_text("main[data-page=patients] h1", "Find patient").await;

    app.press(TAB).await;
    assert_eq!(app.focused_attribute("id").await.as_deref(), Some("patient-query"));
    app.press("quill").await;
    app.press(ENTER).await;
    app.wait_for_text_containing("[role=status]", "found").await;
    let first = app.wait_for("button.result .name").await.text().await.expect("a name");
    assert!(first.starts_with("QUILLFEATHER, "), "{first}");
    app.press(ARROW_DOWN).await;
    assert!(app.focused_attribute("data-patient-id").await.is_some(), "the arrow moves into the results");
    app.press(ENTER).await;

    app.wait_for_text("[data-testid=banner-name]", &first).await;
    app.wait_for_text_containing("[data-testid=banner-nhs-number]", "NHS No. 999 000 0").await;
    app.wait_for_text_containing("[data-testid=banner-born]", "y)").await;
    app.screenshot("patient-search").await;

    app.alt('2').await;
    app.wait_for_text("main[data-page=chemotherapy] h1", "Chemotherapy").await;
    app.wait_for_text("[data-testid=banner-name]", &first).await;

    app.sign_out().await;
    app.sign_in_as_prescriber().await;
    app.wait_for_text("[data-testid=patient-banner]", "No patient selected").await;

    for file in app.files_outside_the_store() {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for name in [first.as_bytes(), b"QUILLFEATHER", b"Quillfeather"] {
            assert!(
                !bytes.windows(name.len()).any(|w| w == name),
                "{} holds a patient's name",
                file.display()
            );
        }
    }
    assert!(app.log().contains("signed in"), "the app's log was captured, so the scan above read it");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deceased_patient_is_marked_in_results_and_banner() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    let query = app.wait_for("#patient-query").await;
    query.send_keys("hopscotch").await.expect("typing");
    app.press(ENTER).await;
    app.wait_for_text_containing("[role=status]", "found").await;
    let deceased = app.wait_for("button.result.deceased").await;
    deceased.send_keys(ENTER).await.expect("Enter opens");
    app.wait_for_text_containing("[data-testid=banner-deceased]", "Deceased · Died ").await;
    app.screenshot("deceased-banner").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_nhs_number_is_refused_with_the_reason() {
    let app = RunningApp::launch().await;
    app.sign_in_as_prescriber().await;
    let query = app.wait_for("#patient-query").await;
    query.send_keys("943 476 5918").await.expect("typing");
    app.press(ENTER).await;
    app.wait_for_text_containing("[data-testid=patient-search-error]", "check digit is wrong").await;
    app.quit().await;
}

/// The app opens its store, searches and reads at trace level, and the store's
/// key appears in no file outside the store: not its log, not the webview's files.
#[tokio::test(flavor = "multi_thread")]
async fn the_store_key_never_reaches_the_apps_files_even_at_trace_level() {
    let app = RunningApp::launch_at_trace_level().await;
    app.sign_in_as_prescriber().await;
    let query = app.wait_for("#patient-query").await;
    query.send_keys("quill").await.expect("typing");
    app.press("\u{E007}").await; // Enter
    app.wait_for("button.result").await;
    app.sign_out().await;

    let key = app.store_key_hex();
    for file in app.files_outside_the_store() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
        for form in [key.to_lowercase(), key.to_uppercase()] {
            assert!(!text.contains(&form), "{} holds the store key", file.display());
        }
    }
    assert!(app.log().contains("TRACE"), "the app's log was captured at trace level, so the scan read it");
    app.quit().await;
}
