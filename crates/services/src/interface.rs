//! The HL7 v2 interface: each message received is kept once by its key, its
//! effects committed with it, and only then acknowledged. A resend is
//! acknowledged again and never applied twice; a message that cannot be
//! applied is kept in the error queue and answered AE; a store that cannot be
//! reached is answered AR, and nothing is kept, so the sender resends.
//!
//! Laboratory results (ORU^R01) are filed against the patient. ADT events
//! update the patient index, move the patient's stay forwards only (an older
//! event is recorded as stale and changes nothing), set the beds it leaves and
//! takes, and merge patients (A40).

use adt::{AdtError, Filing, TestMapping};
use chrono::SecondsFormat;
use hl7::Message;
use hl7::ack::{Outcome, Refusal, acknowledgements};
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
    /// Not even its MSH could be read: there is nothing to acknowledge it by.
    pub unreadable: bool,
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
            error.map(|e| Refusal { location: &e.field, code: e.code, text: &e.reason }),
            &stamp,
            &ack_id,
        )
        .iter()
        .map(Message::encode)
        .collect(),
        outcome,
        message_id: id,
        unreadable: false,
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
                None => Reply {
                    acknowledgements: Vec::new(),
                    outcome: Outcome::Error,
                    message_id: None,
                    unreadable: true,
                },
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
    // Two messages for one patient on two connections can race for the same stay:
    // the later is planned again on what the earlier committed, as a resend would be.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match apply(context, feed, &message, &header, &key, text, None).await {
            Ok(Kept::Before(id, MessageStatus::Error)) => {
                let error =
                    AdtError::new("message", "207", "this message is in the error queue awaiting correction");
                return reply(&message, Outcome::Error, Some(&error), Some(id));
            }
            Ok(Kept::Before(id, _)) => return reply(&message, Outcome::Accepted, None, Some(id)),
            Ok(Kept::Now(id, None)) => {
                tracing::info!(control_id = %header.control_id, message_id = id, "applied");
                return reply(&message, Outcome::Accepted, None, Some(id));
            }
            Ok(Kept::Now(id, Some(error))) => {
                tracing::info!(control_id = %header.control_id, message_id = id, code = error.code, "kept in the error queue");
                return reply(&message, Outcome::Error, Some(&error), Some(id));
            }
            Err(ServiceError::Store(store::StoreError::Changed { .. })) if attempts < 5 => {
                tracing::debug!(control_id = %header.control_id, "planned on a stay another message changed; again");
            }
            Err(error) => {
                tracing::warn!(%error, control_id = %header.control_id, "not kept; answered AR");
                return reply(&message, Outcome::Rejected, None, None);
            }
        }
    }
}

/// Whether a message was kept now, with the refusal that put it in the error
/// queue if one did, or before (a resend), with what became of it then.
enum Kept {
    Now(i64, Option<AdtError>),
    Before(i64, MessageStatus),
}

/// Why a message's effects could not be worked out: its content (it goes to
/// the error queue, answered AE), or the store (nothing kept, answered AR).
enum PlanError {
    Refused(AdtError),
    Store(store::StoreError),
}

impl From<AdtError> for PlanError {
    fn from(error: AdtError) -> Self {
        Self::Refused(error)
    }
}

impl From<store::StoreError> for PlanError {
    fn from(error: store::StoreError) -> Self {
        Self::Store(error)
    }
}

