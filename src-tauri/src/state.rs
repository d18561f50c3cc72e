//! State shared by every command for the life of the app.

use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use dosing::policy::SitePolicy;
use patients::NhsNumberPolicy;
use regimens::RegimenLibrary;
use services::{Context, StoreLocation};
use session::{
    LockReason, Moment, Permission, RolePermissions, SessionCheck, SessionError, SessionState, Workstation,
};
use settings::Settings;
use store::{Actor, AuditAction, RecordRef};
use tauri::{AppHandle, Emitter};

use crate::error::{CommandError, ErrorCode};
use crate::session_events::{SESSION_CHANGED, SessionEnding};

/// The regimen library and site policy, loaded once at start-up.
pub struct DosingData {
    pub regimens: RegimenLibrary,
    pub policy: SitePolicy,
}

pub struct AppState {
    pub workstation: Mutex<Workstation>,
    pub cards: crate::cards::Cards,
    /// Job role → permissions, from the site's settings.
    pub roles: RolePermissions,
    workstation_name: String,
    nhs_number_policy: NhsNumberPolicy,
    dosing: Result<DosingData, String>,
    /// The services' context: the store (local or shared), settings and clock.
    services: Result<Context, String>,
    /// The running app, once it has started, to tell the UI of session changes.
    app: OnceLock<AppHandle>,
}

impl AppState {
    /// Loads the regimen library and opens the encrypted store. A failure is
    /// kept, logged and shown, rather than stopping the app.
    pub fn load() -> Self {
        let (settings, settings_problem) = match settings::load() {
            Ok(settings) => (settings, None),
            Err(problem) => {
                tracing::error!(%problem, "the workstation's settings cannot be used; card sign-in is refused");
                (Settings::fail_safe(), Some(problem.to_string()))
            }
        };
        let dosing = load_dosing_data();
        if let Err(problem) = &dosing {
            tracing::error!(%problem, "dose calculation is unavailable");
        }
        let workstation_name = gethostname::gethostname().to_string_lossy().into_owned();
        let services = tauri::async_runtime::block_on(async {
            let location = StoreLocation::choose(&settings, None)?;
            Context::open(&location, settings.clone(), workstation_name.clone()).await
        })
        .map_err(|e| e.to_string());
        if let Err(problem) = &services {
            tracing::error!(%problem, "the store is unavailable");
        }
        let demonstration_store = match &services {
            Ok(context) => tauri::async_runtime::block_on(services::demo::is_demonstration_store(context))
                .unwrap_or(false),
            Err(_) => false,
        };
        Self {
            workstation: Mutex::new(Workstation::new(settings.inactivity_lock)),
            cards: crate::cards::Cards::configure(&settings, settings_problem, demonstration_store),
            roles: settings.roles,
            workstation_name,
            nhs_number_policy: settings.nhs_numbers,
            dosing,
            services,
            app: OnceLock::new(),
        }
    }

    /// Gives the state the running app, so session changes reach the UI.
    pub fn attach(&self, app: AppHandle) {
        let _ = self.app.set(app);
    }

    /// The one path by which a session locks, ends or passes to another person:
    /// the UI is told first, so the screen blanks at once, then the change is
    /// audited, and a lock or sign-out leaves the audit head in the system log.
    /// `now` is the session's state after the change.
    pub fn session_ended(&self, user_id: &str, ending: SessionEnding, now: &SessionState) {
        if let Some(app) = self.app.get() {
            let _ = app.emit(SESSION_CHANGED, now);
        }
        if let Ok(context) = &self.services {
            crate::viewers::close_all(context);
        }
        tauri::async_runtime::spawn(self.session_audit(
            user_id.to_owned(),
            ending.action(),
            ending.records(),
            ending.outcome(),
            ending.anchors_the_audit_head(),
        ));
    }

    /// Rust has just locked the session on its own (the card left, idleness,
    /// sleep): the same path as any other lock.
    pub fn session_locked(&self, reason: LockReason) {
        let now = self.workstation.lock().map(|w| w.state()).unwrap_or(SessionState::SignedOut);
        if let SessionState::Locked { user, .. } = &now {
            self.session_ended(user.user_id.as_str(), SessionEnding::Locked(reason), &now);
        }
    }

    /// The signed-in user, or the typed refusal every protected command returns.
    /// Refusals are audited, against the locked session's user where there is one;
    /// a session this check finds idle past its timeout is locked, and that is audited too.
    pub fn require_user(&self) -> Result<SessionCheck, CommandError> {
        self.check_session(|workstation, now| workstation.require_user(now))
    }

