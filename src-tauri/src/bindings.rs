//! The TypeScript bindings the UI imports, generated from the command and type
//! definitions here so the two sides cannot drift apart.

use specta_typescript::Typescript;
use tauri_specta::{Builder, collect_commands};

use crate::commands::{
    app, beds, cards, chemotherapy, discharge, imaging, patients, relationships, results, sact, sign_in,
};

/// Where the generated bindings live, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/lib/bindings.ts";

pub fn bindings_builder() -> Builder<tauri::Wry> {
    Builder::<tauri::Wry>::new().disable_serde_phases().commands(collect_commands![
        app::app_info,
        sign_in::sign_in_options,
        sign_in::sign_in,
        sign_in::sign_out,
        sign_in::session_state,
        sign_in::record_activity,
        sign_in::session_permissions,
        cards::list_cards,
        cards::card_sign_in,
        cards::lock_session,
        chemotherapy::list_regimens,
        chemotherapy::calculate_regimen_doses,
        patients::search_patients,
        patients::open_patient,
        beds::bed_board,
        beds::mark_bed,
        results::patient_results,
        discharge::discharge_templates,
        discharge::discharge_current,
        discharge::discharge_start,
        discharge::discharge_save,
        discharge::discharge_sign,
        discharge::discharge_amend,
        discharge::discharge_letter,
        discharge::discharge_dashboard,
        imaging::patient_studies,
        imaging::open_study,
        imaging::open_patient_images,
        relationships::patient_relationship,
        relationships::add_to_patient_list,
        relationships::remove_from_patient_list,
        relationships::my_patient_list,
        sact::sact_patient_record,
        sact::sact_preview,
        sact::sact_prescribe,
        sact::sact_verification_queue,
        sact::sact_release_queue,
        sact::sact_verify,
        sact::sact_release_lab_values,
        sact::sact_release_checks,
        sact::sact_release,
        sact::sact_defer,
        sact::sact_cancel,
        sact::sact_treatment_list,
        sact::sact_administer,
    ])
}

/// The bindings as text, exactly as they would be written to [`BINDINGS_PATH`].
pub fn render_bindings() -> Result<String, String> {
    let scratch = std::env::temp_dir().join(format!("cws-bindings-{}.ts", std::process::id()));
    let typescript = Typescript::default()
        .header("// Generated from the Rust command types by `make bindings`. Do not edit.");
    bindings_builder().export(typescript, &scratch).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&scratch).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&scratch);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Fails when a command or type changed without regenerating the UI's
    /// bindings. `UPDATE_BINDINGS=1` rewrites the file instead.
    #[test]
    fn generated_typescript_bindings_are_current() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        let fresh = render_bindings().expect("bindings render");
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&committed, &fresh).expect("bindings file is writable");
            return;
        }
        let on_disk = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(on_disk == fresh, "{BINDINGS_PATH} is stale: run `make bindings` and commit the result");
    }
}
