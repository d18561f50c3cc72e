//! Sending signed summaries to the GP through the outbox, to a real SMTP
//! submission server (aiosmtpd: STARTTLS, login, From the account): one mail
//! per summary with the signed PDF, whose text names the patient; a server
//! that is down is retried and gets it once when it comes back; a summary
//! tampered with after signing is never sent.

mod common;

use std::process::{Command, Stdio};

use common::discharge_site::DischargeSite;
use services::Context;
use services::discharge_outbox::{RunReport, SenderToken, run_once};
use test_services::{SMTP_ACCOUNT, SmtpServer};

fn with_smtp(server: &SmtpServer, first_wait_seconds: i64) -> settings::Settings {
    let mut settings = DischargeSite::settings();
    settings.discharge.smtp = Some(settings::SmtpSettings {
        host: "127.0.0.1".into(),
        port: server.port(),
        account: SMTP_ACCOUNT.into(),
        password_file: server.password_file(),
        ca: Some(server.ca_certificate()),
        timeout: std::time::Duration::from_secs(10),
    });
    settings.discharge.gp_addresses.insert("A81001".into(), "gp.a81001@nhs.net".into());
    settings.discharge.retry.first_wait_seconds = first_wait_seconds;
    settings
}

fn sender(context: &Context) -> SenderToken {
    SenderToken::for_account(context, &store::Actor { user: "cws-outbox".into(), workstation: "ws1".into() })
        .expect("a stand-alone workstation's own account works its outbox")
}

/// The PDF attached to a mail, by Python's email package (an independent MIME reader).
fn attached_pdf(mail: &[u8]) -> Vec<u8> {
    let python = test_services::python_peers::python_path();
    let script = "import email,sys\nm=email.message_from_binary_file(sys.stdin.buffer)\nfor p in m.walk():\n  if p.get_content_type()=='application/pdf': sys.stdout.buffer.write(p.get_payload(decode=True))";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), mail).expect("written");
    child.wait_with_output().expect("read").stdout
}

