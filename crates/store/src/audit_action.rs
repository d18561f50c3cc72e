//! What the audit trail records: every action as one of a closed set, each with
//! a stable text (the trail stores the text, so an action's text never changes),
//! and the records an action touched as typed references, never bare numbers.

use serde::Serialize;

/// Every act the trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    StoreGenesis,
    StoreMarkDemonstration,
    StoreBackup,
    StoreRestore,
    StoreRekey,
    StoreRecoveryKey,
    StoreUnlockWithRecoveryKey,
    /// A local store copied into a shared server: recorded on both.
    StoreCopy,
    PatientCreate,
    PatientCreateBatch,
    /// A search of a kind not yet known (a refusal before the query is read).
    PatientSearch,
    PatientSearchNhsNumber,
    PatientSearchMrn,
    PatientSearchName,
    PatientRead,
    UserEnrol,
    UserDisable,
    SessionLogin,
    SessionUnlock,
    SessionLock,
    SessionLogout,
    /// Another card ended a locked session; recorded against the new user.
    SessionReplace,
    CommandRefused,
    SactCourseStart,
    SactPrescribe,
    SactCycleUpdate,
    SactDoseGiven,
    SactRead,
    RegimenApprove,
    /// A regimen version received from another site, as a draft.
    RegimenImport,
    /// An HL7 v2 message received and kept (applied, stale or in error).
    InterfaceReceive,
    /// A kept message read (the error queue, one message).
    InterfaceRead,
    /// A message from the error queue applied after correction.
    InterfaceReplay,
    /// Laboratory results read.
    ResultRead,
    /// A patient's stay read (the feed, the bed board).
    StayRead,
    /// A member of staff's wards set.
    UserWards,
    /// A patient added to, or taken off, someone's patient list.
    PatientListChange,
    /// A bed marked by hand (manage_beds): closed, reopened, being cleaned or clean.
    BedMark,
    /// A patient's studies listed from the PACS (QIDO-RS).
    ImagingQuery,
    /// A viewer opened on a patient's study.
    ImagingLaunch,
    /// Emergency access to a patient's images without a legitimate relationship
    /// (DICOM 110113 Security Alert, 110127 Emergency Override Started; BTG): with the reason.
    ImagingBreakGlass,
    /// Imaging refused: no relationship and no break-glass, or a PACS answering with another patient's studies.
    ImagingRefused,
    /// A discharge summary draft started or saved.
    DischargeDraft,
    /// A discharge summary read.
    DischargeRead,
    /// A discharge summary signed with the author's card.
    DischargeSign,
    /// A signed discharge summary sent to a recipient (GP practice, MESH, clinical system), or refused.
    DischargeSend,
}

impl AuditAction {
    pub const ALL: [AuditAction; 46] = [
        Self::StoreGenesis,
        Self::StoreMarkDemonstration,
        Self::StoreBackup,
        Self::StoreRestore,
        Self::StoreRekey,
        Self::StoreRecoveryKey,
        Self::StoreUnlockWithRecoveryKey,
        Self::StoreCopy,
        Self::PatientCreate,
        Self::PatientCreateBatch,
        Self::PatientSearch,
        Self::PatientSearchNhsNumber,
        Self::PatientSearchMrn,
        Self::PatientSearchName,
        Self::PatientRead,
        Self::UserEnrol,
        Self::UserDisable,
        Self::SessionLogin,
        Self::SessionUnlock,
        Self::SessionLock,
        Self::SessionLogout,
        Self::SessionReplace,
        Self::CommandRefused,
        Self::SactCourseStart,
        Self::SactPrescribe,
        Self::SactCycleUpdate,
        Self::SactDoseGiven,
        Self::SactRead,
        Self::RegimenApprove,
        Self::RegimenImport,
        Self::InterfaceReceive,
        Self::InterfaceRead,
        Self::InterfaceReplay,
        Self::ResultRead,
        Self::StayRead,
        Self::UserWards,
        Self::PatientListChange,
        Self::BedMark,
        Self::ImagingQuery,
        Self::ImagingLaunch,
        Self::ImagingBreakGlass,
        Self::ImagingRefused,
        Self::DischargeDraft,
        Self::DischargeRead,
        Self::DischargeSign,
        Self::DischargeSend,
    ];

