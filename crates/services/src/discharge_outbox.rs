//! The discharge outbox's sender: it works each due row (claim, check the
//! signature, render, send, record) with retries and backoff, and gives up
//! only after the site's limits, leaving the row failed for the dashboard.
//! A summary whose signature no longer holds is never sent. Each send, and
//! each refusal, is audited with the summary's id.

use chrono::{DateTime, SecondsFormat, Utc};
use discharge::{AfterFailure, Letter, LetterPatient, LetterSigner, Organisation, Template};
use store::{Actor, AuditAction, OutboxRow, RecordRef};

use crate::smtp::{Mail, SendFailure};
use crate::{Context, ServiceError};

/// The sender's token: the outbox acting for the trust, not a person. Made
/// only for the OS account `[discharge] sender_account` names, or, on a
/// stand-alone workstation whose settings name none, the account running it.
#[derive(Debug, Clone)]
pub struct SenderToken {
    actor: Actor,
}

impl SenderToken {
    pub fn for_account(context: &Context, os_account: &Actor) -> Result<Self, ServiceError> {
        let refused = |reason: String| ServiceError::Refused { rule: "sender_account", reason };
        match (&context.settings().discharge.sender_account, context.is_shared_store()) {
            (Some(named), _) if *named != os_account.user => Err(refused(format!(
                "the outbox is worked by the account {named:?} the site names in [discharge] sender_account, not {:?}",
                os_account.user
            ))),
            (None, true) => Err(refused(
                "on a shared store the outbox is worked only by the account named in [discharge] sender_account"
                    .into(),
            )),
            _ => Ok(Self {
                actor: Actor { user: format!("outbox:{}", os_account.user), workstation: os_account.workstation.clone() },
            }),
        }
    }
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    pub delivered: usize,
    pub retrying: usize,
    pub given_up: usize,
    /// Rows another sender claimed first.
    pub skipped: usize,
    /// MESH sends the practice has now taken, and those MESH could not deliver (raised).
    pub acknowledged: usize,
    pub undeliverable: usize,
    /// ITK3 responses from practices recorded against their sends, and of
    /// those the negative ones (the send failed and raised).
    pub practice_responses: usize,
    pub refused_by_practice: usize,
    /// Messages on the response workflow that could not be read or matched
    /// to a send: left in the MESH inbox for people, never taken silently.
    pub unread_responses: usize,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The channels this site sends by, for a summary to `gp_practice`: the rows
/// the signing transaction queues.
pub(crate) fn routes(context: &Context, gp_practice: &str) -> Vec<(&'static str, String)> {
    let mut routes = Vec::new();
    if context.settings().discharge.smtp.is_some() {
        routes.push(("smtp", gp_practice.to_owned()));
    }
    if context.settings().discharge.mesh.is_some() {
        routes.push(("mesh", gp_practice.to_owned()));
    }
    if let Some(mdm) = &context.settings().discharge.mdm {
        routes.push(("mdm", mdm.receiving_application.clone()));
    }
    routes
}

/// Every row of the outbox, oldest first (no patient details: summary ids and practices).
pub async fn list(context: &Context, _sender: &SenderToken) -> Result<Vec<OutboxRow>, ServiceError> {
    Ok(context.store().discharge_outbox().all().await?)
}

/// How long a claimed row is left to its sender before another may take it
/// up: twice the longest a send may take, so a sender that died mid-send
/// does not hold the row for long, and a slow one is not overtaken.
fn sending_lease(context: &Context) -> chrono::Duration {
    let send_timeout = context.settings().discharge.smtp.as_ref().map_or(30, |s| s.timeout.as_secs());
    chrono::Duration::seconds(i64::try_from(send_timeout.saturating_mul(2)).unwrap_or(i64::MAX).max(5))
}

/// Works every due row once. A row whose send fails waits its turn by the
/// retry policy; one that can never go (refused for good, or past the
/// limits) is failed and raised.
pub async fn run_once(
    context: &Context,
    sender: &SenderToken,
    trust: &identity::Trust,
) -> Result<RunReport, ServiceError> {
    let mut report = RunReport::default();
    let due = context.store().discharge_outbox().due(&stamp(context.now()), 100).await?;
    // One SMTP connection for the pass, made when the first mail needs it.
    let mut mailer: Option<Result<crate::smtp::Mailer, SendFailure>> = None;
    for row in due {
        let lease = context.now() + sending_lease(context);
        let mut tx = context.store().begin().await?;
        match tx.discharge_outbox().claim(row.id, row.attempts, &stamp(lease)).await {
            Err(store::StoreError::Changed { .. }) => {
                report.skipped += 1;
                continue;
            }
            other => other?,
        }
        audit_send(&mut tx, &sender.actor, &row, None, &format!("claimed: attempt {}", row.attempts + 1))
            .await?;
        tx.commit().await?;
        let outcome = deliver(context, sender, &row, trust, &mut mailer).await;
        let mut tx = context.store().begin().await?;
        let now = context.now();
        let patient = match &outcome {
            Ok(Delivered { patient, .. }) | Err((_, Some(patient))) => Some(*patient),
            Err((_, None)) => None,
        };
        match outcome {
            Ok(Delivered { remote_id, itk, .. }) => {
                let itk = itk.as_ref().map(|(message_id, mailbox)| store::ItkSend { message_id, mailbox });
                tx.discharge_outbox().delivered(row.id, &remote_id, itk, &stamp(now)).await?;
                audit_send(&mut tx, &sender.actor, &row, patient, "ok: delivered").await?;
                report.delivered += 1;
            }
            Err((failure, _)) => {
                let queued_at =
                    DateTime::parse_from_rfc3339(&row.created_at_utc).map(|t| t.to_utc()).unwrap_or(now);
                let policy = context.settings().discharge.retry;
                match (failure.permanent, policy.after_failure(row.attempts + 1, queued_at, now)) {
                    (false, AfterFailure::TryAgainAt(next)) => {
                        tx.discharge_outbox().retry_later(row.id, &failure.reason, &stamp(next)).await?;
                        audit_send(&mut tx, &sender.actor, &row, patient, "failed: will retry").await?;
                        report.retrying += 1;
                    }
                    _ => {
                        tx.discharge_outbox().give_up(row.id, &failure.reason, &stamp(now)).await?;
                        audit_send(&mut tx, &sender.actor, &row, patient, "failed: given up").await?;
                        report.given_up += 1;
                    }
                }
            }
        }
        tx.commit().await?;
    }
    if let Some(mesh) = &context.settings().discharge.mesh {
        track_mesh(context, sender, mesh, &mut report).await?;
        record_practice_responses(context, sender, mesh, &mut report).await?;
    }
    Ok(report)
}

/// Reads the practices' ITK3 responses from our MESH inbox (the workflow's
/// `_ACK`) and records each against the send it names: a positive one as
/// taken, a negative one failed and raised. A response is taken out of the
/// inbox only once it is recorded; one that cannot be read, or names no send
/// of ours, is left there for people and counted.
async fn record_practice_responses(
    context: &Context,
    sender: &SenderToken,
    mesh: &settings::MeshSettings,
    report: &mut RunReport,
) -> Result<(), ServiceError> {
    // MESH's inbox is read only while a send waits for its practice's answer.
    if context.store().discharge_outbox().awaiting_business_response(1).await?.is_empty() {
        return Ok(());
    }
    let Ok(client) = crate::mesh::Mesh::new(mesh) else { return Ok(()) };
    let workflow = format!("{}_ACK", mesh.workflow);
    // MESH out of reach: read on the next pass.
    let Ok(waiting) = client.inbox(&workflow).await else { return Ok(()) };
    for mesh_id in waiting {
        let Ok(download) = client.download(&mesh_id, discharge::itk::MOST_RESPONSE_BYTES).await else {
            continue;
        };
        if download.workflow != workflow {
            continue;
        }
        let body = download.body;
        let response = match discharge::itk::read_response(&body) {
            Ok(response) => response,
            Err(why) => {
                tracing::warn!(mesh_message = %mesh_id, "an ITK3 response was left in the MESH inbox: {}", why.for_log());
                report.unread_responses += 1;
                continue;
            }
        };
        let row = context.store().discharge_outbox().by_itk_message(&response.answers).await?;
        // Only the mailbox the message went to may answer for it.
        let Some(row) = row.filter(|row| row.mesh_mailbox.as_deref() == Some(download.from.as_str())) else {
            tracing::warn!(mesh_message = %mesh_id, "an ITK3 response names no send of ours to its mailbox; left in the MESH inbox");
            report.unread_responses += 1;
            continue;
        };
        let level = match response.level {
            discharge::itk::Level::Infrastructure => store::ResponseLevel::Infrastructure,
            discharge::itk::Level::Business => store::ResponseLevel::Business,
        };
        let words = response.describe();
        let mut tx = context.store().begin().await?;
        match tx.discharge_outbox().responded(row.id, level, &words, response.positive).await {
            Ok(()) => {
                let outcome = if response.positive { "ok" } else { "failed" };
                audit_send(&mut tx, &sender.actor, &row, None, &format!("{outcome}: {words}")).await?;
                tx.commit().await?;
                report.practice_responses += 1;
                report.refused_by_practice += usize::from(!response.positive);
            }
            // Already failed (or not yet delivered): nothing to change, and it is read.
            Err(store::StoreError::Changed { .. }) => drop(tx),
            Err(other) => return Err(other.into()),
        }
        // Not taken out: it is read again next pass, and recording it again changes nothing.
        let _ = client.acknowledge(&mesh_id).await;
    }
    Ok(())
}

/// Follows each MESH send delivered to MESH until the practice takes it: an
/// acknowledged one is recorded, and one MESH reports undeliverable (or not
/// collected in time) is failed with MESH's reason and raised on the dashboard.
async fn track_mesh(
    context: &Context,
    sender: &SenderToken,
    mesh: &settings::MeshSettings,
    report: &mut RunReport,
) -> Result<(), ServiceError> {
    let waiting = context.store().discharge_outbox().delivered_by("mesh", 100).await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let Ok(client) = crate::mesh::Mesh::new(mesh) else { return Ok(()) };
    for row in waiting {
        let Some(message_id) = row.remote_id.as_deref() else { continue };
        // MESH out of reach: asked again on the next pass.
        let Ok((status, description)) = client.status(message_id).await else { continue };
        let mut tx = context.store().begin().await?;
        match status.as_str() {
            "acknowledged" => {
                tx.discharge_outbox().acknowledged(row.id).await?;
                audit_send(&mut tx, &sender.actor, &row, None, "ok: acknowledged by the practice").await?;
                report.acknowledged += 1;
            }
            "undeliverable" | "error" => {
                let why = match description.is_empty() {
                    true => format!("MESH could not deliver it to the practice ({status})"),
                    false => format!("MESH could not deliver it to the practice ({status}): {description}"),
                };
                tx.discharge_outbox().undeliverable(row.id, &why).await?;
                audit_send(&mut tx, &sender.actor, &row, None, "failed: undeliverable").await?;
                report.undeliverable += 1;
            }
            _ => continue,
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn audit_send(
    tx: &mut store::StoreTransaction,
    actor: &Actor,
    row: &OutboxRow,
    patient: Option<i64>,
    outcome: &str,
) -> Result<(), ServiceError> {
    tx.audit(
        actor,
        AuditAction::DischargeSend,
        patient,
        &[RecordRef::DischargeSummary(row.summary_id)],
        &format!("{outcome} ({} row {})", row.channel, row.id),
    )
    .await?;
    Ok(())
}

/// A send the far end took: its id there, for MESH the ITK3 MessageHeader
/// id it went with and the mailbox it went to, and the patient (for the audit).
struct Delivered {
    remote_id: String,
    itk: Option<(String, String)>,
    patient: i64,
}
type NotDelivered = (SendFailure, Option<i64>);

/// One send: the letter checked and rendered, then handed to its channel.
async fn deliver(
    context: &Context,
    sender: &SenderToken,
    row: &OutboxRow,
    trust: &identity::Trust,
    mailer: &mut Option<Result<crate::smtp::Mailer, SendFailure>>,
) -> Result<Delivered, NotDelivered> {
    let (letter, patient_id) = signed_letter(context, &sender.actor, row.summary_id, trust)
        .await
        .map_err(|e| (SendFailure { permanent: e.is_bad_input(), reason: e.to_string() }, None))?;
    let with_patient = |failure: SendFailure| (failure, Some(patient_id));
    match row.channel.as_str() {
        "smtp" => {
            let settings = &context.settings().discharge;
            let smtp = settings.smtp.as_ref().ok_or_else(|| {
                with_patient(
                    "SMTP is no longer set up ([discharge.smtp]); the row waits until it is"
                        .to_owned()
                        .into(),
                )
            })?;
            let to = settings.gp_addresses.get(&row.recipient).ok_or_else(|| {
                with_patient(
                    format!(
                        "no NHSmail address for GP practice {} in [discharge] gp_addresses; the row waits until there is",
                        row.recipient
                    )
                    .into(),
                )
            })?;
            let mailer = mailer
                .get_or_insert_with(|| crate::smtp::Mailer::new(smtp))
                .as_mut()
                .map_err(|e| with_patient(e.clone()))?;
            let pdf = printing::discharge_letter_pdf(&letter);
            let reply = mailer.send(mail(&letter, to, pdf)).await.map_err(with_patient)?;
            Ok(Delivered { remote_id: reply, itk: None, patient: patient_id })
        }
        "mesh" => {
            let mesh = context.settings().discharge.mesh.as_ref().ok_or_else(|| {
                with_patient(
                    "MESH is no longer set up ([discharge.mesh]); the row waits until it is"
                        .to_owned()
                        .into(),
                )
            })?;
            let client = crate::mesh::Mesh::new(mesh).map_err(with_patient)?;
            // The site's table first (its own arrangements), then MESH's directory.
            let to = match mesh.gp_mailboxes.get(&row.recipient) {
                Some(mailbox) => mailbox.clone(),
                None => client.mailbox_of(&row.recipient, &mesh.workflow).await.map_err(with_patient)?,
            };
            let local_id = format!("cws-{}-{}", row.id, discharge::fhir::document_id(&letter));
            let itk = Some((discharge::itk::message_id(&letter, &row.recipient), to.clone()));
            // An earlier attempt may have reached MESH before its answer was lost.
            if row.attempts > 0
                && let Some(remote_id) = client.already_sent(&local_id).await.map_err(with_patient)?
            {
                return Ok(Delivered { remote_id, itk, patient: patient_id });
            }
            let addressing = discharge::itk::Addressing {
                practice: row.recipient.clone(),
                mailbox: mesh.mailbox.clone(),
                sender_reference: local_id.clone(),
            };
            let xml = discharge::itk::message_xml(&letter, &addressing, context.now()).map_err(|e| {
                with_patient(SendFailure {
                    reason: format!("The ITK3 message could not be written: {e}"),
                    permanent: true,
                })
            })?;
            let message = crate::mesh::MeshMessage {
                to: &to,
                subject: letter.title(),
                local_id,
                file_name: format!("discharge-summary-{}-v{}.xml", letter.summary_id, letter.version),
                content_type: "application/fhir+xml",
                body: xml.into_bytes(),
            };
            let remote_id = client.send(message).await.map_err(with_patient)?;
            Ok(Delivered { remote_id, itk, patient: patient_id })
        }
        "mdm" => {
            let mdm = context.settings().discharge.mdm.as_ref().ok_or_else(|| {
                with_patient(
                    "The clinical system is no longer set up ([discharge.mdm]); the row waits"
                        .to_owned()
                        .into(),
                )
            })?;
            let route = discharge::mdm::Route {
                sending_application: mdm.sending_application.clone(),
                sending_facility: letter.trust.ods_code.clone(),
                receiving_application: mdm.receiving_application.clone(),
                receiving_facility: mdm
                    .receiving_facility
                    .clone()
                    .unwrap_or_else(|| letter.trust.ods_code.clone()),
            };
            let message = discharge::mdm::document_notification(
                &letter,
                &route,
                &format!("CWSDS{}", row.id),
                context.now(),
            );
            let ack = crate::mdm_sender::send(mdm, &message).await.map_err(with_patient)?;
            Ok(Delivered { remote_id: ack, itk: None, patient: patient_id })
        }
        other => Err(with_patient(SendFailure {
            reason: format!("this sender cannot send by {other:?}"),
            permanent: false,
        })),
    }
}

/// The mail for one letter: the subject names the patient (and an amendment),
/// as receiving practices ask, and the Message-ID names the document.
fn mail<'a>(letter: &Letter, to: &'a str, pdf: Vec<u8>) -> Mail<'a> {
    let patient = &letter.patient;
    let subject = format!(
        "{}: {}, NHS number {} ({})",
        letter.title(),
        patient.banner_name(),
        patient.nhs_number_display(),
        letter.trust.name
    );
    let body = format!(
        "{} for {}, NHS number {}, born {}, discharged {}.\n\nThe signed letter is attached as a PDF. It was signed with a smart card by {}, {}, on {}.\n\nSent by {} ({}); please do not reply to this address with clinical queries.\n",
        letter.title(),
        patient.banner_name(),
        patient.nhs_number_display(),
        discharge::date(patient.born),
        letter
            .summary
            .discharge
            .discharged_at
            .map(discharge::local_time)
            .unwrap_or_else(|| "(date not recorded)".into()),
        letter.signer.name,
        letter.signer.role,
        discharge::local_time(letter.signed_at),
        letter.trust.name,
        letter.trust.ods_code,
    );
    let nhs = patient.nhs_number.clone().unwrap_or_else(|| "no-nhs-number".into());
    Mail {
        to,
        subject,
        body,
        attachment_name: format!("discharge-summary-{nhs}-v{}.pdf", letter.version),
        pdf,
        message_id: format!(
            "<{}@{}.cws.invalid>",
            discharge::fhir::document_id(letter),
            letter.trust.ods_code.to_lowercase()
        ),
    }
}

/// A signed version as the letter that leaves: refused unless its signature
/// holds over the content as kept. The read is audited.
pub async fn signed_letter(
    context: &Context,
    actor: &Actor,
    summary_id: i64,
    trust: &identity::Trust,
) -> Result<(Letter, i64), ServiceError> {
    let signed = crate::discharge::checked_signed(context, actor, summary_id, trust).await?;
    if let Some(broken) = &signed.broken {
        return Err(ServiceError::Refused { rule: "signature_holds", reason: format!("Not sent: {broken}") });
    }
    let kept = context.store().discharge_summaries().get(summary_id).await?;
    let record = context.store().patients().read(actor, kept.patient_id).await?;
    let details = &record.details;
    let template = Template::named(&signed.summary.template).ok_or_else(|| ServiceError::Invalid {
        field: "template",
        reason: format!("no template is called {:?}", signed.summary.template),
    })?;
    let settings = context.settings();
    let ods_code = settings.site_ods_code.clone().ok_or_else(|| ServiceError::Refused {
        rule: "site_ods_code",
        reason: "the site's ODS code is not set ([site] ods_code): a letter must name the trust".into(),
    })?;
    let signed_at = DateTime::parse_from_rfc3339(&signed.signed_at_utc).map(|t| t.to_utc()).map_err(|e| {
        ServiceError::Invalid { field: "signed_at", reason: format!("discharge summary {summary_id}: {e}") }
    })?;
    let letter = Letter {
        summary_id,
        version: kept.version,
        template,
        patient: LetterPatient {
            family_name: details.family_name.clone(),
            given_names: details.given_names.clone(),
            nhs_number: details.nhs_number.map(|n| n.digits()),
            hospital_number: details.mrn.clone(),
            born: details.date_of_birth,
            sex: format!("{:?}", details.sex).to_lowercase(),
            address: details.address.clone(),
            postcode: details.postcode.clone(),
        },
        trust: Organisation { ods_code, name: settings.site_name.clone() },
        signer: LetterSigner {
            user_id: signed.signer.user_id.clone(),
            name: signed.signer.name.clone(),
            role: signed.signer.role.clone(),
            registration: signed.signer.registration.clone(),
        },
        signed_at,
        summary: signed.summary,
    };
    Ok((letter, kept.patient_id))
}