fn text_of_pdf(pdf: &[u8]) -> String {
    let folder = tempfile::tempdir().expect("folder");
    let file = folder.path().join("attached.pdf");
    std::fs::write(&file, pdf).expect("written");
    let output = Command::new("pdftotext").arg(&file).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(output.status.success(), "the attachment is a PDF poppler reads");
    String::from_utf8_lossy(&output.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[tokio::test]
async fn a_signed_summary_goes_to_the_gp_once_with_the_signed_pdf_naming_the_patient() {
    let test = "a_signed_summary_goes_to_the_gp_once_with_the_signed_pdf_naming_the_patient";
    let Some(server) = SmtpServer::start_or_skip(test) else { return };
    let (site, context) = DischargeSite::new(with_smtp(&server, 300)).await;
    let id = site.signed_summary(&context).await;

    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let queued = services::discharge::sends(&context, &author, id).await.expect("sends");
    assert_eq!(
        queued
            .iter()
            .map(|r| (r.channel.as_str(), r.recipient.as_str(), r.status.as_str()))
            .collect::<Vec<_>>(),
        [("smtp", "A81001", "queued")],
        "queued with the signature, to the patient's registered practice"
    );

    let report = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(report, RunReport { delivered: 1, ..RunReport::default() });
    let again = run_once(&context, &sender(&context), &site.trust).await.expect("run again");
    assert_eq!(again, RunReport::default(), "a delivered summary is not sent again");

    let mail = server.messages();
    assert_eq!(mail.len(), 1, "exactly one mail");
    let text = String::from_utf8_lossy(&mail[0]).into_owned();
    assert_eq!(header(&text, "From"), Some(SMTP_ACCOUNT), "From is the account that logged in");
    assert_eq!(header(&text, "To"), Some("gp.a81001@nhs.net"));
    assert!(
        header(&text, "Subject")
            .is_some_and(|s| s.contains("QUILLFEATHER, Ada") && s.contains("999 000 0018")),
        "{text}"
    );
    let pdf = attached_pdf(&mail[0]);
    assert!(pdf.starts_with(b"%PDF-"), "a PDF is attached");
    let letter = text_of_pdf(&pdf);
    for expected in
        ["QUILLFEATHER, Ada", "NHS No. 999 000 0018", "Community acquired pneumonia", "GMC 7000004"]
    {
        assert!(letter.contains(expected), "{expected:?} missing from the attached letter:\n{letter}");
    }
    let sent = services::discharge::sends(&context, &author, id).await.expect("sends");
    assert_eq!((sent[0].status.as_str(), sent[0].attempts), ("delivered", 1));
    assert!(sent[0].remote_id.as_deref().is_some_and(|r| r.contains("Accepted")), "{:?}", sent[0].remote_id);
    context.close().await;
}

#[tokio::test]
async fn a_server_that_is_down_is_retried_and_gets_the_summary_once_when_it_is_back() {
    let test = "a_server_that_is_down_is_retried_and_gets_the_summary_once_when_it_is_back";
    let Some(mut server) = SmtpServer::prepare_or_skip(test) else { return };
    let (site, context) = DischargeSite::new(with_smtp(&server, 1)).await;
    let id = site.signed_summary(&context).await;

    let down = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(down, RunReport { retrying: 1, ..RunReport::default() });
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let waiting = services::discharge::sends(&context, &author, id).await.expect("sends");
    assert_eq!((waiting[0].status.as_str(), waiting[0].attempts), ("queued", 1));
    assert!(
        waiting[0].last_error.as_deref().is_some_and(|e| e.contains("did not answer")),
        "{:?}",
        waiting[0].last_error
    );
    assert_eq!(
        run_once(&context, &sender(&context), &site.trust).await.expect("run"),
        RunReport::default(),
        "not tried again before its next try"
    );

    server.up().expect("the server is back");
    // The first wait is one second; wait it out rather than reach into the row.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let back = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(back, RunReport { delivered: 1, ..RunReport::default() });
    run_once(&context, &sender(&context), &site.trust).await.expect("run again");
    assert_eq!(server.messages().len(), 1, "delivered once");
    context.close().await;
}

#[tokio::test]
async fn a_summary_changed_after_signing_is_never_sent_and_is_raised() {
    let test = "a_summary_changed_after_signing_is_never_sent_and_is_raised";
    let Some(server) = SmtpServer::start_or_skip(test) else { return };
    let settings = with_smtp(&server, 300);
    let (site, context) = DischargeSite::new(settings.clone()).await;
    let id = site.signed_summary(&context).await;
    context.close().await;

    // Someone with the store's key edits the signed content past the application.
    let recovery = site.key.recovery_text().replace('-', "");
    let path = site.store_folder.path().join("store.db");
    let mut raw = sqlx::ConnectOptions::connect(
        &sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .pragma("key", format!("\"x'{recovery}'\""))
            // New stores authenticate their pages with HMAC-SHA256 (store::page_mac).
            .pragma("cipher_hmac_algorithm", "HMAC_SHA256"),
    )
    .await
    .expect("raw connection");
    sqlx::query("UPDATE discharge_summaries SET content = replace(content, 'pneumonia', 'nothing of note') WHERE id = ?")
        .bind(id)
        .execute(&mut raw)
        .await
        .expect("edited");
    sqlx::Connection::close(raw).await.expect("closed");
    let context = Context::with_store(
        store::Store::open_with_key(&path, site.key.clone()).await.expect("reopened"),
        settings,
        "ws1",
    )
    .expect("context");

    let report = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(report, RunReport { given_up: 1, ..RunReport::default() });
    assert!(server.messages().is_empty(), "nothing was sent");
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let row = &services::discharge::sends(&context, &author, id).await.expect("sends")[0];
    assert_eq!(row.status, "failed");
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("changed since it was signed")),
        "{:?}",
        row.last_error
    );
    context.close().await;
}

fn the_28th_at_noon() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").expect("time").to_utc()
}

