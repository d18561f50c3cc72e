//! Discharge summaries (#19, the drafting part): a draft started from the
//! patient's latest admission, prefilled from the store, saved again and again
//! (autosave) only from the version read, and opened again after a crash.
//! Each act needs `author_discharge` and is audited with the summary's id.

use discharge::{AdmissionDetails, DischargeDetails, DischargeSummary, Template};
use session::Permission;
use store::{AuditAction, RecordRef};

use crate::{Acting, Context, ServiceError};

/// A draft as the author works on it: the content, and the row version to save from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Draft {
    pub id: i64,
    pub row_version: i64,
    pub summary: DischargeSummary,
}

fn template_named(name: &str) -> Result<Template, ServiceError> {
    Template::shipped().into_iter().find(|t| t.name == name).ok_or_else(|| ServiceError::Invalid {
        field: "template",
        reason: format!(
            "no template is called {name:?}; there are {}",
            Template::shipped().iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Starts a draft for the patient on `template`, prefilled from the store: the
/// GP practice, and the admission and discharge details of the latest stay.
pub async fn start(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    template: &str,
) -> Result<Draft, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let template = template_named(template)?;
    let patient = context.store().patients().read(actor, patient_id).await?;
    let stay = context.store().stays().latest(actor, patient_id).await?;
    let admitted_at = stay.as_ref().and_then(|s| s.stay.steps.first().map(|step| step.at));
    let discharged = stay.as_ref().filter(|s| s.stay.state == adt::StayState::Discharged);
    let sact = match (template.includes_sact, admitted_at) {
        (true, Some(from)) => {
            let until = discharged.map(|s| s.stay.latest).unwrap_or_else(|| context.now());
            sact_given(context, actor, patient_id, from, until).await?
        }
        _ => Vec::new(),
    };
    let summary = DischargeSummary {
        patient_id,
        template: template.name.clone(),
        gp_practice: patient.details.gp_practice.map(|gp| gp.ods_code),
        admission: AdmissionDetails { admitted_at, ..AdmissionDetails::default() },
        discharge: DischargeDetails {
            discharged_at: discharged.map(|s| s.stay.latest),
            location: stay.as_ref().and_then(|s| s.stay.location.as_ref().map(|l| l.ward.clone())),
            specialty: Some(template.specialty_code.clone()),
            ..DischargeDetails::default()
        },
        diagnoses: Vec::new(),
        procedures: Vec::new(),
        medications: Vec::new(),
        allergies: None,
        text: discharge::Section::ALL
            .into_iter()
            .filter_map(|section| template.default_text(section).map(|text| (section, text.to_owned())))
            .collect(),
        sact,
        amends: None,
    };
    let content = to_json(&summary)?;
    let mut tx = context.store().begin().await?;
    let id = tx
        .discharge_summaries()
        .create_draft(patient_id, stay.map(|s| s.id), 1, &content, &actor.user)
        .await?;
    tx.audit(
        actor,
        AuditAction::DischargeDraft,
        Some(patient_id),
        &[RecordRef::DischargeSummary(id)],
        "ok: started",
    )
    .await?;
    tx.commit().await?;
    Ok(Draft { id, row_version: 1, summary })
}

/// The SACT given between `from` and `until`, by course and cycle, from the
/// prescribing module's record of doses given; the next cycle's date where
/// one is prescribed, else the given cycle's date plus the regimen's cycle
/// length while cycles remain. Reads are audited by the store.
async fn sact_given(
    context: &Context,
    actor: &store::Actor,
    patient_id: i64,
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<discharge::SactTreatment>, ServiceError> {
    let sact = context.store().sact();
    let doses: Vec<store::DoseGiven> = sact
        .doses_given(actor, patient_id)
        .await?
        .into_iter()
        .filter(|d| d.given_at >= from && d.given_at <= until)
        .collect();
    let mut treatments = Vec::new();
    for (course_id, course) in sact.courses_of_patient(actor, patient_id).await? {
        let cycles = sact.cycles_of_course(actor, course_id).await?;
        for stored in &cycles {
            let given: Vec<discharge::SactDose> = doses
                .iter()
                .filter(|d| d.cycle_id == Some(stored.id))
                .map(|d| discharge::SactDose {
                    drug: d.drug.clone(),
                    dose: d.dose.normalize().to_string(),
                    unit: d.unit.clone(),
                    given_at: d.given_at,
                })
                .collect();
            if given.is_empty() {
                continue;
            }
            let number = stored.cycle.number;
            let next_prescribed = cycles
                .iter()
                .filter(|c| {
                    c.cycle.number > number && !matches!(c.cycle.state, sact::CycleState::Cancelled { .. })
                })
                .map(|c| c.cycle.treatment_date)
                .min();
            let cycle_length =
                context.regimens().find(&course.regimen.code).ok().map(|r| r.cycle_length_days);
            let next_due = next_prescribed.or_else(|| {
                (number < course.planned_cycles)
                    .then_some(cycle_length)
                    .flatten()
                    .map(|days| stored.cycle.treatment_date + chrono::Days::new(u64::from(days)))
            });
            treatments.push(discharge::SactTreatment {
                regimen: course.regimen.code.clone(),
                cycle: number,
                planned_cycles: course.planned_cycles,
                doses: given,
                next_due,
            });
        }
    }
    Ok(treatments)
}

/// Saves the draft from the row version the author read; gives the new one.
/// Someone else's save since, or a signed summary, is refused and nothing written.
pub async fn save(
    context: &Context,
    acting: &Acting,
    id: i64,
    read_at: i64,
    summary: &DischargeSummary,
) -> Result<i64, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = context.store().discharge_summaries().get(id).await?;
    if kept.patient_id != summary.patient_id {
        return Err(ServiceError::Refused {
            rule: "summary_of_this_patient",
            reason: format!("discharge summary {id} belongs to another patient record; nothing was saved"),
        });
    }
    // What it amends, and the SACT given as the prescribing module recorded it,
    // are fixed when the draft is made, whatever the page sends.
    let fixed = content_of(&kept)?;
    let summary = DischargeSummary { amends: fixed.amends, sact: fixed.sact, ..summary.clone() };
    let content = to_json(&summary)?;
    let mut tx = context.store().begin().await?;
    let now = tx.discharge_summaries().save_draft(id, read_at, &content, &actor.user).await?;
    tx.audit(
        actor,
        AuditAction::DischargeDraft,
        Some(kept.patient_id),
        &[RecordRef::DischargeSummary(id)],
        "ok: saved",
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

/// A summary as kept, to carry on editing or to read.
pub async fn open(context: &Context, acting: &Acting, id: i64) -> Result<Draft, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = read_audited(context, actor, id).await?;
    let summary = content_of(&kept)?;
    Ok(Draft { id, row_version: kept.row_version, summary })
}

/// The patient's latest summary as it stands: the draft to carry on with (and
/// what sign-off still needs), or the signed version with its check and sends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Current {
    pub draft: Draft,
    pub version: i64,
    /// `draft` or `signed`.
    pub status: String,
    pub missing: Vec<discharge::Missing>,
    pub signed: Option<SignedSummary>,
    pub sends: Vec<store::OutboxRow>,
    /// Every version of the patient's summaries: (id, version, status).
    pub versions: Vec<(i64, i64, String)>,
}

/// The patient's latest summary, if one was started. A signed one is checked
/// against `trust`; without a CA to check it by, it is shown as unchecked.
pub async fn current(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
    trust: Option<&identity::Trust>,
) -> Result<Option<Current>, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = context.store().discharge_summaries().of_patient(patient_id).await?;
    let Some(latest) = kept.last() else { return Ok(None) };
    let latest = read_audited(context, actor, latest.id).await?;
    let summary = content_of(&latest)?;
    let missing =
        template_named(&summary.template).map(|t| summary.missing_for_sign_off(&t)).unwrap_or_default();
    let signed = match (latest.status.as_str(), trust) {
        ("signed", Some(trust)) => Some(checked_signed(context, actor, latest.id, trust).await?),
        ("signed", None) => Some(SignedSummary {
            id: latest.id,
            summary: summary.clone(),
            signer: serde_json::from_str(latest.signed_by.as_deref().unwrap_or_default())
                .map_err(|e| ServiceError::Invalid { field: "signer", reason: e.to_string() })?,
            signed_at_utc: latest.signed_at_utc.clone().unwrap_or_default(),
            broken: Some("The signature cannot be checked: this workstation trusts no card CA".into()),
        }),
        _ => None,
    };
    Ok(Some(Current {
        draft: Draft { id: latest.id, row_version: latest.row_version, summary },
        version: latest.version,
        status: latest.status.clone(),
        missing,
        signed,
        sends: context.store().discharge_outbox().of_summary(latest.id).await?,
        versions: kept.iter().map(|k| (k.id, k.version, k.status.clone())).collect(),
    }))
}

/// Who signed a summary, as its "person completing record" shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signer {
    pub user_id: String,
    pub name: String,
    pub role: String,
    /// `GMC 7000001`, where the person is registered.
    pub registration: Option<String>,
}

/// A signed summary, checked: its signer and time, and whether the signature
/// still holds over the content as kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignedSummary {
    pub id: i64,
    pub summary: DischargeSummary,
    pub signer: Signer,
    pub signed_at_utc: String,
    /// `None` while it holds; otherwise why it does not (the content or the signature changed).
    pub broken: Option<String>,
}

