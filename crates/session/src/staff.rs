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

impl JobRole {
    /// A role by its code, named as the national RBAC baseline names it; a
    /// code this build does not know keeps its code as its name.
    pub fn from_code(code: &str) -> Self {
        let name = match code {
            "R8000" => "Clinical Practitioner Access Role",
            "R8001" => "Nurse Access Role",
            "R8003" => "Health Professional Access Role",
            "R8004" => "Healthcare Student Access Role",
            "R8008" => "Admin/Clinical Support Access Role",
            "LOCAL-ADMIN" => "Local IT administrator",
            other => other,
        };
        Self { code: code.to_owned(), name: name.to_owned() }
    }
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
    fn roles_are_named_from_their_codes() {
        assert_eq!(JobRole::from_code("R8001").name, "Nurse Access Role");
        assert_eq!(JobRole::from_code("R9999").name, "R9999");
    }

    #[test]
    fn user_id_refuses_other_shapes() {
        for bad in ["", "55500000000", "5550000000011", "55500000000a", " 55500000001"] {
            assert_eq!(UserId::parse(bad), None, "{bad:?} must be refused");
        }
    }
}
