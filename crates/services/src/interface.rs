//! The HL7 v2 interface: each message received is kept once by its key, its
//! effects committed with it, and only then acknowledged. A resend is
//! acknowledged again and never applied twice; a message that cannot be
//! applied is kept in the error queue and answered AE; a store that cannot be
//! reached is answered AR, and nothing is kept, so the sender resends.
//!
//! Laboratory results (ORU^R01) are applied here. ADT events are kept in the
//! error queue, answered AE, until their effects are built (issue #17).

use adt::{AdtError, Filing, TestMapping};
use chrono::SecondsFormat;
use hl7::Message;
use hl7::ack::{Outcome, acknowledgements};
use store::{Actor, AuditAction, MessageKey, MessageStatus, NewLabResult, NewMessage, RecordRef};

use crate::{Context, ServiceError};

/// The interface's token: the listener acting for the feed, not a person. It
/// is made only for the OS account the site names in `[interface] account`,
/// or, on a stand-alone workstation whose settings name none, for the account
/// running it (the one that holds the store's key).
#[derive(Debug, Clone)]
pub struct FeedToken {
    actor: Actor,
}

impl FeedToken {
    pub fn for_account(context: &Context, os_account: &Actor) -> Result<Self, ServiceError> {
        let refused = |reason: String| ServiceError::Refused { rule: "interface_account", reason };
        match (&context.settings().interface_account, context.is_shared_store()) {
            (Some(named), _) if *named != os_account.user => Err(refused(format!(
                "the interface runs as the account {named:?} the site names in [interface] account, not {:?}",
                os_account.user
            ))),
            (None, true) => Err(refused(
                "a shared store receives only from the account named in [interface] account".into(),
            )),
            _ => Ok(Self {
                actor: Actor {
                    user: format!("interface:{}", os_account.user),
                    workstation: os_account.workstation.clone(),
                },
            }),
        }
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

/// What the listener sends back, in order (ER7, unframed), and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub acknowledgements: Vec<String>,
    pub outcome: Outcome,
    /// The kept message's id, where it was kept.
    pub message_id: Option<i64>,
}

/// Receives one message: keep, apply, commit, then acknowledge.
pub async fn receive(context: &Context, feed: &FeedToken, text: &str) -> Reply {
    let now = context.now();
    let stamp = now.format("%Y%m%d%H%M%S").to_string();
    let ack_id = format!("CWS{}", now.timestamp_nanos_opt().unwrap_or_default());
    let reply = |message: &Message, outcome: Outcome, error: Option<&AdtError>, id: Option<i64>| Reply {
        acknowledgements: acknowledgements(
            message,
            outcome,
            error.map(|e| (e.to_string(), e.code)).as_ref().map(|(text, code)| (text.as_str(), *code)),
            &stamp,
            &ack_id,
        )
        .iter()
        .map(Message::encode)
        .collect(),
        outcome,
        message_id: id,
    };
    let message = match Message::parse(text) {
        Ok(message) => message,
        Err(problem) => {
            // Unreadable past its header: answered from the header alone, when there is one.
            let header_only = text.split(['\r', '\n']).next().and_then(|line| Message::parse(line).ok());
            let error = AdtError::new("message", "102", problem.reason);
            return match header_only {
                Some(header) => keep_unreadable(context, feed, &header, text, &error).await.map_or_else(
                    |_| reply(&header, Outcome::Rejected, None, None),
                    |id| reply(&header, Outcome::Error, Some(&error), id),
                ),
                None => Reply { acknowledgements: Vec::new(), outcome: Outcome::Error, message_id: None },
            };
        }
    };
    let header = match adt::header(&message) {
        Ok(header) => header,
        Err(error) => return reply(&message, Outcome::Error, Some(&error), None),
    };
    let key = MessageKey {
        sending_application: header.sending_application.clone(),
        sending_facility: header.sending_facility.clone(),
        control_id: header.control_id.clone(),
    };
    match context.store().interface_messages().status_of(&key).await {
        Ok(Some((id, MessageStatus::Error))) => {
            let error =
                AdtError::new("message", "207", "this message is in the error queue awaiting correction");
            return reply(&message, Outcome::Error, Some(&error), Some(id));
        }
        Ok(Some((id, _))) => return reply(&message, Outcome::Accepted, None, Some(id)),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, control_id = %header.control_id, "the store could not be reached; answered AR");
            return reply(&message, Outcome::Rejected, None, None);
        }
    }
    match apply(context, feed, &message, &header, &key, text).await {
        Ok((id, None)) => {
            tracing::info!(control_id = %header.control_id, message_id = id, "applied");
            reply(&message, Outcome::Accepted, None, Some(id))
        }
        Ok((id, Some(error))) => {
            tracing::info!(control_id = %header.control_id, message_id = id, code = error.code, "kept in the error queue");
            reply(&message, Outcome::Error, Some(&error), Some(id))
        }
        Err(error) => {
            tracing::warn!(%error, control_id = %header.control_id, "not kept; answered AR");
            reply(&message, Outcome::Rejected, None, None)
        }
    }
}