/// Keeps the message and applies its effects in one transaction, the reads
/// that plan them included, so a message is one durable commit and one audit
/// entry (naming every record it read or wrote). A refusal of its content is
/// kept as an error instead, in the same way. A message `replaying` from the
/// error queue is already kept: its status is changed instead.
async fn apply(
    context: &Context,
    feed: &FeedToken,
    message: &Message,
    header: &adt::Header,
    key: &MessageKey,
    text: &str,
    replaying: Option<i64>,
) -> Result<Kept, ServiceError> {
    let policy = context.settings().nhs_numbers;
    let mut tx = context.store().begin_direct().await?;
    let occurred = header.sent_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    // Kept first, as applied: a resend stops here, and on a shared server a
    // second copy arriving at once waits for the first's commit.
    let id = match replaying {
        Some(id) => id,
        None => {
            match keep(&mut tx, key, header, occurred.as_deref(), MessageStatus::Applied, None, text).await? {
                Some(id) => id,
                None => {
                    let (id, status) =
                        tx.interface_messages().status_of(key).await?.unwrap_or((0, MessageStatus::Applied));
                    // What was read may be another's work still waiting in a group
                    // commit: it is acknowledged again only once that is durable.
                    tx.commit().await?;
                    return Ok(Kept::Before(id, status));
                }
            }
        }
    };
    let effects = match header.message_type.as_str() {
        "ORU" => results_effects(context, &mut tx, message, policy).await.map(Effects::Results),
        "ADT" => adt_effects(&mut tx, message, policy).await.map(|plan| Effects::Adt(Box::new(plan))),
        other => {
            Err(AdtError::new("MSH-9", "200", format!("{other:?} messages are not received here")).into())
        }
    };
    let effects = match effects {
        Ok(effects) => Ok(effects),
        Err(PlanError::Refused(error)) => Err(error),
        Err(PlanError::Store(error)) => return Err(error.into()),
    };
    let (status, refusal) = match &effects {
        Ok(Effects::Adt(plan)) if plan.stale => (MessageStatus::Stale, None),
        Ok(_) => (MessageStatus::Applied, None),
        Err(error) => (MessageStatus::Error, Some(error.clone())),
    };
    match replaying {
        Some(id) => {
            let status = if status == MessageStatus::Applied { MessageStatus::Replayed } else { status };
            let error = refusal.as_ref().map(ToString::to_string);
            if !tx.interface_messages().resolve_error(id, status, error.as_deref()).await? {
                return Err(ServiceError::Refused {
                    rule: "replay_only_errors",
                    reason: format!("message {id} was taken from the error queue by another replay"),
                });
            }
        }
        None if status != MessageStatus::Applied => {
            let error = refusal.as_ref().map(ToString::to_string);
            tx.interface_messages().set_status(id, status, error.as_deref()).await?;
        }
        None => {}
    }
    let mut patient_id = None;
    let mut records = vec![RecordRef::Message(id)];
    match effects {
        Ok(Effects::Results((patient, results))) => {
            patient_id = Some(patient);
            let results: Vec<NewLabResult> =
                results.into_iter().map(|result| NewLabResult { message_id: id, ..result }).collect();
            records.extend(tx.lab_results().record_all(&results).await?.into_iter().map(RecordRef::Result));
        }
        Ok(Effects::Adt(plan)) => {
            let applied = apply_adt(&mut tx, *plan).await?;
            patient_id = Some(applied.0);
            records.extend(applied.1);
        }
        Err(_) => {}
    }
    let outcome = match (&refusal, status) {
        (None, MessageStatus::Stale) => format!(
            "stale: {} {}^{} is older than the stay",
            header.control_id, header.message_type, header.event
        ),
        (None, _) => format!("ok: {} {}^{}", header.control_id, header.message_type, header.event),
        (Some(error), _) => format!("error queue: {} {}", header.control_id, error.code),
    };
    let action =
        if replaying.is_some() { AuditAction::InterfaceReplay } else { AuditAction::InterfaceReceive };
    tx.audit(feed.actor(), action, patient_id, &records, &outcome).await?;
    tx.commit().await?;
    Ok(Kept::Now(id, refusal))
}

/// What replaying a message from the error queue came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Its effects are committed now.
    Applied,
    /// Older than what is held: recorded, nothing changed.
    Stale,
    /// Still refused; it stays in the queue with this reason.
    StillRefused(String),
}

/// Applies a message from the error queue again, after a correction to what
/// refused it (the patient registered, the site's code table mended). Only a
/// message in the queue can be replayed, so nothing is ever applied twice.
pub async fn replay(context: &Context, feed: &FeedToken, id: i64) -> Result<Replayed, ServiceError> {
    let kept = context.store().interface_messages().get(feed.actor(), id).await?;
    if kept.status != MessageStatus::Error {
        return Err(ServiceError::Refused {
            rule: "replay_only_errors",
            reason: format!("message {id} is {}, not waiting in the error queue", kept.status.text()),
        });
    }
    let message = Message::parse(&kept.document).map_err(|problem| ServiceError::Invalid {
        field: "message",
        reason: format!("message {id} still cannot be read: {}", problem.reason),
    })?;
    let header = adt::header(&message)
        .map_err(|error| ServiceError::Invalid { field: "message", reason: error.to_string() })?;
    let refusal = match apply(context, feed, &message, &header, &kept.key, &kept.document, Some(id)).await? {
        Kept::Now(_, refusal) => refusal,
        Kept::Before(..) => None,
    };
    let now = context.store().interface_messages().status_of(&kept.key).await?;
    Ok(match (refusal, now) {
        (Some(error), _) => Replayed::StillRefused(error.to_string()),
        (None, Some((_, MessageStatus::Stale))) => Replayed::Stale,
        (None, _) => Replayed::Applied,
    })
}

