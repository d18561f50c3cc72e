//! What a member of staff may do, from their national RBAC job roles through a
//! site's mapping. The mapping is local policy (no national activity says
//! "may view images"), so a default ships and each trust sets its own.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::JobRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Find and open patients' records. Nothing else about a patient is shown without it.
    ViewPatients,
    PrescribeSact,
    VerifySact,
    ReleaseSact,
    AdministerSact,
    ViewImages,
    BreakGlass,
    AuthorDischarge,
    SignDischarge,
    ManageBeds,
    ManageUsers,
    ManageStore,
    /// Approve a regimen version for local use (two people: a consultant and a pharmacist).
    ManageRegimens,
}

/// Role code → permissions, as a site configures it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RolePermissions(BTreeMap<String, BTreeSet<Permission>>);

impl RolePermissions {
    /// The shipped default (documented in docs/security.md):
    /// - R8000 Clinical Practitioner: view patients, prescribe SACT, view images (with break-glass, each use
    ///   reviewed by the Privacy Officer), author and sign discharge summaries;
    /// - R8001 Nurse: view patients, administer SACT, view images, manage beds;
    /// - R8003 Health Professional (pharmacists here): view patients, verify and release SACT, view images;
    /// - R8008 Admin/Clinical Support: view patients, manage beds;
    /// - LOCAL-ADMIN (a local role for IT): manage users and the store, and no patient's record.
    pub fn site_default() -> Self {
        use Permission::*;
        let rows: [(&str, &[Permission]); 5] = [
            ("R8000", &[ViewPatients, PrescribeSact, ViewImages, BreakGlass, AuthorDischarge, SignDischarge]),
            ("R8001", &[ViewPatients, AdministerSact, ViewImages, ManageBeds]),
            ("R8003", &[ViewPatients, VerifySact, ReleaseSact, ViewImages]),
            ("R8008", &[ViewPatients, ManageBeds]),
            ("LOCAL-ADMIN", &[ManageUsers, ManageStore]),
        ];
        Self(rows.iter().map(|(code, perms)| ((*code).to_owned(), perms.iter().copied().collect())).collect())
    }

    /// This mapping with `permission` granted to `role` as well (a demonstration
    /// store's seeding uses it to approve regimens under the demonstration staff).
    pub fn granting(mut self, role: &str, permission: Permission) -> Self {
        self.0.entry(role.to_owned()).or_default().insert(permission);
        self
    }

    /// Everything any of the roles grants.
    pub fn for_roles(&self, roles: &[JobRole]) -> BTreeSet<Permission> {
        roles.iter().filter_map(|role| self.0.get(&role.code)).flatten().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(code: &str) -> JobRole {
        JobRole { code: code.into(), name: code.into() }
    }

    #[test]
    fn a_pharmacist_may_verify_but_not_prescribe() {
        let granted = RolePermissions::site_default().for_roles(&[role("R8003")]);
        assert!(granted.contains(&Permission::VerifySact));
        assert!(!granted.contains(&Permission::PrescribeSact));
    }

    #[test]
    fn permissions_are_the_union_of_the_roles() {
        let granted = RolePermissions::site_default().for_roles(&[role("R8001"), role("LOCAL-ADMIN")]);
        assert!(granted.contains(&Permission::AdministerSact) && granted.contains(&Permission::ManageStore));
    }

    #[test]
    fn it_administrators_may_not_view_patients_by_default() {
        let granted = RolePermissions::site_default().for_roles(&[role("LOCAL-ADMIN")]);
        assert!(!granted.contains(&Permission::ViewPatients));
        for clinical in ["R8000", "R8001", "R8003", "R8008"] {
            let granted = RolePermissions::site_default().for_roles(&[role(clinical)]);
            assert!(granted.contains(&Permission::ViewPatients), "{clinical}");
        }
    }

    #[test]
    fn an_unknown_role_grants_nothing() {
        assert!(RolePermissions::site_default().for_roles(&[role("R9999")]).is_empty());
    }

    #[test]
    fn a_site_mapping_is_read_from_json() {
        let mapping: RolePermissions = serde_json::from_str(r#"{"R8000": ["view_images"]}"#).expect("valid");
        assert_eq!(mapping.for_roles(&[role("R8000")]), BTreeSet::from([Permission::ViewImages]));
    }
}