#[tokio::test]
async fn the_dashboard_lists_each_discharge_not_yet_sent_most_overdue_first_and_charts_the_share_in_time() {
    let test =
        "the_dashboard_lists_each_discharge_not_yet_sent_most_overdue_first_and_charts_the_share_in_time";
    let Some(server) = SmtpServer::start_or_skip(test) else { return };
    let (site, context) = DischargeSite::new(with_smtp(&server, 300)).await;
    let context = context.with_clock(the_28th_at_noon);
    DischargeSite::admitted_and_discharged(
        &context,
        "9990000018",
        "QUILLFEATHER^Ada",
        "202611200900",
        "202611271400",
    )
    .await;
    DischargeSite::admitted_and_discharged(
        &context,
        "9990000026",
        "QUIBBLE^Clementine",
        "202611210900",
        "202611260900",
    )
    .await;
    DischargeSite::admitted_and_discharged(
        &context,
        "9990000034",
        "QUAVER^Bertram",
        "202611220900",
        "202611280800",
    )
    .await;
    // Discharged before the dashboard's 30 days: neither listed nor charted.
    DischargeSite::admitted_and_discharged(
        &context,
        "9990000042",
        "QUINCE^Dora",
        "202610100900",
        "202610150900",
    )
    .await;
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);

    let before = services::discharge_dashboard::dashboard(&context, &author).await.expect("dashboard");
    assert_eq!(
        before
            .due
            .iter()
            .map(|d| (d.patient_name.as_str(), d.time_left.as_str(), d.state.as_str()))
            .collect::<Vec<_>>(),
        [
            ("QUIBBLE, Clementine", "overdue by 27 h", "No summary started"),
            ("QUILLFEATHER, Ada", "2 h left", "No summary started"),
            ("QUAVER, Bertram", "20 h left", "No summary started"),
        ]
    );

    let id = site.signed_summary(&context).await;
    let waiting = services::discharge_dashboard::dashboard(&context, &author).await.expect("dashboard");
    assert_eq!(waiting.due[1].state, "Signed; sending", "signed but not yet delivered still counts");
    assert_eq!(waiting.due[1].summary_id, Some(id));
    run_once(&context, &sender(&context), &site.trust).await.expect("sent");

    let after = services::discharge_dashboard::dashboard(&context, &author).await.expect("dashboard");
    assert_eq!(
        after.due.iter().map(|d| d.patient_name.as_str()).collect::<Vec<_>>(),
        ["QUIBBLE, Clementine", "QUAVER, Bertram"],
        "a summary delivered leaves the list"
    );
    assert_eq!(after.days.len(), 30);
    assert_eq!(
        after.days.iter().map(|d| d.discharges).sum::<u32>(),
        2,
        "the 26th and the 27th, not October's"
    );
    let day = |date: &str| after.days.iter().find(|d| d.day.to_string() == date).expect("day");
    assert_eq!((day("2026-11-26").discharges, day("2026-11-26").sent_within_24_hours), (1, 0));
    assert_eq!((day("2026-11-27").discharges, day("2026-11-27").sent_within_24_hours), (1, 1));
    assert_eq!(day("2026-11-28").discharges, 0, "today's discharge is not yet due");
    context.close().await;
}

fn with_mesh(sandbox: &test_services::MeshSandbox, url: String) -> settings::Settings {
    let mut settings = DischargeSite::settings();
    settings.discharge.mesh = Some(settings::MeshSettings {
        url,
        mailbox: "X26ABC1".into(),
        password_file: sandbox.secret_file("mesh-password", test_services::MESH_PASSWORD),
        shared_key_file: sandbox.secret_file("mesh-shared-key", test_services::MESH_SHARED_KEY),
        workflow: "TOC_FHIR_IP_DISCH".into(),
        ca: None,
        client_certificate: None,
        timeout: std::time::Duration::from_secs(10),
        gp_mailboxes: [("A81001".to_owned(), "X26ABC2".to_owned())].into(),
    });
    settings.discharge.retry.first_wait_seconds = 1;
    settings
}