/// What a message will change, worked out (with the reads it needs) before the
/// transaction that changes it.
enum Effects {
    Results((i64, Vec<NewLabResult>)),
    Adt(Box<AdtPlan>),
}

/// An ADT event's changes: who (found, updated or added), the stay as it will
/// stand, the beds it leaves and takes, and a merge.
struct AdtPlan {
    patient: PatientPlan,
    stay: Option<StayPlan>,
    /// The event is older than the stay: recorded, nothing changed.
    stale: bool,
    beds: Vec<(adt::Location, adt::BedState, bool)>,
    merge_from: Option<i64>,
}

enum PatientPlan {
    Found(i64),
    Update(i64, patients::NewPatient),
    Add(patients::NewPatient),
}

enum StayPlan {
    New(adt::Stay),
    Moved { id: i64, version: i64, stay: adt::Stay },
}

/// Applies an ADT plan in the message's transaction; gives the patient and the records touched.
async fn apply_adt(
    tx: &mut store::StoreTransaction,
    plan: AdtPlan,
) -> Result<(i64, Vec<RecordRef>), ServiceError> {
    let patient_id = match plan.patient {
        PatientPlan::Found(id) => id,
        PatientPlan::Update(id, details) => {
            tx.patients().update_person(id, &details).await?;
            id
        }
        PatientPlan::Add(details) => tx.patients().insert(&details).await?,
    };
    let mut records = vec![RecordRef::Patient(patient_id)];
    if let Some(from) = plan.merge_from {
        tx.stays().merge_patients(from, patient_id).await?;
        records.push(RecordRef::Patient(from));
    }
    if plan.stale {
        return Ok((patient_id, records));
    }
    match plan.stay {
        Some(StayPlan::New(stay)) => {
            records.push(RecordRef::Stay(tx.stays().insert(patient_id, &stay).await?))
        }
        Some(StayPlan::Moved { id, version, stay }) => {
            tx.stays().update(id, version, &stay).await?;
            records.push(RecordRef::Stay(id));
        }
        None => {}
    }
    let beds: Vec<_> = plan
        .beds
        .into_iter()
        .map(|(location, state, occupied)| (location, state, occupied.then_some(patient_id)))
        .collect();
    tx.stays().set_beds(&beds).await?;
    Ok((patient_id, records))
}

/// The patient an identity names, by NHS number, else hospital number. An
/// identifier merged into another record (A40) names no one now: the sender is
/// told to use the survivor's, rather than the message being filed to a record
/// no one reads.
async fn find_patient(
    tx: &mut store::StoreTransaction,
    identity: &adt::PatientIdentity,
) -> Result<Option<i64>, PlanError> {
    Ok(find_current_patient(tx, identity).await?.map(|found| found.id))
}

/// The unmerged record a message names; a merged identifier is refused, naming the survivor.
async fn find_current_patient(
    tx: &mut store::StoreTransaction,
    identity: &adt::PatientIdentity,
) -> Result<Option<patients::PatientRecord>, PlanError> {
    match find_patient_even_merged(tx, identity).await? {
        Some(found) if found.merged_into.is_some() => Err(AdtError::new(
            "PID-3",
            "204",
            format!(
                "this identifier was merged into patient record {}; use the surviving identifier",
                found.merged_into.unwrap_or_default()
            ),
        )
        .into()),
        found => Ok(found),
    }
}

/// The record a message names, merged or not: by a valid NHS number, else by
/// hospital number. A hospital number held with another valid NHS number is
/// refused rather than guessed between.
async fn find_patient_even_merged(
    tx: &mut store::StoreTransaction,
    identity: &adt::PatientIdentity,
) -> Result<Option<patients::PatientRecord>, PlanError> {
    let sent = match &identity.nhs_number {
        adt::NhsNumberReading::Valid(number) => Some(*number),
        _ => None,
    };
    if let Some(number) = sent {
        let found = tx.patients().find_by_identifier(&patients::PatientQuery::NhsNumber(number)).await?;
        if let Some(patient) = found.into_iter().next() {
            return Ok(Some(patient));
        }
    }
    let Some(mrn) = identity.hospital_number() else {
        return match sent {
            Some(_) => Ok(None),
            None => Err(AdtError::new(
                "PID-3",
                "204",
                "no valid NHS number or hospital number to find the patient by",
            )
            .into()),
        };
    };
    let found = tx.patients().find_by_identifier(&patients::PatientQuery::Mrn(mrn.id.clone())).await?;
    match (found.into_iter().next(), sent) {
        (Some(held), Some(_)) if held.details.nhs_number.is_some() => Err(AdtError::new(
            "PID-3",
            "205",
            format!(
                "hospital number {} belongs to patient record {} with another NHS number; the PAS must resolve which is right",
                mrn.id, held.id
            ),
        )
        .into()),
        (held, _) => Ok(held),
    }
}

