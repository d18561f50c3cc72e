//! State shared by every command for the life of the app.

use std::sync::Mutex;

use dosing::policy::SitePolicy;
use regimens::RegimenLibrary;
use session::{StaffUser, Workstation};

use crate::error::{CommandError, ErrorCode};

/// The regimen library and site policy, loaded once at start-up.
pub struct DosingData {
    pub regimens: RegimenLibrary,
    pub policy: SitePolicy,
}

pub struct AppState {
    pub workstation: Mutex<Workstation>,
    dosing: Result<DosingData, String>,
}

impl Default for AppState {
    fn default() -> Self {
        let dosing = load_dosing_data();
        if let Err(problem) = &dosing {
            tracing::error!(%problem, "dose calculation is unavailable");
        }
        Self { workstation: Mutex::default(), dosing }
    }
}

fn load_dosing_data() -> Result<DosingData, String> {
    Ok(DosingData {
        regimens: RegimenLibrary::shipped().map_err(|e| e.to_string())?,
        policy: SitePolicy::shipped().map_err(|e| e.to_string())?,
    })
}

impl AppState {
    /// The signed-in user, or the typed refusal every protected command returns.
    pub fn require_user(&self) -> Result<StaffUser, CommandError> {
        let workstation = self.workstation.lock().map_err(|e| CommandError::internal(&e))?;
        Ok(workstation.require_user()?.clone())
    }

    pub fn dosing(&self) -> Result<&DosingData, CommandError> {
        self.dosing.as_ref().map_err(|_| {
            CommandError::new(
                ErrorCode::DosingUnavailable,
                "Dose calculation is unavailable because the regimen library or site policy did not load. Call the IT service desk.",
            )
        })
    }
}
