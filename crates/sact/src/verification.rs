//! Who may verify which prescriptions clinically: site data, following the
//! BOPA standards. Pharmacists verify every drug; a pharmacy technician
//! (BOPA §3.3, Level 2a) only the named drugs the site grants their role.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;

/// The person verifying, as the session or their card proved them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub user_id: UserId,
    /// Their job role code (R8003 for the pharmacists here, or a site's technician role).
    pub role_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationScope {
    /// Roles that may verify any prescription.
    pub all_drugs: BTreeSet<String>,
    /// Roles that may verify only prescriptions whose every drug is named here.
    #[serde(default)]
    pub named_drugs: BTreeMap<String, BTreeSet<String>>,
}

impl VerificationScope {
    /// The shipped default: pharmacists (R8003 here) verify everything; no technician scope until a site grants one.
    pub fn site_default() -> Self {
        Self { all_drugs: BTreeSet::from(["R8003".to_owned()]), named_drugs: BTreeMap::new() }
    }

    /// Refuses a verifier whose role may not verify every one of `drugs`, naming the first outside their scope.
    pub fn check<'a>(
        &self,
        verifier: &Verifier,
        drugs: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), SactRefusal> {
        if self.all_drugs.contains(&verifier.role_code) {
            return Ok(());
        }
        let Some(granted) = self.named_drugs.get(&verifier.role_code) else {
            return Err(SactRefusal::new(
                "verification_scope",
                format!("role {} may not verify SACT prescriptions at this site", verifier.role_code),
            ));
        };
        match drugs.into_iter().find(|drug| !granted.contains(*drug)) {
            Some(outside) => Err(SactRefusal::new(
                "verification_scope",
                format!(
                    "{outside} is outside the drugs role {} may verify here; a pharmacist must verify this cycle",
                    verifier.role_code
                ),
            )),
            None => Ok(()),
        }
    }
}