/// The index record PID describes. A patient whose NHS number fails its check
/// (or who has none) is kept by hospital number, with the number received
/// beside it to be shown and corrected; one with neither is refused.
fn person(identity: &adt::PatientIdentity) -> Result<patients::NewPatient, AdtError> {
    let (nhs_number, nhs_number_failing_check) = match &identity.nhs_number {
        adt::NhsNumberReading::Valid(number) => (Some(*number), None),
        adt::NhsNumberReading::Invalid(received) => (None, Some(received.clone())),
        adt::NhsNumberReading::Absent => (None, None),
    };
    if nhs_number.is_none() && identity.hospital_number().is_none() {
        return Err(AdtError::new(
            "PID-3",
            "204",
            "without a valid NHS number the patient is kept by hospital number, and none was sent",
        ));
    }
    let date_of_birth = identity
        .date_of_birth
        .ok_or_else(|| AdtError::new("PID-7", "101", "the date of birth is missing"))?;
    let sex = match identity.sex.as_deref() {
        Some("F") => patients::Sex::Female,
        Some("M") => patients::Sex::Male,
        Some("O") => patients::Sex::Other,
        _ => patients::Sex::Unknown,
    };
    Ok(patients::NewPatient {
        nhs_number,
        nhs_number_failing_check,
        mrn: identity.hospital_number().map(|i| i.id.clone()),
        family_name: identity.family_name.clone(),
        given_names: identity.given_names.clone(),
        title: identity.title.clone(),
        date_of_birth,
        sex,
        address: None,
        postcode: None,
        gp_practice: None,
        deceased_date: identity.died_at.map(|t| t.date_naive()),
    })
}

/// The person an update brings for a record already held: a valid NHS number
/// is never given up for none, and never for one that fails its check.
fn updated_person(
    held: &patients::PatientRecord,
    identity: &adt::PatientIdentity,
) -> Result<patients::NewPatient, AdtError> {
    let mut person = person(identity)?;
    if let Some(number) = held.details.nhs_number {
        if person.nhs_number_failing_check.is_some() {
            return Err(AdtError::new(
                "PID-3",
                "102",
                "the NHS number sent fails its check, and this patient is held with a valid one; nothing was changed",
            ));
        }
        person.nhs_number = Some(number);
    }
    Ok(person)
}

