//! The desktop shell, end to end: sign in, the header, keyboard navigation
//! between the module pages, a real Rust command's answer, and sign out.

mod support;

use support::RunningApp;

#[tokio::test(flavor = "multi_thread")]
async fn staff_sign_in_and_move_between_modules_with_the_keyboard() {
    let app = RunningApp::launch().await;

    app.wait_for_text("#sign-in-heading", "Sign in").await;
    app.wait_for("input[type=radio]:checked").await;
    app.screenshot("sign-in").await;

    // The first user is chosen and focused; arrow down to the pharmacist and sign in.
    app.press("\u{E015}").await; // ArrowDown
    app.press("\u{E007}").await; // Enter
    app.wait_for_text("[data-testid=header-user]", "PHARMACY, Percy (Mr)").await;
    app.wait_for_text("[data-testid=header-role]", "Oncology pharmacist · Health Professional Access Role")
        .await;

    // The footer's version comes from the app_info command in Rust.
    app.wait_for_text(
        "[data-testid=app-version]",
        &format!("Clinical Workstation {}", env!("CARGO_PKG_VERSION")),
    )
    .await;
    app.wait_for_text("[data-testid=patient-banner]", "No patient selected").await;

    for (shortcut, page, heading) in
        [('3', "imaging", "Imaging"), ('4', "discharge", "Discharge summaries"), ('5', "beds", "Bed board")]
    {
        app.alt(shortcut).await;
        app.wait_for_text(&format!("main[data-page={page}] h1"), heading).await;
        app.screenshot(page).await;
    }

    app.alt('2').await;
    app.wait_for_text("main[data-page=chemotherapy] h1", "Chemotherapy").await;
    app.screenshot("chemotherapy").await;

    // Focus lands on the page heading; Shift+Tab reaches the last module link, Enter follows it.
    app.shift_tab().await;
    assert_eq!(app.focused_attribute("data-module").await.as_deref(), Some("beds"));
    app.press("\u{E007}").await; // Enter
    app.wait_for_text("main[data-page=beds] h1", "Bed board").await;

    app.alt('q').await;
    app.wait_for_text("#sign-in-heading", "Sign in").await;

    // The demonstration sign-in is audited when it succeeds, not only when refused,
    // and the sign-out leaves the audit head in the app's log (and the system log).
    let audit = app.cws(&["audit", "export", "--from", "2000-01-01", "--to", "2100-12-31"]);
    assert!(
        audit.lines().any(|l| l.contains(",555000000002,")
            && l.contains(",session.login,")
            && l.contains("demonstration")),
        "the demonstration sign-in is audited:\n{audit}"
    );
    app.wait_for_log("cws-audit-anchor seq=").await;

    app.quit().await;
}
