//! Exchange with the regional cancer centre: a course's treatment record sent
//! as a file signed with the sender's card, and received after the signature,
//! the sender's trust and the patient's identity are checked. Doses received
//! count towards lifetime limits here, marked with the site that gave them.

use serde::{Deserialize, Serialize};
use session::Permission;
use store::{AuditAction, DoseGiven, RecordRef};

use crate::sact::ActSigner;
use crate::{Acting, Context, ServiceError};

/// The file: the record, and the sender's card signature over its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransferFile {
    pub record: sact::TransferRecord,
    pub signature: identity::DocumentSignature,
}

/// The course's record as a signed file, to send (view_patients).
pub async fn transfer_out(
    context: &Context,
    acting: &Acting,
    signer: &dyn ActSigner,
    course_id: i64,
) -> Result<Vec<u8>, ServiceError> {
    let actor = acting.requires(Permission::ViewPatients)?;
    let store = context.store();
    let course = store.sact().course(actor, course_id).await?;
    let cycles = store.sact().cycles_of_course(actor, course_id).await?;
    let patient = store.patients().read(actor, course.patient_id).await?.details;
    // The centre matches the patient by NHS number: without a valid one it
    // could file this course against someone else, or no one.
    let Some(nhs_number) = patient.nhs_number else {
        return Err(ServiceError::Refused {
            rule: "transfer_needs_nhs_number",
            reason: "this patient has no valid NHS number (kept by hospital number): correct it on the PAS before sending the course to another centre".into(),
        });
    };
    let doses = store.sact().doses_given(actor, course.patient_id).await?;
    let here = context.settings().site_ods_code.clone().unwrap_or_else(|| "site-ods-code-not-set".into());
    let record = sact::TransferRecord {
        schema: sact::TRANSFER_SCHEMA.into(),
        from_site: here,
        patient: sact::TransferPatient {
            nhs_number: nhs_number.digits(),
            family_name: patient.family_name,
            given_names: patient.given_names,
            date_of_birth: patient.date_of_birth,
        },
        course,
        cycles: cycles.into_iter().map(|c| c.cycle).collect(),
        doses_given: doses
            .into_iter()
            .map(|d| sact::TransferredDose {
                drug: d.drug,
                dose: d.dose,
                unit: d.unit,
                dose_per_m2: d.dose_per_m2,
                given_at: d.given_at,
                site: d.site,
            })
            .collect(),
        sent_at: context.now(),
    };
    let signature = signer.sign(&record.signing_bytes())?;
    if signature.user_id != actor.user {
        return Err(ServiceError::Refused {
            rule: "signer",
            reason: "the record is signed by the sender's own card".into(),
        });
    }
    let mut tx = store.begin().await?;
    let outcome = format!("ok: sent with {} doses given", record.doses_given.len());
    tx.audit(
        actor,
        AuditAction::SactRead,
        Some(record.course.patient_id),
        &[RecordRef::Course(course_id)],
        &outcome,
    )
    .await?;
    tx.commit().await?;
    serde_json::to_vec_pretty(&TransferFile { record, signature })
        .map_err(|e| ServiceError::Invalid { field: "transfer", reason: e.to_string() })
}

/// What a received record added here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    pub patient_id: i64,
    pub from_site: String,
    pub doses_added: usize,
}

/// Receives a signed record (prescribe_sact): the signature must hold against
/// the trusted CA, the patient must be here by NHS number with the same date
/// of birth and name, and doses already recorded are not added twice.
pub async fn transfer_in(
    context: &Context,
    acting: &Acting,
    viewer: &Acting,
    file: &[u8],
    trust: &identity::Trust,
) -> Result<Received, ServiceError> {
    let actor = acting.requires(Permission::PrescribeSact)?;
    let transfer: TransferFile = serde_json::from_slice(file).map_err(|e| ServiceError::Invalid {
        field: "transfer",
        reason: format!("the file is not a SACT transfer record: {e}"),
    })?;
    identity::verify_document(&transfer.record.signing_bytes(), &transfer.signature, trust).map_err(|e| {
        ServiceError::Refused {
            rule: "transfer_signature",
            reason: format!("the record's signature does not hold: {e}"),
        }
    })?;
    let record = &transfer.record;
    let number = patients::NhsNumber::parse(&record.patient.nhs_number, context.settings().nhs_numbers)
        .map_err(|e| ServiceError::Invalid { field: "transfer", reason: e.to_string() })?;
    let found =
        crate::patients::search(context, viewer, &patients::PatientQuery::NhsNumber(number), 2).await?;
    let [local] = found.as_slice() else {
        return Err(ServiceError::Refused {
            rule: "transfer_patient",
            reason: "no patient here has the record's NHS number; add the patient first".into(),
        });
    };
    let details = context.store().patients().read(actor, local.id).await?.details;
    record.check_patient(&sact::TransferPatient {
        nhs_number: number.digits(),
        family_name: details.family_name,
        given_names: details.given_names,
        date_of_birth: details.date_of_birth,
    })?;
    let already = context.store().sact().doses_given(actor, local.id).await?;
    let new: Vec<&sact::TransferredDose> = record
        .doses_given
        .iter()
        .filter(|d| !already.iter().any(|a| a.drug == d.drug && a.given_at == d.given_at && a.site == d.site))
        .collect();
    let mut tx = context.store().begin().await?;
    for dose in &new {
        tx.sact()
            .record_dose_given(&DoseGiven {
                patient_id: local.id,
                cycle_id: None,
                drug: dose.drug.clone(),
                dose: dose.dose,
                unit: dose.unit.clone(),
                dose_per_m2: dose.dose_per_m2,
                given_at: dose.given_at,
                site: dose.site.clone(),
            })
            .await?;
    }
    let outcome = format!("ok: received from {} ({} doses added)", record.from_site, new.len());
    tx.audit(actor, AuditAction::SactDoseGiven, Some(local.id), &[RecordRef::Patient(local.id)], &outcome)
        .await?;
    tx.commit().await?;
    Ok(Received { patient_id: local.id, from_site: record.from_site.clone(), doses_added: new.len() })
}
