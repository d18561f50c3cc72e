//! The settings that decide who may act, for every `cws` act that needs a
//! person: the card CA, the PKCS#11 module and the role mapping. They come only
//! from a settings file owned by root and writable by no one else (the site file,
//! or a `CWS_CONFIG` file that passes the same test), never from the environment
//! or the command line: whoever runs `cws` must not choose the trust that guards it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use settings::{SITE_FILE, Settings};

use crate::Failure;

/// The trusted settings, read once per run.
pub fn trusted_settings() -> Result<&'static Settings, Failure> {
    static TRUSTED: OnceLock<Result<Settings, String>> = OnceLock::new();
    TRUSTED.get_or_init(load).as_ref().map_err(|problem| Failure::Input(problem.clone()))
}

fn load() -> Result<Settings, String> {
    let named = std::env::var_os("CWS_CONFIG").map(PathBuf::from);
    let path = named.clone().unwrap_or_else(|| PathBuf::from(SITE_FILE));
    if !path.exists() && named.is_none() {
        // No site file: the shipped defaults, which trust no card CA.
        return settings::from_sources(None, |_| None).map_err(|e| format!("settings: {e}"));
    }
    only_root_may_change(&path)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("settings: {}: {e}", path.display()))?;
    settings::from_sources(Some((&path, &text)), |_| None).map_err(|e| format!("settings: {e}"))
}

/// The file, and the folder it is in, belong to root and no one else may write
/// them (a sticky folder such as /tmp aside, where others cannot replace it).
fn only_root_may_change(path: &Path) -> Result<(), String> {
    let refuse = |what: &Path, why: String| {
        Err(format!(
            "settings: {} decides whose card is trusted and what each role may do, so it must belong to root and be writable by no one else; {why}",
            what.display()
        ))
    };
    let file = std::fs::metadata(path).map_err(|e| format!("settings: {}: {e}", path.display()))?;
    if file.uid() != 0 {
        return refuse(path, format!("it belongs to uid {}", file.uid()));
    }
    if file.mode() & 0o022 != 0 {
        return refuse(path, format!("its mode is {:o}", file.mode() & 0o777));
    }
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder_meta =
        std::fs::metadata(folder).map_err(|e| format!("settings: {}: {e}", folder.display()))?;
    let sticky = folder_meta.mode() & 0o1000 != 0;
    if folder_meta.uid() != 0 || (folder_meta.mode() & 0o022 != 0 && !sticky) {
        return refuse(folder, "others may replace the file in it".into());
    }
    Ok(())
}
