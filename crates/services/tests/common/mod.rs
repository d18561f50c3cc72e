//! What several test binaries need: a signed-in person's permission token, and
//! a SoftHSM2 card that signs as a workstation's reader would. Each binary uses
//! only some of it.
#![allow(dead_code)]

pub mod discharge_site;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use identity::{CardReader, Trust};
use services::{Acting, ServiceError};
use session::{JobRole, Moment, Permission, StaffUser, UserId, Workstation};
use zeroize::Zeroizing;

/// The token of a fictional clinician (R8000) signed in and holding `permission`.
pub fn acting_as(user_id: &str, permission: Permission) -> Acting {
    let mut workstation = Workstation::new(Duration::from_secs(300));
    let now = Moment::new(Instant::now(), SystemTime::now());
    let user = StaffUser {
        user_id: UserId::parse(user_id).expect("id"),
        display_name: "TESTER, Tess (Ms)".into(),
        job_title: "Tester".into(),
        role: JobRole { code: "R8000".into(), name: "R8000".into() },
    };
    workstation.sign_in(user, BTreeSet::from([permission]), now).expect("signed in");
    let check = workstation.require(permission, now).expect("granted");
    Acting::from_session(&check, permission, "ws1").expect("token")
}

/// Signs with one SoftHSM2 card (PIN 1234), as a workstation's card reader would.
pub struct Card<'a> {
    pub reader: &'a CardReader,
    pub label: &'static str,
    pub trust: &'a Trust,
}

impl services::sact::ActSigner for Card<'_> {
    fn sign(&self, bytes: &[u8]) -> Result<identity::DocumentSignature, ServiceError> {
        // A PKCS#11 login belongs to the whole process: one signing at a time, as at one workstation.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let pin = Zeroizing::new("1234".to_owned());
        self.reader
            .sign_document(self.label, &pin, self.trust, time::OffsetDateTime::now_utc(), bytes)
            .map_err(|e| ServiceError::Invalid { field: "card", reason: e.to_string() })
    }
}

/// QUILLFEATHER, Ada, 999 000 0018, hospital number RXX1, born 5 May 1960: the
/// tests' one fictional patient, with no GP practice recorded.
pub fn quillfeather_ada() -> patients::NewPatient {
    patients::NewPatient {
        nhs_number: Some(patients::NhsNumber::from_nine_digits([9, 9, 9, 0, 0, 0, 0, 0, 1]).expect("valid")),
        nhs_number_failing_check: None,
        mrn: Some("RXX1".into()),
        family_name: "Quillfeather".into(),
        given_names: "Ada".into(),
        title: None,
        date_of_birth: chrono::NaiveDate::from_ymd_opt(1960, 5, 5).expect("date"),
        sex: patients::Sex::Female,
        address: None,
        postcode: None,
        gp_practice: None,
        deceased_date: None,
    }
}
