//! Facts about this installation that the UI shows in its footer.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppInfo {
    pub product_name: String,
    pub version: String,
    /// The workstation's host name, recorded against every action taken on it.
    pub workstation: String,
}

#[tauri::command]
#[specta::specta]
pub fn app_info(app: tauri::AppHandle, state: tauri::State<'_, crate::state::AppState>) -> AppInfo {
    let package = app.package_info();
    AppInfo {
        product_name: package.name.clone(),
        version: package.version.to_string(),
        workstation: state.workstation_name().to_owned(),
    }
}