#[tokio::test]
async fn a_signed_summary_reaches_the_practices_mesh_mailbox_once_and_its_acknowledgement_or_loss_is_recorded()
 {
    let test = "a_signed_summary_reaches_the_practices_mesh_mailbox_once_and_its_acknowledgement_or_loss_is_recorded";
    let Some(sandbox) = test_services::MeshSandbox::start_or_skip(test) else { return };
    let (site, context) = DischargeSite::new(with_mesh(&sandbox, sandbox.url())).await;
    let id = site.signed_summary(&context).await;
    assert_eq!(
        run_once(&context, &sender(&context), &site.trust).await.expect("run"),
        RunReport { delivered: 1, ..RunReport::default() }
    );
    run_once(&context, &sender(&context), &site.trust).await.expect("run again");

    let inbox = sandbox.inbox("X26ABC2");
    assert_eq!(inbox.len(), 1, "one message: {inbox:?}");
    assert_eq!(inbox[0]["workflow"], "TOC_FHIR_IP_DISCH");
    assert_eq!(inbox[0]["sender"], "X26ABC1");
    let body = inbox[0]["body"].as_str().expect("body");
    let (valid, said) = test_services::python_peers::check(
        &test_services::python_peers::python_path(),
        "validate_itk3_xml.py",
        body.as_bytes(),
    );
    assert!(valid, "an ITK3 message in STU3 XML: {said}");
    assert_eq!(said.trim(), "ok MessageHeader Organization Organization Bundle");
    assert!(body.contains("<code value=\"ITK003D\"/>") && body.contains("<code value=\"373942005\"/>"));
    assert!(
        body.contains("<system value=\"https://fhir.nhs.uk/Id/nhs-number\"/><value value=\"9990000018\"/>"),
        "the NHS number as ten digits"
    );

    // The practice takes it: the outbox records the acknowledgement.
    sandbox.acknowledge("X26ABC2", inbox[0]["id"].as_str().expect("id"));
    let taken = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(taken, RunReport { acknowledged: 1, ..RunReport::default() });
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let row = &services::discharge::sends(&context, &author, id).await.expect("sends")[0];
    assert_eq!(row.status, "acknowledged");

    // A second summary MESH cannot deliver is failed with MESH's reason, and raised.
    let second = site.signed_summary(&context).await;
    run_once(&context, &sender(&context), &site.trust).await.expect("sent");
    let message_id = services::discharge::sends(&context, &author, second).await.expect("sends")[0]
        .remote_id
        .clone()
        .expect("MESH's id");
    sandbox.make_undeliverable(&message_id, "Not collected in 5 days");
    let lost = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(lost, RunReport { undeliverable: 1, ..RunReport::default() });
    let row = &services::discharge::sends(&context, &author, second).await.expect("sends")[0];
    assert_eq!(row.status, "failed");
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not deliver it to the practice (undeliverable)")),
        "{:?}",
        row.last_error
    );
    context.close().await;
}

