//! Local approval of a regimen version: before anyone may prescribe it, two
//! people with `manage_regimens` approve that exact version (its content
//! hash): a consultant and a pharmacist, not the same person.

use serde::{Deserialize, Serialize};
use session::UserId;

use crate::SactRefusal;

/// In what capacity someone approves: their job role decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    Consultant,
    Pharmacist,
}

impl Capacity {
    /// R8000 (clinical practitioner) approves as the consultant, R8003 as the pharmacist.
    pub fn of_role(role_code: &str) -> Result<Self, SactRefusal> {
        match role_code {
            "R8000" => Ok(Self::Consultant),
            "R8003" => Ok(Self::Pharmacist),
            other => Err(SactRefusal::new(
                "approval_role",
                format!(
                    "role {other} cannot approve a regimen: a consultant (R8000) and a pharmacist (R8003) do"
                ),
            )),
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Self::Consultant => "consultant",
            Self::Pharmacist => "pharmacist",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "consultant" => Some(Self::Consultant),
            "pharmacist" => Some(Self::Pharmacist),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub approved_by: UserId,
    pub capacity: Capacity,
}

/// Whether the approvals given make the version prescribable.
pub fn is_approved(approvals: &[Approval]) -> bool {
    approvals.iter().any(|consultant| {
        consultant.capacity == Capacity::Consultant
            && approvals.iter().any(|pharmacist| {
                pharmacist.capacity == Capacity::Pharmacist
                    && pharmacist.approved_by != consultant.approved_by
            })
    })
}

/// Refuses an approval that adds nothing: the same person twice.
pub fn check_new_approval(existing: &[Approval], new: &Approval) -> Result<(), SactRefusal> {
    if existing.iter().any(|a| a.approved_by == new.approved_by) {
        return Err(SactRefusal::new(
            "approval_twice",
            "You have already approved this version; the second approval must be another person's.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(id: &str, capacity: Capacity) -> Approval {
        Approval { approved_by: UserId::parse(id).expect("user id"), capacity }
    }

    #[test]
    fn a_version_needs_a_consultant_and_a_pharmacist_who_are_two_people() {
        let consultant = approval("555000000001", Capacity::Consultant);
        let pharmacist = approval("555000000002", Capacity::Pharmacist);
        assert!(!is_approved(&[]));
        assert!(!is_approved(std::slice::from_ref(&consultant)));
        assert!(!is_approved(&[consultant.clone(), approval("555000000009", Capacity::Consultant)]));
        assert!(
            !is_approved(&[consultant.clone(), approval("555000000001", Capacity::Pharmacist)]),
            "one person"
        );
        assert!(is_approved(&[pharmacist, consultant]));
    }

    #[test]
    fn the_same_person_cannot_approve_twice_and_other_roles_cannot_approve() {
        let consultant = approval("555000000001", Capacity::Consultant);
        let again = approval("555000000001", Capacity::Pharmacist);
        assert_eq!(check_new_approval(&[consultant], &again).expect_err("twice").rule, "approval_twice");
        assert_eq!(Capacity::of_role("R8001").expect_err("a nurse").rule, "approval_role");
        assert_eq!(Capacity::of_role("R8003").expect("pharmacist"), Capacity::Pharmacist);
        assert_eq!(Capacity::parse(Capacity::Consultant.text()), Some(Capacity::Consultant));
    }
}