    /// As `require_user`, and the user's roles must grant `permission`.
    pub fn require(&self, permission: Permission) -> Result<SessionCheck, CommandError> {
        self.check_session(|workstation, now| workstation.require(permission, now))
    }

    /// After a slow call: refuses its answer if the session it was made for has
    /// since locked, ended or passed to someone else.
    pub fn confirm(&self, check: &SessionCheck) -> Result<(), CommandError> {
        let workstation = self.workstation.lock().map_err(|e| CommandError::internal(&e))?;
        workstation.still_current(check).map_err(|refusal| {
            self.audit_in_background(
                check.user.user_id.as_str().to_owned(),
                AuditAction::CommandRefused,
                "refused: the session changed while the answer was fetched".into(),
            );
            refusal.into()
        })
    }

    fn check_session(
        &self,
        check: impl FnOnce(&mut Workstation, Moment) -> Result<SessionCheck, SessionError>,
    ) -> Result<SessionCheck, CommandError> {
        let mut workstation = self.workstation.lock().map_err(|e| CommandError::internal(&e))?;
        let was_active = matches!(workstation.state(), SessionState::Active { .. });
        match check(&mut workstation, now()) {
            Ok(check) => Ok(check),
            Err(refusal) => {
                let state = workstation.state();
                let who = match &state {
                    SessionState::Locked { user, reason, .. } => {
                        if was_active {
                            self.session_ended(user.user_id.as_str(), SessionEnding::Locked(*reason), &state);
                        }
                        user.user_id.as_str().to_owned()
                    }
                    SessionState::Active { user } => user.user_id.as_str().to_owned(),
                    SessionState::SignedOut => "nobody".to_owned(),
                };
                self.audit_in_background(who, AuditAction::CommandRefused, format!("refused: {refusal}"));
                Err(refusal.into())
            }
        }
    }

    /// Audits without waiting, from code that may not block on the store.
    pub fn audit_in_background(&self, user_id: String, action: AuditAction, outcome: String) {
        tauri::async_runtime::spawn(self.session_audit(user_id, action, Vec::new(), outcome, false));
    }

    /// Records a session event against a user id, and waits until it is recorded.
    pub async fn audit_session(&self, user_id: &str, action: AuditAction, outcome: &str) {
        self.session_audit(user_id.to_owned(), action, Vec::new(), outcome.to_owned(), false).await;
    }

    /// The work of recording a session event, owning what it needs so it can be
    /// awaited or left to run. A failure to audit is logged, never hidden.
    fn session_audit(
        &self,
        user_id: String,
        action: AuditAction,
        records: Vec<RecordRef>,
        outcome: String,
        anchor: bool,
    ) -> impl Future<Output = ()> + Send + 'static {
        let context = self.services().ok().cloned();
        let actor = Actor { user: user_id, workstation: self.workstation_name.clone() };
        async move {
            let Some(context) = context else { return };
            let recorded =
                services::cards::record_session_event(&context, &actor, action, &records, &outcome).await;
            if let Err(error) = recorded {
                tracing::error!(%error, action = action.text(), "a session event could not be audited");
            }
            if anchor {
                match services::audit::anchor(&context).await {
                    Ok(anchor) => crate::system_log::write_anchor(&anchor),
                    Err(error) => {
                        tracing::error!(%error, "the audit head could not be read for the system log")
                    }
                }
            }
        }
    }

    pub fn nhs_number_policy(&self) -> NhsNumberPolicy {
        self.nhs_number_policy
    }

    pub fn workstation_name(&self) -> &str {
        &self.workstation_name
    }

    pub fn dosing(&self) -> Result<&DosingData, CommandError> {
        self.dosing.as_ref().map_err(|_| {
            CommandError::new(
                ErrorCode::DosingUnavailable,
                "Dose calculation is unavailable because the regimen library or site policy did not load. Call the IT service desk.",
            )
        })
    }

    /// The services' context, or the refusal that says the store is unavailable and why.
    pub fn services(&self) -> Result<&Context, CommandError> {
        self.services
            .as_ref()
            .map_err(|problem| CommandError::new(ErrorCode::StoreUnavailable, problem.clone()))
    }
}

/// Now, on both clocks the session measures idleness by (see `session::Moment`).
pub fn now() -> Moment {
    Moment::new(Instant::now(), SystemTime::now())
}

fn load_dosing_data() -> Result<DosingData, String> {
    Ok(DosingData {
        regimens: RegimenLibrary::shipped().map_err(|e| e.to_string())?,
        policy: SitePolicy::shipped().map_err(|e| e.to_string())?,
    })
}