/// The practice's system answers each message with ITK3 responses on the
/// workflow's _ACK. Each is recorded against the send it names: success and
/// "patient known" leave the send acknowledged with both responses kept; a
/// "patient not known here" fails the send and raises it, in the practice's
/// words. A message on that workflow that is not a response, or a response
/// from a mailbox the send did not go to, is left in the inbox and counted,
/// not taken.
#[tokio::test]
async fn the_practices_itk3_responses_are_recorded_against_the_send_and_a_refusal_is_raised() {
    let test = "the_practices_itk3_responses_are_recorded_against_the_send_and_a_refusal_is_raised";
    let Some(sandbox) = test_services::MeshSandbox::start_or_skip(test) else { return };
    let (site, context) = DischargeSite::new(with_mesh(&sandbox, sandbox.url())).await;
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let known = site.signed_summary(&context).await;
    let unknown = site.signed_summary(&context).await;
    let sent = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(sent, RunReport { delivered: 2, ..RunReport::default() });
    let mesh_id = |summary: i64| {
        let context = &context;
        let author = &author;
        async move {
            services::discharge::sends(context, author, summary).await.expect("sends")[0]
                .remote_id
                .clone()
                .expect("MESH's id")
        }
    };

    // Another practice's mailbox answers first for a message it never had: not taken.
    let row = &services::discharge::sends(&context, &author, known).await.expect("sends")[0];
    let header_id = row.itk_message_id.clone().expect("the ITK3 MessageHeader id");
    sandbox.answer_for("X26ABC3", "X26ABC1", "TOC_FHIR_IP_DISCH_ACK", &header_id, "30002");
    let answered = sandbox.respond_as_practice("X26ABC2", &mesh_id(known).await, &["20013", "30001"]);
    assert_eq!(answered["answered"].as_str(), Some(header_id.as_str()), "it answers our MessageHeader");
    sandbox.respond_as_practice("X26ABC2", &mesh_id(unknown).await, &["20013", "30002"]);
    sandbox.send_junk("X26ABC2", "X26ABC1", "TOC_FHIR_IP_DISCH_ACK");

    let recorded = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(
        (recorded.practice_responses, recorded.refused_by_practice, recorded.unread_responses),
        (4, 1, 2),
        "{recorded:?}"
    );
    let row = &services::discharge::sends(&context, &author, known).await.expect("sends")[0];
    assert_eq!(
        (row.status.as_str(), row.infrastructure_response.as_deref(), row.business_response.as_deref()),
        (
            "acknowledged",
            Some("ITK3 infrastructure response 20013: Success"),
            Some("ITK3 business response 30001: Patient known here")
        )
    );
    let row = &services::discharge::sends(&context, &author, unknown).await.expect("sends")[0];
    assert_eq!(
        (row.status.as_str(), row.last_error.as_deref()),
        ("failed", Some("ITK3 business response 30002: Patient not known here")),
        "raised in the practice's words"
    );

    // The responses are taken out of our inbox; the impostor's and the junk are left for people.
    let left = sandbox.inbox("X26ABC1");
    assert_eq!(
        left.iter().map(|m| m["sender"].as_str().unwrap_or_default()).collect::<Vec<_>>(),
        ["X26ABC3", "X26ABC2"],
        "{left:?}"
    );
    assert!(left[1]["body"].as_str().is_some_and(|b| b == "<not-itk/>"));
    // Nothing waits for an answer now, so MESH's inbox is not read again.
    let again = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!((again.practice_responses, again.unread_responses), (0, 0));
    assert_eq!(sandbox.inbox("X26ABC1").len(), 2, "still there for people");
    context.close().await;
}

/// A practice the site's table does not name is found in MESH's directory
/// (the endpoint look-up by ODS code and workflow). The sandbox's own
/// directory serves: on its TEST_WORKFLOW2, X27 has one mailbox (X26ABC3), X26
/// has two, and B82002 none. One is sent to; none waits, saying so; two are
/// refused for good and raised, so a person chooses.
#[tokio::test]
async fn a_practice_not_in_the_sites_table_is_found_in_meshs_directory_and_never_guessed() {
    let test = "a_practice_not_in_the_sites_table_is_found_in_meshs_directory_and_never_guessed";
    let Some(sandbox) = test_services::MeshSandbox::start_or_skip(test) else { return };
    let mut settings = with_mesh(&sandbox, sandbox.url());
    settings.discharge.mesh.as_mut().expect("MESH").workflow = "TEST_WORKFLOW2".into();
    let (site, context) = DischargeSite::new(settings).await;
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let found = site.signed_summary_to(&context, Some("X27")).await;
    let unlisted = site.signed_summary_to(&context, Some("B82002")).await;
    let ambiguous = site.signed_summary_to(&context, Some("X26")).await;

    let report = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(report, RunReport { delivered: 1, retrying: 1, given_up: 1, ..RunReport::default() });
    let inbox = sandbox.inbox("X26ABC3");
    assert_eq!(inbox.len(), 1, "sent to the one mailbox the directory gives: {inbox:?}");
    assert!(sandbox.inbox("X26ABC2").is_empty(), "nothing guessed");
    let send = |summary: i64| {
        let (context, author) = (&context, &author);
        async move { services::discharge::sends(context, author, summary).await.expect("sends").remove(0) }
    };
    assert_eq!(send(found).await.status, "delivered");
    let waiting = send(unlisted).await;
    assert_eq!(waiting.status, "queued");
    assert!(
        waiting.last_error.as_deref().is_some_and(|e| e.contains("no mailbox for GP practice B82002")),
        "{:?}",
        waiting.last_error
    );
    let raised = send(ambiguous).await;
    assert_eq!(raised.status, "failed");
    assert!(
        raised.last_error.as_deref().is_some_and(|e| e.contains("2 mailboxes for GP practice X26")),
        "{:?}",
        raised.last_error
    );
    context.close().await;
}

