//! Each act on a cycle is signed with the card of the person acting. The crate
//! keeps the signatures as plain data and says what bytes are signed: the act's
//! name and the cycle as it stands after the act, without its signatures.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use session::UserId;

use crate::{Cycle, SactRefusal};

/// One act, signed: what was done, by whom, when, and the card's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAct {
    /// e.g. `prescribed v1`, `verified v1`, `released v1`, `given doxorubicin D1`, `witnessed doxorubicin D1`.
    pub act: String,
    pub signer: UserId,
    pub signed_at: DateTime<Utc>,
    /// The card key's scheme, e.g. `rsa-pkcs1-sha256`.
    pub algorithm: String,
    pub signature: Vec<u8>,
    /// The signer's certificate, DER.
    pub certificate_der: Vec<u8>,
}

/// What a signature covers: the act, the prescription version it is about
/// (its drugs, and the measurements and calculation they came from),
/// and, for a release, its findings and reasons; for a dose given or witnessed,
/// that administration. Later acts do not change it, so every signature can
/// be checked again whenever the cycle is shown.
#[derive(Serialize)]
struct SignedContent<'a> {
    act: &'a str,
    cycle: u32,
    prescription_version: u32,
    prescriber: &'a UserId,
    drugs: &'a [crate::PrescribedDrug],
    bsa_m2: Option<rust_decimal::Decimal>,
    measurements: Option<&'a crate::RecordedMeasurements>,
    calculation: Option<&'a serde_json::Value>,
    release_findings: &'a [crate::ReleaseFinding],
    administration: Option<&'a crate::Administration>,
}

impl Cycle {
    /// The bytes a signature of `act` covers (see `SignedContent`).
    pub fn signing_bytes(&self, act: &str) -> Vec<u8> {
        let line = act.strip_prefix("given ").or_else(|| act.strip_prefix("witnessed "));
        let administration = line.and_then(|line| {
            self.administrations.iter().find(|a| format!("{} {}", a.record.drug, a.record.day) == line)
        });
        let content = SignedContent {
            act,
            cycle: self.number,
            prescription_version: self.prescription_version,
            prescriber: &self.prescriber,
            drugs: &self.drugs,
            bsa_m2: self.bsa_m2,
            measurements: self.measurements.as_ref(),
            calculation: self.calculation.as_ref(),
            release_findings: if act.starts_with("released") { &self.release_findings } else { &[] },
            administration,
        };
        serde_json::to_vec(&content).expect("a cycle always serialises")
    }

    /// Adds a signature, refused unless it is the acting person's.
    pub fn add_signature(&mut self, signed: SignedAct, acting: &UserId) -> Result<(), SactRefusal> {
        if signed.signer != *acting {
            return Err(SactRefusal::new(
                "signer",
                "The card that signed is not the card of the person acting; each act is signed by its own actor.",
            ));
        }
        self.signatures.push(signed);
        Ok(())
    }
}
