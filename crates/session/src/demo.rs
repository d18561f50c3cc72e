//! Fictional staff for demonstrations, one per kind of user the workstation
//! serves: the holders of the demonstration cards (`cws card demo-init`), and
//! the card-less sign-in offered when no card module is configured.

use crate::{JobRole, StaffUser, UserId};

const DEMO_STAFF: [(&str, &str, &str, &str); 5] = [
    ("555000000001", "ONCOLOGY, Olive (Dr)", "Consultant medical oncologist", "R8000"),
    ("555000000002", "PHARMACY, Percy (Mr)", "Oncology pharmacist", "R8003"),
    ("555000000003", "NURSING, Nell (Ms)", "Chemotherapy nurse", "R8001"),
    ("555000000004", "WARD, Walter (Dr)", "Ward doctor", "R8000"),
    ("555000000005", "CHECKWELL, Cora (Ms)", "Chemotherapy nurse", "R8001"),
];

/// Every demonstration user, in the order the sign-in screen lists them.
pub fn staff() -> Vec<StaffUser> {
    DEMO_STAFF
        .iter()
        .filter_map(|(id, name, job_title, role)| {
            Some(StaffUser {
                user_id: UserId::parse(id)?,
                display_name: (*name).to_owned(),
                job_title: (*job_title).to_owned(),
                role: JobRole::from_code(role),
            })
        })
        .collect()
}

/// The demonstration user with this id, if there is one.
pub fn find(user_id: &UserId) -> Option<StaffUser> {
    staff().into_iter().find(|user| &user.user_id == user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_user_has_a_valid_distinct_id() {
        let ids: std::collections::HashSet<_> = staff().into_iter().map(|u| u.user_id).collect();
        assert_eq!(ids.len(), DEMO_STAFF.len());
    }

    #[test]
    fn find_returns_only_demo_users() {
        let pharmacist = UserId::parse("555000000002").expect("twelve digits");
        assert_eq!(find(&pharmacist).map(|u| u.job_title), Some("Oncology pharmacist".into()));
        let stranger = UserId::parse("123456789012").expect("twelve digits");
        assert_eq!(find(&stranger), None);
    }
}