/// Live MESH admits a client only with the organisation's certificate. Over
/// TLS with a client certificate required (uvicorn with CERT_REQUIRED), a
/// sender without one reaches nothing and its row waits to be retried; with the
/// certificate and key named in the settings, the summary is delivered once.
#[tokio::test]
async fn mesh_is_reached_only_with_the_organisations_client_certificate() {
    let test = "mesh_is_reached_only_with_the_organisations_client_certificate";
    let Some(sandbox) = test_services::or_skip(
        test_services::MeshSandbox::start_with_client_certificates(),
        "mesh-sandbox",
        test,
    ) else {
        return;
    };
    let over_tls = |client_certificate: Option<settings::ClientCertificate>| {
        let mut settings = with_mesh(&sandbox, sandbox.url());
        let mesh = settings.discharge.mesh.as_mut().expect("MESH");
        mesh.ca = Some(sandbox.ca_certificate());
        mesh.client_certificate = client_certificate;
        settings
    };

    let (site, context) = DischargeSite::new(over_tls(None)).await;
    let unsent = site.signed_summary(&context).await;
    let refused = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(refused, RunReport { retrying: 1, ..RunReport::default() }, "no certificate, no connection");
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let row = &services::discharge::sends(&context, &author, unsent).await.expect("sends")[0];
    assert!(row.last_error.as_deref().is_some_and(|e| e.contains("MESH")), "{:?}", row.last_error);
    assert!(sandbox.inbox("X26ABC2").is_empty(), "nothing reached MESH");
    context.close().await;

    // A key others may read is not used: the sender says so and sends nothing.
    use std::os::unix::fs::PermissionsExt;
    let (certificate, key) = sandbox.client_certificate();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("mode");
    let exposed = settings::ClientCertificate { certificate: certificate.clone(), key: key.clone() };
    let (site, context) = DischargeSite::new(over_tls(Some(exposed))).await;
    let unsent = site.signed_summary(&context).await;
    run_once(&context, &sender(&context), &site.trust).await.expect("run");
    let row = &services::discharge::sends(&context, &author, unsent).await.expect("sends")[0];
    assert!(row.last_error.as_deref().is_some_and(|e| e.contains("chmod 600")), "{:?}", row.last_error);
    assert!(sandbox.inbox("X26ABC2").is_empty());
    context.close().await;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("mode");

    let (site, context) =
        DischargeSite::new(over_tls(Some(settings::ClientCertificate { certificate, key }))).await;
    let id = site.signed_summary(&context).await;
    let sent = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(sent, RunReport { delivered: 1, ..RunReport::default() });
    let inbox = sandbox.inbox("X26ABC2");
    assert_eq!(inbox.len(), 1, "delivered once: {inbox:?}");
    let row = &services::discharge::sends(&context, &author, id).await.expect("sends")[0];
    assert_eq!((row.channel.as_str(), row.status.as_str()), ("mesh", "delivered"));
    context.close().await;
}

/// A loopback relay to `upstream` that, on its first connection only, lets the
/// request through and then drops the connection before the answer comes back.
fn relay_dropping_the_first_answer(upstream: u16) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("relay");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for (index, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { continue };
            let Ok(mut server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else { continue };
            let (mut client_in, mut server_out) =
                (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_in, &mut server_out);
            });
            if index == 0 {
                // Wait for MESH's answer (it has the message by then), then drop both ends.
                let mut first = [0u8; 1];
                let _ = server.read(&mut first);
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
                continue;
            }
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.flush();
            });
        }
    });
    port
}