/// Works out an ADT message's changes: the person, the stay (forwards only) and the beds.
async fn adt_effects(
    tx: &mut store::StoreTransaction,
    message: &Message,
    policy: patients::NhsNumberPolicy,
) -> Result<AdtPlan, PlanError> {
    use adt::{BedState, EventKind};
    let received = adt::read_event(message, policy)?;
    let event = &received.event;
    let held = find_current_patient(tx, &event.patient).await?;
    let found = held.as_ref().map(|p| p.id);
    let creates = matches!(
        event.kind,
        EventKind::Admit | EventKind::Register | EventKind::PreAdmit | EventKind::AddPerson
    );
    let updates = matches!(event.kind, EventKind::Update | EventKind::AddPerson | EventKind::UpdatePerson);
    let patient = match &held {
        Some(held) if updates => PatientPlan::Update(held.id, updated_person(held, &event.patient)?),
        Some(held) => PatientPlan::Found(held.id),
        None if creates => PatientPlan::Add(person(&event.patient)?),
        None => return Err(AdtError::new("PID-3", "204", "the patient is not in this index").into()),
    };
    let mut plan = AdtPlan { patient, stay: None, stale: false, beds: Vec::new(), merge_from: None };
    if event.kind == EventKind::Merge {
        let survivor = found
            .ok_or_else(|| AdtError::new("PID-3", "204", "the surviving patient is not in this index"))?;
        for merged in &event.merged {
            let identity = adt::PatientIdentity {
                nhs_number: if merged.authority.eq_ignore_ascii_case("NHS") {
                    patients::NhsNumber::parse(&merged.id, policy)
                        .map(adt::NhsNumberReading::Valid)
                        .unwrap_or(adt::NhsNumberReading::Invalid(merged.id.clone()))
                } else {
                    adt::NhsNumberReading::Absent
                },
                identifiers: vec![merged.clone()],
                ..event.patient.clone()
            };
            let from = match find_patient_even_merged(tx, &identity).await?.map(|p| (p.id, p.merged_into)) {
                None => {
                    return Err(
                        AdtError::new("MRG-1", "204", "the patient to merge is not in this index").into()
                    );
                }
                Some((_, Some(into))) => {
                    return Err(AdtError::new(
                        "MRG-1",
                        "205",
                        format!("this identifier was already merged into patient record {into}"),
                    )
                    .into());
                }
                Some((from, None)) => from,
            };
            if from == survivor {
                return Err(AdtError::new("MRG-1", "205", "the identifiers name one patient already").into());
            }
            plan.merge_from = Some(from);
        }
        return Ok(plan);
    }
    // An A08 changes a stay only to bring its expected discharge date.
    let updates_stay = event.kind == EventKind::Update && event.expected_discharge.is_some();
    if !event.kind.has_visit() || (event.kind == EventKind::Update && !updates_stay) {
        return Ok(plan);
    }
    let current = match found {
        Some(id) => tx.stays().latest_for_update(id).await?.filter(|s| {
            !matches!(s.stay.state, adt::StayState::Discharged | adt::StayState::Cancelled) || !creates
        }),
        None => None,
    };
    if updates_stay && current.is_none() {
        // An A08 for a patient with no stay here changes the person only.
        return Ok(plan);
    }
    let (before, after, stay_plan) = match current {
        Some(stored) => {
            let mut stay = stored.stay.clone();
            match stay.apply(&received)? {
                adt::Applied::Stale => {
                    plan.stale = true;
                    return Ok(plan);
                }
                adt::Applied::PersonOnly => return Ok(plan),
                adt::Applied::Moved => {}
            }
            (
                Some(stored.stay),
                stay.clone(),
                StayPlan::Moved { id: stored.id, version: stored.row_version, stay },
            )
        }
        None => {
            let stay = adt::Stay::begin(&received)?;
            (None, stay.clone(), StayPlan::New(stay))
        }
    };
    let was_in =
        before.as_ref().filter(|s| s.state == adt::StayState::Admitted).and_then(|s| s.location.clone());
    let now_in =
        Some(&after).filter(|s| s.state == adt::StayState::Admitted).and_then(|s| s.location.clone());
    if let Some(left) = was_in.filter(|l| Some(l) != now_in.as_ref()) {
        // A bed left by a move or discharge is cleaned before the next patient; one left by a cancellation was never really taken.
        let cancelled = matches!(
            event.kind,
            EventKind::CancelAdmit | EventKind::CancelTransfer | EventKind::CancelDischarge
        );
        plan.beds.push((left, if cancelled { BedState::Free } else { BedState::Housekeeping }, false));
    }
    if let Some(taken) = now_in {
        plan.beds.push((taken, BedState::Occupied, true));
    }
    plan.stay = Some(stay_plan);
    Ok(plan)
}

/// An ORU^R01's results for the patient it names (by NHS number, else hospital
/// number), each filed for the checks by the site's code table.
async fn results_effects(
    context: &Context,
    tx: &mut store::StoreTransaction,
    message: &Message,
    policy: patients::NhsNumberPolicy,
) -> Result<(i64, Vec<NewLabResult>), PlanError> {
    let report = adt::read_results(message, policy)?;
    let Some(patient_id) = find_patient(tx, &report.patient).await? else {
        return Err(AdtError::new("PID-3", "204", "the patient is not in this index").into());
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
                patient_id,
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
    Ok((patient_id, results))
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
        sending_application: read.sending_application.clone(),
        sending_facility: read.sending_facility.clone(),
        control_id: read.control_id.clone(),
    };
    let mut tx = context.store().begin_direct().await?;
    let kept = keep(&mut tx, &key, &read, None, MessageStatus::Error, Some(error), text).await?;
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

/// Keeps a message in `tx` by its key; `None` when it is already kept (a resend).
async fn keep(
    tx: &mut store::StoreTransaction,
    key: &MessageKey,
    header: &adt::Header,
    occurred_at_utc: Option<&str>,
    status: MessageStatus,
    refusal: Option<&AdtError>,
    text: &str,
) -> Result<Option<i64>, ServiceError> {
    let error = refusal.map(ToString::to_string);
    let message = NewMessage {
        key,
        message_type: &header.message_type,
        event: &header.event,
        occurred_at_utc,
        status,
        error: error.as_deref(),
        document: text,
    };
    Ok(tx.interface_messages().keep(&message).await?)
}