    /// The text the trail stores. Never change an existing one.
    pub const fn text(self) -> &'static str {
        match self {
            Self::StoreGenesis => "store.genesis",
            Self::StoreMarkDemonstration => "store.mark_demonstration",
            Self::StoreBackup => "store.backup",
            Self::StoreRestore => "store.restore",
            Self::StoreRekey => "store.rekey",
            Self::StoreRecoveryKey => "store.recovery_key",
            Self::StoreUnlockWithRecoveryKey => "store.unlock_with_recovery_key",
            Self::StoreCopy => "store.copy",
            Self::PatientCreate => "patient.create",
            Self::PatientCreateBatch => "patient.create_batch",
            Self::PatientSearch => "patient.search",
            Self::PatientSearchNhsNumber => "patient.search.nhs_number",
            Self::PatientSearchMrn => "patient.search.mrn",
            Self::PatientSearchName => "patient.search.name",
            Self::PatientRead => "patient.read",
            Self::UserEnrol => "user.enrol",
            Self::UserDisable => "user.disable",
            Self::SessionLogin => "session.login",
            Self::SessionUnlock => "session.unlock",
            Self::SessionLock => "session.lock",
            Self::SessionLogout => "session.logout",
            Self::SessionReplace => "session.replace",
            Self::CommandRefused => "command.refused",
            Self::SactCourseStart => "sact.course.start",
            Self::SactPrescribe => "sact.cycle.prescribe",
            Self::SactCycleUpdate => "sact.cycle.update",
            Self::SactDoseGiven => "sact.dose.given",
            Self::SactRead => "sact.read",
            Self::RegimenApprove => "regimen.approve",
            Self::RegimenImport => "regimen.import",
            Self::InterfaceReceive => "hl7.receive",
            Self::InterfaceRead => "hl7.read",
            Self::InterfaceReplay => "hl7.replay",
            Self::ResultRead => "result.read",
            Self::StayRead => "stay.read",
            Self::UserWards => "user.wards",
            Self::PatientListChange => "patient_list.change",
            Self::BedMark => "bed.mark",
            Self::ImagingQuery => "imaging.query",
            Self::ImagingLaunch => "imaging.launch",
            Self::ImagingBreakGlass => "imaging.break_glass",
            Self::ImagingRefused => "imaging.refused",
            Self::DischargeDraft => "discharge.draft",
            Self::DischargeRead => "discharge.read",
            Self::DischargeSign => "discharge.sign",
            Self::DischargeSend => "discharge.send",
        }
    }
}

/// A record an action touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RecordRef {
    Patient(i64),
    /// The first and last of patients made in one batch.
    PatientRange(i64, i64),
    /// A member of staff, by NHS user id.
    User(String),
    /// A SACT course, and one of its cycles.
    Course(i64),
    Cycle(i64),
    /// A regimen version: `CODE@VERSION`.
    Regimen(String),
    /// An HL7 v2 message kept by the interface.
    Message(i64),
    /// A laboratory result.
    Result(i64),
    /// A patient's stay.
    Stay(i64),
    /// An imaging study, by its Study Instance UID.
    Study(String),
    /// A discharge summary (one version of it).
    DischargeSummary(i64),
}

impl RecordRef {
    /// The text the trail stores: `patient:3`, `patients:1-500`, `user:555000000002`.
    pub fn text(&self) -> String {
        match self {
            Self::Patient(id) => format!("patient:{id}"),
            Self::PatientRange(first, last) => format!("patients:{first}-{last}"),
            Self::User(user_id) => format!("user:{user_id}"),
            Self::Course(id) => format!("course:{id}"),
            Self::Cycle(id) => format!("cycle:{id}"),
            Self::Regimen(version) => format!("regimen:{version}"),
            Self::Message(id) => format!("message:{id}"),
            Self::Result(id) => format!("result:{id}"),
            Self::Stay(id) => format!("stay:{id}"),
            Self::Study(uid) => format!("study:{uid}"),
            Self::DischargeSummary(id) => format!("discharge_summary:{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_dotted_text() {
        let mut texts: Vec<&str> = AuditAction::ALL.iter().map(|a| a.text()).collect();
        assert!(texts.iter().all(|t| t.contains('.') && !t.contains(' ')), "{texts:?}");
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), AuditAction::ALL.len(), "no two actions share a text");
    }

    #[test]
    fn record_references_say_what_kind_of_record_they_name() {
        assert_eq!(RecordRef::Patient(3).text(), "patient:3");
        assert_eq!(RecordRef::PatientRange(1, 500).text(), "patients:1-500");
        assert_eq!(RecordRef::User("555000000002".into()).text(), "user:555000000002");
        assert_eq!(
            (RecordRef::Course(4).text(), RecordRef::Cycle(9).text()),
            ("course:4".into(), "cycle:9".into())
        );
    }
}