/// Signs the draft as read with the author's card (`sign_discharge`). Refused
/// with every missing field at once; refused if the card is not the session
/// user's. The content, signature, signer and time are stored in one
/// transaction with the audit entry, and the summary is locked.
pub async fn sign(
    context: &Context,
    acting: &Acting,
    id: i64,
    read_at: i64,
    card: &dyn crate::sact::ActSigner,
) -> Result<SignedSummary, ServiceError> {
    let actor = acting.requires(Permission::SignDischarge)?;
    let kept = context.store().discharge_summaries().get(id).await?;
    if kept.status != "draft" || kept.row_version != read_at {
        return Err(ServiceError::Store(store::StoreError::Changed {
            record: format!("discharge summary {id}"),
        }));
    }
    let summary: DischargeSummary = content_of(&kept)?;
    let template = template_named(&summary.template)?;
    let missing = summary.missing_for_sign_off(&template);
    if !missing.is_empty() {
        return Err(ServiceError::Refused {
            rule: "discharge_incomplete",
            reason: format!(
                "Not signed: still needed: {}",
                missing
                    .iter()
                    .map(|m| format!("{} ({})", m.reason, m.section.title()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    let user = context.store().users().get(&actor.user).await?.ok_or_else(|| ServiceError::Refused {
        rule: "signer_enrolled",
        reason: "only an enrolled member of staff signs a discharge summary".into(),
    })?;
    let signer = Signer {
        user_id: user.user_id.clone(),
        name: user.display_name.clone(),
        role: user.job_title.clone(),
        registration: user
            .professional_body
            .as_ref()
            .zip(user.registration_number.as_ref())
            .map(|(b, n)| format!("{b} {n}")),
    };
    let signature = card.sign(&summary.canonical_bytes())?;
    if signature.user_id != actor.user {
        return Err(ServiceError::Refused {
            rule: "card_of_the_session_user",
            reason: "the card that signed is not the signed-in person's".into(),
        });
    }
    let signed_at = chrono::DateTime::<chrono::Utc>::from_timestamp(signature.signed_at.unix_timestamp(), 0)
        .unwrap_or_else(|| context.now())
        .to_rfc3339();
    let signature_json = serde_json::to_string(&signature)
        .map_err(|e| ServiceError::Invalid { field: "signature", reason: e.to_string() })?;
    let signer_json = serde_json::to_string(&signer)
        .map_err(|e| ServiceError::Invalid { field: "signer", reason: e.to_string() })?;
    let mut tx = context.store().begin().await?;
    tx.discharge_summaries().sign(id, read_at, &signature_json, &signer_json, &signed_at).await?;
    // Queued with the signature, so a signed summary is never left unsent.
    let now = context.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (channel, recipient) in
        crate::discharge_outbox::routes(context, summary.gp_practice.as_deref().unwrap_or_default())
    {
        tx.discharge_outbox().enqueue(id, channel, &recipient, &now).await?;
    }
    tx.audit(
        actor,
        AuditAction::DischargeSign,
        Some(kept.patient_id),
        &[RecordRef::DischargeSummary(id)],
        "ok: signed",
    )
    .await?;
    tx.commit().await?;
    Ok(SignedSummary { id, summary, signer, signed_at_utc: signed_at, broken: None })
}

/// A signed summary read back and its signature checked against the trusted
/// CA over the content as kept: a changed summary says so, and is never sent.
pub async fn read_signed(
    context: &Context,
    acting: &Acting,
    id: i64,
    trust: &identity::Trust,
) -> Result<SignedSummary, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    checked_signed(context, actor, id, trust).await
}

/// The check itself, for a person or for the outbox's sender.
pub(crate) async fn checked_signed(
    context: &Context,
    actor: &store::Actor,
    id: i64,
    trust: &identity::Trust,
) -> Result<SignedSummary, ServiceError> {
    let kept = read_audited(context, actor, id).await?;
    let unreadable = |what: &str| ServiceError::Refused {
        rule: "discharge_signed",
        reason: format!("discharge summary {id} is not signed, or its {what} cannot be read"),
    };
    let (Some(signature), Some(signed_by), Some(signed_at)) =
        (&kept.signature, &kept.signed_by, &kept.signed_at_utc)
    else {
        return Err(unreadable("signature"));
    };
    let summary: DischargeSummary = serde_json::from_str(&kept.content).map_err(|_| unreadable("content"))?;
    let signer: Signer = serde_json::from_str(signed_by).map_err(|_| unreadable("signer"))?;
    let signature: identity::DocumentSignature =
        serde_json::from_str(signature).map_err(|_| unreadable("signature"))?;
    let broken = identity::verify_document(&summary.canonical_bytes(), &signature, trust).err().map(|e| {
        format!("This summary has been changed since it was signed, or its signature does not hold ({e}): do not act on it")
    });
    Ok(SignedSummary { id, summary, signer, signed_at_utc: signed_at.clone(), broken })
}

/// The signed letter, to show: refused if its signature does not hold.
pub async fn letter(
    context: &Context,
    acting: &Acting,
    id: i64,
    trust: &identity::Trust,
) -> Result<discharge::Letter, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    Ok(crate::discharge_outbox::signed_letter(context, actor, id, trust).await?.0)
}

/// The signed letter as an A4 PDF, refused if its signature does not hold.
pub async fn letter_pdf(
    context: &Context,
    acting: &Acting,
    id: i64,
    trust: &identity::Trust,
) -> Result<Vec<u8>, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let (letter, _) = crate::discharge_outbox::signed_letter(context, actor, id, trust).await?;
    Ok(printing::discharge_letter_pdf(&letter))
}

/// The signed letter as a FHIR STU3 document Bundle, refused if its signature does not hold.
pub async fn letter_fhir(
    context: &Context,
    acting: &Acting,
    id: i64,
    trust: &identity::Trust,
) -> Result<serde_json::Value, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let (letter, _) = crate::discharge_outbox::signed_letter(context, actor, id, trust).await?;
    Ok(discharge::fhir::document_bundle(&letter))
}

/// Each send of a summary: to whom, by what, and how it stands.
pub async fn sends(
    context: &Context,
    acting: &Acting,
    id: i64,
) -> Result<Vec<store::OutboxRow>, ServiceError> {
    acting.requires(Permission::AuthorDischarge)?;
    Ok(context.store().discharge_outbox().of_summary(id).await?)
}

/// Fewest characters an amendment's reason may have: the GP reads it.
const SHORTEST_AMENDMENT_REASON: usize = 10;

/// Amends a signed summary: a new draft version with its content and the
/// reason, to be signed and sent marked as an amendment. The signed version is
/// kept as it was.
pub async fn amend(context: &Context, acting: &Acting, id: i64, reason: &str) -> Result<Draft, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let reason = reason.trim();
    if reason.chars().count() < SHORTEST_AMENDMENT_REASON {
        return Err(ServiceError::Invalid {
            field: "amendment_reason",
            reason: format!(
                "say why it is amended, in at least {SHORTEST_AMENDMENT_REASON} characters: the GP reads it"
            ),
        });
    }
    let kept = context.store().discharge_summaries().get(id).await?;
    if kept.status != "signed" {
        return Err(ServiceError::Refused {
            rule: "amend_signed_only",
            reason: format!("discharge summary {id} is a draft: change it rather than amend it"),
        });
    }
    let versions = context.store().discharge_summaries().of_patient(kept.patient_id).await?;
    if versions.iter().any(|v| v.version > kept.version && v.stay_id == kept.stay_id) {
        return Err(ServiceError::Refused {
            rule: "amend_the_latest",
            reason: format!("version {} has been amended already: amend the latest version", kept.version),
        });
    }
    let mut summary: DischargeSummary = content_of(&kept)?;
    summary.amends =
        Some(discharge::Amendment { summary_id: kept.id, version: kept.version, reason: reason.to_owned() });
    let content = to_json(&summary)?;
    let mut tx = context.store().begin().await?;
    let new = tx
        .discharge_summaries()
        .create_draft(kept.patient_id, kept.stay_id, kept.version + 1, &content, &actor.user)
        .await?;
    tx.audit(
        actor,
        AuditAction::DischargeDraft,
        Some(kept.patient_id),
        &[RecordRef::DischargeSummary(id), RecordRef::DischargeSummary(new)],
        &format!("ok: amendment of version {}", kept.version),
    )
    .await?;
    tx.commit().await?;
    Ok(Draft { id: new, row_version: 1, summary })
}

/// Every version of the patient's summaries, oldest first: (id, version, status).
pub async fn versions(
    context: &Context,
    acting: &Acting,
    patient_id: i64,
) -> Result<Vec<(i64, i64, String)>, ServiceError> {
    let actor = acting.requires(Permission::AuthorDischarge)?;
    let kept = context.store().discharge_summaries().of_patient(patient_id).await?;
    let records: Vec<RecordRef> = kept.iter().map(|k| RecordRef::DischargeSummary(k.id)).collect();
    context
        .store()
        .audit()
        .record_for_patient(actor, AuditAction::DischargeRead, patient_id, &records, "ok: versions")
        .await?;
    Ok(kept.into_iter().map(|k| (k.id, k.version, k.status)).collect())
}

/// Reads one kept version, the read audited with its id.
async fn read_audited(
    context: &Context,
    actor: &store::Actor,
    id: i64,
) -> Result<store::KeptSummary, ServiceError> {
    let kept = context.store().discharge_summaries().get(id).await?;
    context
        .store()
        .audit()
        .record_for_patient(
            actor,
            AuditAction::DischargeRead,
            kept.patient_id,
            &[RecordRef::DischargeSummary(id)],
            "ok",
        )
        .await?;
    Ok(kept)
}

/// The summary a kept version holds.
fn content_of(kept: &store::KeptSummary) -> Result<DischargeSummary, ServiceError> {
    serde_json::from_str(&kept.content).map_err(|e| {
        ServiceError::Store(store::StoreError::Database(format!(
            "discharge summary {} cannot be read: {e}",
            kept.id
        )))
    })
}

fn to_json(summary: &DischargeSummary) -> Result<String, ServiceError> {
    serde_json::to_string(summary)
        .map_err(|e| ServiceError::Invalid { field: "summary", reason: e.to_string() })
}