/// Keeps the message and applies its effects in one transaction; a refusal of
/// its content is kept as an error instead, in the same way.
async fn apply(
    context: &Context,
    feed: &FeedToken,
    message: &Message,
    header: &adt::Header,
    key: &MessageKey,
    text: &str,
) -> Result<(i64, Option<AdtError>), ServiceError> {
    let policy = context.settings().nhs_numbers;
    // Read (the patient looked up, audited) before the writing transaction begins:
    // on the local file a transaction holds the one write lock the audit needs.
    let effects = match header.message_type.as_str() {
        "ORU" => results_effects(context, feed, message, policy).await,
        "ADT" => adt::read_event(message, policy).and_then(|_| {
            Err(AdtError::new(
                "MSH-9",
                "207",
                "ADT events are received and kept, but not yet applied at this site",
            ))
        }),
        other => Err(AdtError::new("MSH-9", "200", format!("{other:?} messages are not received here"))),
    };
    let occurred = header.sent_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let (status, refusal) = match &effects {
        Ok(_) => (MessageStatus::Applied, None),
        Err(error) => (MessageStatus::Error, Some(error.clone())),
    };
    let mut tx = context.store().begin().await?;
    let kept = tx
        .interface_messages()
        .keep(&NewMessage {
            key,
            message_type: &header.message_type,
            event: &header.event,
            occurred_at_utc: occurred.as_deref(),
            status,
            error: refusal.as_ref().map(ToString::to_string).as_deref(),
            document: text,
        })
        .await?;
    let Some(id) = kept else {
        // Kept by another connection between the look and now: a resend.
        return Ok((
            context.store().interface_messages().status_of(key).await?.map(|(id, _)| id).unwrap_or(0),
            None,
        ));
    };
    let mut patient_id = None;
    let mut records = vec![RecordRef::Message(id)];
    if let Ok((patient, results)) = effects {
        patient_id = Some(patient);
        for mut result in results {
            result.message_id = id;
            let result_id = tx.lab_results().record(&result).await?;
            records.push(RecordRef::Result(result_id));
        }
    }
    let outcome = match &refusal {
        None => format!("ok: {} {}^{}", header.control_id, header.message_type, header.event),
        Some(error) => format!("error queue: {} {}", header.control_id, error.code),
    };
    tx.audit(feed.actor(), AuditAction::InterfaceReceive, patient_id, &records, &outcome).await?;
    tx.commit().await?;
    Ok((id, refusal))
}

/// An ORU^R01's results for the patient it names (by NHS number, else hospital
/// number), each filed for the checks by the site's code table.
async fn results_effects(
    context: &Context,
    feed: &FeedToken,
    message: &Message,
    policy: patients::NhsNumberPolicy,
) -> Result<(i64, Vec<NewLabResult>), AdtError> {
    let report = adt::read_results(message, policy)?;
    let query = match (&report.patient.nhs_number, report.patient.hospital_number()) {
        (adt::NhsNumberReading::Valid(number), _) => patients::PatientQuery::NhsNumber(*number),
        (_, Some(mrn)) => patients::PatientQuery::Mrn(mrn.id.clone()),
        _ => {
            return Err(AdtError::new(
                "PID-3",
                "204",
                "no valid NHS number or hospital number to find the patient by",
            ));
        }
    };
    let found = context
        .store()
        .patients()
        .search(feed.actor(), &query, 2)
        .await
        .map_err(|e| AdtError::new("PID-3", "207", e.to_string()))?;
    let [patient] = found.as_slice() else {
        return Err(AdtError::new("PID-3", "204", "the patient is not in this index"));
    };
    let mappings: Vec<TestMapping> = context
        .settings()
        .lab_codes
        .iter()
        .map(|(code, m)| TestMapping {
            laboratory_code: code.clone(),
            check: m.check.clone(),
            units: m.units.clone(),
        })
        .collect();
    let results = report
        .results
        .iter()
        .map(|result| {
            let (used_for, held_because) = match adt::file_for_checks(result, &mappings) {
                Filing::ForCheck { check, .. } => (Some(check), None),
                Filing::HeldForReview { reason, .. } => (None, Some(reason)),
                Filing::NotForChecks => (None, None),
            };
            NewLabResult {
                patient_id: patient.id,
                message_id: 0,
                code: result.code.clone(),
                name: result.name.clone(),
                value: result.value.clone(),
                value_type: result.value_type.clone(),
                units: result.units.clone(),
                reference_range: result.reference_range.clone(),
                abnormal_flag: result.abnormal_flag.clone(),
                status: result.status.clone(),
                observed_at_utc: result.observed_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                laboratory: result.laboratory.clone(),
                used_for,
                held_because,
            }
        })
        .collect();
    Ok((patient.id, results))
}

/// A message unreadable past its header, kept in the error queue by its key.
async fn keep_unreadable(
    context: &Context,
    feed: &FeedToken,
    header: &Message,
    text: &str,
    error: &AdtError,
) -> Result<Option<i64>, ServiceError> {
    let Ok(read) = adt::header(header) else { return Ok(None) };
    let key = MessageKey {
        sending_application: read.sending_application,
        sending_facility: read.sending_facility,
        control_id: read.control_id,
    };
    let mut tx = context.store().begin().await?;
    let kept = tx
        .interface_messages()
        .keep(&NewMessage {
            key: &key,
            message_type: &read.message_type,
            event: &read.event,
            occurred_at_utc: None,
            status: MessageStatus::Error,
            error: Some(&error.to_string()),
            document: text,
        })
        .await?;
    if let Some(id) = kept {
        let outcome = format!("error queue: {} {}", key.control_id, error.code);
        tx.audit(feed.actor(), AuditAction::InterfaceReceive, None, &[RecordRef::Message(id)], &outcome)
            .await?;
        tx.commit().await?;
    }
    Ok(kept)
}

/// The error queue, oldest first (what `cws adt errors` lists); the read is audited.
pub async fn errors(
    context: &Context,
    feed: &FeedToken,
    limit: u32,
) -> Result<Vec<store::KeptMessage>, ServiceError> {
    Ok(context.store().interface_messages().errors(feed.actor(), limit).await?)
}
