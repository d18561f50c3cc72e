//! Staff identities as the session sees them: a user id, a name and a job role.

use serde::{Deserialize, Serialize};

/// The national 12-digit user id carried on an NHS smart card.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Accepts exactly twelve ASCII digits, the shape of an NHS user id.
    pub fn parse(text: &str) -> Option<Self> {
        let is_twelve_digits = text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit());
        is_twelve_digits.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A national RBAC job role, e.g. `R8000` "Clinical Practitioner Access Role".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobRole {
    pub code: String,
    pub name: String,
}

/// A member of staff who may hold a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StaffUser {
    pub user_id: UserId,
    /// Name as the header shows it, in CUI order: `GREEN, Ada (Dr)`.
    pub display_name: String,
    /// What colleagues would call the job, e.g. "Oncology pharmacist".
    pub job_title: String,
    pub role: JobRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_accepts_twelve_digits() {
        assert_eq!(UserId::parse("555000000001").map(|id| id.0), Some("555000000001".into()));
    }

    #[test]
    fn user_id_refuses_other_shapes() {
        for bad in ["", "55500000000", "5550000000011", "55500000000a", " 55500000001"] {
            assert_eq!(UserId::parse(bad), None, "{bad:?} must be refused");
        }
    }
}