#[tokio::test]
async fn a_connection_dropped_after_mesh_took_the_message_does_not_deliver_it_twice() {
    let test = "a_connection_dropped_after_mesh_took_the_message_does_not_deliver_it_twice";
    let Some(sandbox) = test_services::MeshSandbox::start_or_skip(test) else { return };
    let relay = relay_dropping_the_first_answer(sandbox.port());
    let (site, context) = DischargeSite::new(with_mesh(&sandbox, format!("http://127.0.0.1:{relay}"))).await;
    let id = site.signed_summary(&context).await;

    let dropped = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(dropped, RunReport { retrying: 1, ..RunReport::default() }, "no answer: it may have arrived");
    assert_eq!(sandbox.inbox("X26ABC2").len(), 1, "MESH has it, though we were not told");

    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let tracked = run_once(&context, &sender(&context), &site.trust).await.expect("run");
    assert_eq!(tracked, RunReport { delivered: 1, ..RunReport::default() }, "found by its local id");
    assert_eq!(sandbox.inbox("X26ABC2").len(), 1, "and not sent again");
    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let row = &services::discharge::sends(&context, &author, id).await.expect("sends")[0];
    assert_eq!((row.channel.as_str(), row.status.as_str(), row.attempts), ("mesh", "delivered", 2));
    context.close().await;
}

#[tokio::test]
async fn the_clinical_system_is_told_of_the_signed_summary_and_then_of_its_amendment_by_mdm() {
    let test = "the_clinical_system_is_told_of_the_signed_summary_and_then_of_its_amendment_by_mdm";
    let Some(receiver) = test_services::MllpReceiver::start_or_skip(test) else { return };
    let mut settings = DischargeSite::settings();
    settings.discharge.mdm = Some(settings::MdmSettings {
        peer: format!("127.0.0.1:{}", receiver.port()),
        sending_application: "CWS".into(),
        receiving_application: "EPR".into(),
        receiving_facility: None,
        timeout: std::time::Duration::from_secs(10),
    });
    let (site, context) = DischargeSite::new(settings).await;
    let first = site.signed_summary(&context).await;
    assert_eq!(
        run_once(&context, &sender(&context), &site.trust).await.expect("run"),
        RunReport { delivered: 1, ..RunReport::default() },
        "{}",
        receiver.refusals()
    );

    let author = common::acting_as(common::discharge_site::DOCTOR, session::Permission::AuthorDischarge);
    let amendment =
        services::discharge::amend(&context, &author, first, "Discharge medication dose corrected")
            .await
            .expect("amended");
    services::discharge::sign(
        &context,
        &common::acting_as(common::discharge_site::DOCTOR, session::Permission::SignDischarge),
        amendment.id,
        amendment.row_version,
        &site.card("DOCTOR"),
    )
    .await
    .expect("signed");
    run_once(&context, &sender(&context), &site.trust).await.expect("run");

    let received = receiver.received();
    assert_eq!(received.len(), 2, "each version once, valid to hl7apy: {}", receiver.refusals());
    let parsed: Vec<hl7::Message> = received.iter().map(|m| hl7::Message::parse(m).expect("HL7")).collect();
    assert_eq!(parsed[0].header().component(9, 2), "T02");
    assert_eq!(parsed[1].header().component(9, 2), "T10", "the amendment replaces the first");
    let (first_txa, second_txa) =
        (parsed[0].segment("TXA").expect("TXA"), parsed[1].segment("TXA").expect("TXA"));
    assert_eq!(second_txa.component(13, 1), first_txa.component(12, 1), "TXA-13 names the document replaced");
    assert_eq!(second_txa.value(21), "Discharge medication dose corrected");
    assert_eq!(parsed[0].segment("PID").expect("PID").component(3, 1), "9990000018");
    context.close().await;
}
