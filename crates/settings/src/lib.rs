//! The workstation's settings, as one typed struct: the site's TOML file
//! (`/etc/clinicalworkstation/workstation.toml`, or the file `CWS_CONFIG`
//! names), then environment overrides, checked once at start-up. A setting that
//! cannot be used is refused with its name and the reason, never guessed at.
//!
//! The file lives under /etc because the role mapping decides what every user
//! may do: it belongs to the site's IT, not to the account the app runs as.

mod discharge;

use std::path::{Path, PathBuf};

pub use discharge::{ClientCertificate, DischargeSettings, MdmSettings, MeshSettings, SmtpSettings};
use std::time::Duration;

use patients::NhsNumberPolicy;
use serde::Deserialize;
use session::RolePermissions;

/// Where a site puts its settings.
pub const SITE_FILE: &str = "/etc/clinicalworkstation/workstation.toml";
/// OpenSC's PKCS#11 module, for real NHS smart cards, where Debian installs it.
pub const OPENSC_MODULE: &str = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
const DEFAULT_INACTIVITY_SECONDS: u64 = 300;
/// Shorter locks people out mid-task; longer leaves a walked-away session open.
const INACTIVITY_SECONDS: std::ops::RangeInclusive<u64> = 30..=3600;

/// Where the store is: a local encrypted file, or a trust's shared server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The encrypted file; `None` means the platform data folder.
    LocalFile(Option<PathBuf>),
    Shared(SharedStoreSettings),
}

/// A shared PostgreSQL store: `[store] url` (or `CWS_STORE_URL`), never with a
/// password in it; the password is in `password_file` or the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedStoreSettings {
    pub url: String,
    pub password_file: Option<PathBuf>,
    /// The CA of the server's certificate, where the OS does not already trust it.
    pub ca: Option<PathBuf>,
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub store: StoreChoice,
    /// The PKCS#11 module: OpenSC's unless the site names another (SoftHSM2 for demonstrations).
    pub pkcs11_module: PathBuf,
    /// The CA that issues staff cards. Without one, no card is trusted.
    pub card_ca: Option<PathBuf>,
    /// The CA's certificate revocation list. Without one, revocation is not checked;
    /// with one that is out of date, every card is refused.
    pub card_crl: Option<PathBuf>,
    pub inactivity_lock: Duration,
    /// Offer fictional staff without a card (demonstrations only; never beside cards).
    pub demo_sign_in: bool,
    pub nhs_numbers: NhsNumberPolicy,
    /// Job role → permissions; the shipped default unless the site gives its own.
    pub roles: RolePermissions,
    /// The trust's name, as printed documents head it.
    pub site_name: String,
    /// The site's ODS code, recorded with each dose given here (SACT item 35).
    pub site_ods_code: Option<String>,
    /// Who may verify which SACT prescriptions (`[sact.verification]`): roles
    /// that verify every drug, and roles (technicians) granted named drugs only.
    pub verification_scope: sact::VerificationScope,
    /// The OS account the HL7 listener runs as (`[interface] account`). On a
    /// shared store it must be named; a stand-alone workstation's own account
    /// may receive when none is.
    pub interface_account: Option<String>,
    /// The laboratory's test codes the chemotherapy checks use, each with the one
    /// unit its limits are in (`[interface.lab_codes]`).
    pub lab_codes: Vec<(String, LabCode)>,
    /// The site's wards, bays and beds (`[beds]`, or the file it names); the
    /// bed board shows each, free until the feed or a bed manager says otherwise.
    pub ward_layout: Vec<WardLayout>,
    /// The PACS the Imaging page lists studies from, and the viewers it
    /// opens them in (`[pacs]`); none where the site has not set one up.
    pub pacs: Option<PacsSettings>,
    /// How signed discharge summaries are sent (`[discharge]`).
    pub discharge: DischargeSettings,
}

/// The PACS's DICOMweb service and the viewers offered (`[pacs]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacsSettings {
    /// The DICOMweb root (QIDO-RS `…/studies` is under it); `CWS_PACS_QIDO_URL` overrides it.
    pub qido_url: String,
    /// Sent as `IssuerOfPatientID` with the NHS number, where the PACS keeps one.
    pub issuer_of_patient_id: Option<String>,
    /// Where the PACS knows some patients by hospital number: the issuer sent with
    /// it (or "" for none). Without it, a patient is looked up by NHS number only.
    pub hospital_number_issuer: Option<String>,
    pub timeout: Duration,
    /// The CA that signs the PACS's TLS certificate, beside the system's.
    pub ca: Option<PathBuf>,
    /// A file only this account may read: `user:password` for HTTP Basic, or
    /// `Bearer <token>`. Never in the settings file itself.
    pub credentials_file: Option<PathBuf>,
    /// Studies asked for a page at a time (`limit=`): Debian's Orthanc would otherwise send every match.
    pub page_size: u32,
    pub viewers: Vec<imaging::Viewer>,
    /// A program given each viewer URL to open, instead of the OS handler.
    pub open_command: Option<PathBuf>,
    /// The site's program that mints a short-lived token for one study (given
    /// the study UID, it prints the token): sent to Weasis as a header, never
    /// logged or audited, refused if it lives longer than five minutes.
    pub token_command: Option<PathBuf>,
}

/// A ward as the site lays it out (`[beds]`): its code as the PAS sends it in
/// PV1-3, a name for people, and its bays (or side rooms) with their beds, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WardLayout {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bays: Vec<BayLayout>,
}

/// A bay or side room: its code (PV1-3.2) and its beds (PV1-3.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayLayout {
    pub code: String,
    /// A number of beds (named BED1, BED2, …) or the beds' codes in order.
    pub beds: BedsSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum BedsSpec {
    Count(u32),
    Named(Vec<String>),
}

impl BayLayout {
    /// The bay's bed codes, in order.
    pub fn bed_codes(&self) -> Vec<String> {
        match &self.beds {
            BedsSpec::Count(n) => (1..=*n).map(|i| format!("BED{i}")).collect(),
            BedsSpec::Named(codes) => codes.clone(),
        }
    }
}

/// One laboratory test code mapped to a chemotherapy check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabCode {
    /// neutrophils, platelets, haemoglobin, creatinine, bilirubin, alt or egfr.
    pub check: String,
    /// The unit exactly as the laboratory writes it, e.g. `10*9/L`.
    pub units: String,
}

/// The checks a laboratory code may feed.
pub const LAB_CHECKS: [&str; 7] =
    ["neutrophils", "platelets", "haemoglobin", "creatinine", "bilirubin", "alt", "egfr"];

/// What printed documents say when the site has not named itself.
pub const UNNAMED_SITE: &str = "Site name not set (site.name in the settings)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings file {path} cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("the settings file {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("setting {setting}: {reason}")]
    BadValue { setting: &'static str, reason: String },
}

impl Settings {
    /// What to run with when the site's settings cannot be used: no card trusted,
    /// no demonstration sign-in, and the NHS number test range refused, as a
    /// production site would. Nobody can sign in until the settings are mended.
    pub fn fail_safe() -> Self {
        Self {
            store: StoreChoice::LocalFile(None),
            pkcs11_module: PathBuf::from(OPENSC_MODULE),
            card_ca: None,
            card_crl: None,
            inactivity_lock: Duration::from_secs(DEFAULT_INACTIVITY_SECONDS),
            demo_sign_in: false,
            nhs_numbers: NhsNumberPolicy { accept_test_range: false },
            roles: RolePermissions::site_default(),
            site_name: UNNAMED_SITE.to_owned(),
            site_ods_code: None,
            verification_scope: sact::VerificationScope::site_default(),
            interface_account: None,
            lab_codes: Vec::new(),
            ward_layout: Vec::new(),
            pacs: None,
            discharge: DischargeSettings::default(),
        }
    }
}

/// The settings for this process: the site file, if there is one, and the environment.
pub fn load() -> Result<Settings, SettingsError> {
    let named = std::env::var_os("CWS_CONFIG").map(PathBuf::from);
    let path = named.clone().unwrap_or_else(|| PathBuf::from(SITE_FILE));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        // Only a file someone named must exist; without one, the defaults apply.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && named.is_none() => None,
        Err(error) => return Err(SettingsError::Unreadable { path, reason: error.to_string() }),
    };
    from_sources(text.as_deref().map(|text| (path.as_path(), text)), |name| std::env::var(name).ok())
}

/// The settings from a file's text (if any) and an environment. Does no I/O.
pub fn from_sources(
    file: Option<(&Path, &str)>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Settings, SettingsError> {
    let site = match file {
        Some((path, text)) => toml::from_str::<SiteFile>(text)
            .map_err(|e| SettingsError::Invalid { path: path.to_owned(), reason: e.to_string() })?,
        None => SiteFile::default(),
    };
    let env_path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let inactivity_seconds = match env("CWS_INACTIVITY_LOCK_SECONDS") {
        Some(text) => text.trim().parse().map_err(|_| SettingsError::BadValue {
            setting: "CWS_INACTIVITY_LOCK_SECONDS",
            reason: format!("{text:?} is not a whole number of seconds"),
        })?,
        None => site.session.inactivity_lock_seconds.unwrap_or(DEFAULT_INACTIVITY_SECONDS),
    };
    if !INACTIVITY_SECONDS.contains(&inactivity_seconds) {
        return Err(SettingsError::BadValue {
            setting: "session.inactivity_lock_seconds",
            reason: format!(
                "{inactivity_seconds} is outside {} to {} seconds",
                INACTIVITY_SECONDS.start(),
                INACTIVITY_SECONDS.end()
            ),
        });
    }
    let test_range = env("CWS_NHS_NUMBER_TEST_RANGE").or(site.patients.nhs_number_test_range);
    let nhs_numbers = NhsNumberPolicy::from_setting(test_range.as_deref()).map_err(|e| {
        SettingsError::BadValue { setting: "patients.nhs_number_test_range", reason: e.to_string() }
    })?;
    let demo_sign_in = match env("CWS_DEMO_SIGN_IN").as_deref() {
        Some("1") => true,
        Some("0") => false,
        Some(other) => {
            return Err(SettingsError::BadValue {
                setting: "CWS_DEMO_SIGN_IN",
                reason: format!("{other:?} is neither 1 nor 0"),
            });
        }
        None => site.session.demo_sign_in.unwrap_or(false),
    };
    Ok(Settings {
        store: store_choice(site.store, &env)?,
        pkcs11_module: env_path("CWS_PKCS11_MODULE")
            .or(site.cards.pkcs11_module)
            .unwrap_or_else(|| PathBuf::from(OPENSC_MODULE)),
        card_ca: env_path("CWS_CARD_CA").or(site.cards.issuing_ca),
        card_crl: env_path("CWS_CARD_CRL").or(site.cards.revocation_list),
        inactivity_lock: Duration::from_secs(inactivity_seconds),
        demo_sign_in,
        nhs_numbers,
        roles: site.roles.unwrap_or_else(RolePermissions::site_default),
        site_name: site.site.name.unwrap_or_else(|| UNNAMED_SITE.to_owned()),
        site_ods_code: site.site.ods_code,
        verification_scope: site.sact.verification.unwrap_or_else(sact::VerificationScope::site_default),
        interface_account: site.interface.account,
        lab_codes: lab_codes(site.interface.lab_codes)?,
        ward_layout: ward_layout(site.beds)?,
        pacs: pacs(site.pacs, env("CWS_PACS_QIDO_URL"))?,
        discharge: discharge::discharge(site.discharge)?,
    })
}

/// Most beds a bay may be given by number (a typing slip, not a ward).
const MOST_BEDS_IN_A_BAY: u32 = 64;

/// The ward layout from `[beds]`, or from the file its `file` names (not both),
/// each ward, bay and bed named, and no bed twice.
fn ward_layout(section: BedsSection) -> Result<Vec<WardLayout>, SettingsError> {
    let bad = |reason: String| SettingsError::BadValue { setting: "beds", reason };
    let wards = match (section.file, section.wards.is_empty()) {
        (Some(_), false) => {
            return Err(bad("give the wards here or in the file beds.file names, not both".into()));
        }
        (Some(path), true) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| SettingsError::Unreadable { path: path.clone(), reason: e.to_string() })?;
            toml::from_str::<BedsFile>(&text)
                .map_err(|e| SettingsError::Invalid { path: path.clone(), reason: e.to_string() })?
                .wards
        }
        (None, _) => section.wards,
    };
    let mut seen = std::collections::BTreeSet::new();
    for ward in &wards {
        if ward.code.trim().is_empty() {
            return Err(bad("a ward has no code".into()));
        }
        for bay in &ward.bays {
            if let BedsSpec::Count(n) = bay.beds
                && !(1..=MOST_BEDS_IN_A_BAY).contains(&n)
            {
                return Err(bad(format!(
                    "{}/{}: {n} beds is outside 1 to {MOST_BEDS_IN_A_BAY}",
                    ward.code, bay.code
                )));
            }
            for bed in bay.bed_codes() {
                if bed.trim().is_empty() || !seen.insert((ward.code.clone(), bay.code.clone(), bed.clone())) {
                    return Err(bad(format!(
                        "{}/{}/{bed}: a bed is empty or named twice",
                        ward.code, bay.code
                    )));
                }
            }
        }
    }
    Ok(wards)
}

/// The lab code table, each entry naming a known check.
fn lab_codes(
    table: std::collections::BTreeMap<String, LabCode>,
) -> Result<Vec<(String, LabCode)>, SettingsError> {
    table
        .into_iter()
        .map(|(code, mapping)| {
            if !LAB_CHECKS.contains(&mapping.check.as_str()) {
                return Err(SettingsError::BadValue {
                    setting: "interface.lab_codes",
                    reason: format!("{code}: {:?} is not one of {}", mapping.check, LAB_CHECKS.join(", ")),
                });
            }
            Ok((code, mapping))
        })
        .collect()
}

/// `CWS_STORE_URL`, then `CWS_STORE`, then the file's `url` or `path` (not both).
fn store_choice(
    file: StoreSection,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<StoreChoice, SettingsError> {
    let given = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(url) = given("CWS_STORE_URL") {
        let shared = SharedStoreSettings {
            url,
            password_file: file.password_file,
            ca: file.ca,
            client_certificate: file.client_certificate,
            client_key: file.client_key,
        };
        return Ok(StoreChoice::Shared(shared));
    }
    if let Some(path) = given("CWS_STORE") {
        return Ok(StoreChoice::LocalFile(Some(PathBuf::from(path))));
    }
    match (file.url, file.path) {
        (Some(_), Some(_)) => Err(SettingsError::BadValue {
            setting: "store",
            reason: "give either path (a local store file) or url (a shared server), not both".into(),
        }),
        (Some(url), None) => Ok(StoreChoice::Shared(SharedStoreSettings {
            url,
            password_file: file.password_file,
            ca: file.ca,
            client_certificate: file.client_certificate,
            client_key: file.client_key,
        })),
        (None, path) => Ok(StoreChoice::LocalFile(path)),
    }
}

/// The file's shape. Unknown names are refused, so a misspelt setting is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    cards: CardsSection,
    #[serde(default)]
    session: SessionSection,
    #[serde(default)]
    patients: PatientsSection,
    #[serde(default)]
    site: SiteSection,
    roles: Option<RolePermissions>,
    #[serde(default)]
    sact: SactSection,
    #[serde(default)]
    interface: InterfaceSection,
    #[serde(default)]
    beds: BedsSection,
    pacs: Option<PacsSection>,
    discharge: Option<discharge::DischargeSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PacsSection {
    qido_url: Option<String>,
    issuer_of_patient_id: Option<String>,
    hospital_number_issuer: Option<String>,
    timeout_seconds: Option<u64>,
    ca: Option<PathBuf>,
    credentials_file: Option<PathBuf>,
    page_size: Option<u32>,
    #[serde(default)]
    viewers: Vec<imaging::Viewer>,
    open_command: Option<PathBuf>,
    token_command: Option<PathBuf>,
}

/// How long the PACS has to answer, unless the site says otherwise.
const DEFAULT_PACS_TIMEOUT_SECONDS: u64 = 5;

/// `[pacs]`, checked: an http(s) DICOMweb root, a time-out of 1 to 60 s, a page
/// of 1 to 1,000 studies, and viewers with distinct names (IID and OHIF with a URL).
fn pacs(
    section: Option<PacsSection>,
    url_from_env: Option<String>,
) -> Result<Option<PacsSettings>, SettingsError> {
    let bad = |reason: String| SettingsError::BadValue { setting: "pacs", reason };
    let section = match (section, url_from_env.is_some()) {
        (None, false) => return Ok(None),
        (section, _) => section.unwrap_or_default(),
    };
    let qido_url = url_from_env
        .or(section.qido_url)
        .ok_or_else(|| bad("qido_url is needed: the PACS's DICOMweb root".into()))?;
    let qido_url = qido_url.trim_end_matches('/').to_owned();
    if !(qido_url.starts_with("https://") || qido_url.starts_with("http://")) {
        return Err(bad(format!("qido_url {qido_url:?} is not an http(s) address")));
    }
    let timeout_seconds = section.timeout_seconds.unwrap_or(DEFAULT_PACS_TIMEOUT_SECONDS);
    if !(1..=60).contains(&timeout_seconds) {
        return Err(bad(format!("timeout_seconds {timeout_seconds} is outside 1 to 60")));
    }
    let page_size = section.page_size.unwrap_or(100);
    if !(1..=1000).contains(&page_size) {
        return Err(bad(format!("page_size {page_size} is outside 1 to 1,000")));
    }
    let mut names = std::collections::BTreeSet::new();
    for viewer in &section.viewers {
        if viewer.name.trim().is_empty() || !names.insert(viewer.name.clone()) {
            return Err(bad(format!("viewer {:?}: each viewer needs a name of its own", viewer.name)));
        }
        if viewer.kind != imaging::ViewerKind::Weasis && viewer.url.is_none() {
            return Err(bad(format!("viewer {:?}: an IID or OHIF viewer needs its url", viewer.name)));
        }
    }
    Ok(Some(PacsSettings {
        qido_url,
        issuer_of_patient_id: section.issuer_of_patient_id,
        hospital_number_issuer: section.hospital_number_issuer,
        timeout: Duration::from_secs(timeout_seconds),
        ca: section.ca,
        credentials_file: section.credentials_file,
        page_size,
        viewers: section.viewers,
        open_command: section.open_command,
        token_command: section.token_command,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BedsSection {
    /// A file holding the wards (`[[wards]]`), for a layout kept apart from the settings.
    file: Option<PathBuf>,
    #[serde(default)]
    wards: Vec<WardLayout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BedsFile {
    wards: Vec<WardLayout>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InterfaceSection {
    account: Option<String>,
    #[serde(default)]
    lab_codes: std::collections::BTreeMap<String, LabCode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SactSection {
    verification: Option<sact::VerificationScope>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteSection {
    name: Option<String>,
    ods_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    path: Option<PathBuf>,
    url: Option<String>,
    password_file: Option<PathBuf>,
    ca: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CardsSection {
    pkcs11_module: Option<PathBuf>,
    issuing_ca: Option<PathBuf>,
    revocation_list: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionSection {
    inactivity_lock_seconds: Option<u64>,
    demo_sign_in: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatientsSection {
    nhs_number_test_range: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use session::{JobRole, Permission};

    use super::*;

    fn settings(file: &str, env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        let file = (!file.is_empty()).then_some((Path::new("/etc/test.toml"), file));
        from_sources(file, |name| env.get(name).cloned())
    }

    #[test]
    fn the_pacs_and_its_viewers_are_site_data_and_the_url_may_come_from_the_environment() {
        let file = r#"
[pacs]
qido_url = "https://pacs.example.nhs.uk/dicom-web/"
issuer_of_patient_id = "NHS"
timeout_seconds = 5

[[pacs.viewers]]
name = "iid"
kind = "iid"
url = "https://viewer.example.nhs.uk/IHEInvokeImageDisplay"

[[pacs.viewers]]
name = "weasis"
kind = "weasis"
"#;
        let read = settings(file, &[]).expect("valid").pacs.expect("a PACS");
        assert_eq!(read.qido_url, "https://pacs.example.nhs.uk/dicom-web");
        assert_eq!((read.timeout, read.page_size, read.viewers.len()), (Duration::from_secs(5), 100, 2));
        let overridden = settings(file, &[("CWS_PACS_QIDO_URL", "http://127.0.0.1:18042/dicom-web")])
            .expect("valid")
            .pacs
            .expect("a PACS");
        assert_eq!(overridden.qido_url, "http://127.0.0.1:18042/dicom-web");
        assert_eq!(settings("", &[]).expect("valid").pacs, None, "none unless set up");
        for (bad, said) in [
            ("[pacs]\nqido_url = \"ftp://pacs\"\n", "http(s)"),
            ("[pacs]\nqido_url = \"https://p\"\ntimeout_seconds = 0\n", "timeout_seconds"),
            (
                "[pacs]\nqido_url = \"https://p\"\n[[pacs.viewers]]\nname = \"o\"\nkind = \"ohif\"\n",
                "needs its url",
            ),
            ("[pacs]\nqido_url = \"https://p\"\npassword = \"x\"\n", "password"),
        ] {
            let error = settings(bad, &[]).expect_err(bad).to_string();
            assert!(error.contains(said), "{bad}: {error}");
        }
    }

    #[test]
    fn the_discharge_sender_and_gp_addresses_are_site_data_checked_once() {
        let file = r#"
[discharge]
sender_account = "cws-outbox"
gp_addresses = { A81001 = "gp.a81001@nhs.net" }
retry = { first_wait_seconds = 1, longest_wait_seconds = 4, give_up_after_hours = 120 }

[discharge.smtp]
host = "send.nhs.net"
account = "example.discharges@nhs.net"
password_file = "/etc/clinicalworkstation/nhsmail-password"
"#;
        let read = settings(file, &[]).expect("valid").discharge;
        let smtp = read.smtp.expect("smtp");
        assert_eq!(
            (smtp.port, smtp.timeout),
            (587, Duration::from_secs(30)),
            "NHSmail submission by default"
        );
        assert_eq!(read.gp_addresses.get("A81001").map(String::as_str), Some("gp.a81001@nhs.net"));
        assert_eq!(read.retry.first_wait_seconds, 1);
        assert_eq!(settings("", &[]).expect("valid").discharge, DischargeSettings::default());
        for (bad, said) in [
            ("[discharge.smtp]\nhost = \"h\"\naccount = \"a@b.nhs.net\"\n", "password_file"),
            ("[discharge.smtp]\nhost = \"h\"\naccount = \"a@b.nhs.net\"\npassword = \"x\"\n", "password"),
            (
                "[discharge.smtp]\nhost = \"h\"\naccount = \"nobody\"\npassword_file = \"/p\"\n",
                "not a mail address",
            ),
            ("[discharge]\ngp_addresses = { a81001 = \"gp@nhs.net\" }\n", "ODS code"),
            ("[discharge]\ngp_addresses = { A81001 = \"surgery@gmail.com\" }\n", "NHSmail"),
            ("[discharge.mdm]\npeer = \"epr.example\"\n", "host:port"),
            ("[discharge.mesh]\nurl = \"http://mesh.example\"\nmailbox = \"X\"\n", "https"),
            (
                "[discharge.mesh]\nurl = \"https://mesh\"\nmailbox = \"X\"\npassword_file = \"/p\"\n",
                "shared_key_file",
            ),
            (
                "[discharge.mesh]\nurl = \"https://mesh.example\"\nmailbox = \"X\"\npassword_file = \"/p\"\nshared_key_file = \"/k\"\n",
                "the organisation's certificate",
            ),
            (
                "[discharge.mesh]\nurl = \"https://mesh.example\"\nmailbox = \"X\"\npassword_file = \"/p\"\nshared_key_file = \"/k\"\nclient_certificate = \"/c.pem\"\n",
                "go together",
            ),
            ("[discharge.mesh]\nurl = \"http://127.0.0.1.example.org\"\nmailbox = \"X\"\n", "https"),
            (
                "[discharge]\nretry = { first_wait_seconds = 60, longest_wait_seconds = 5, give_up_after_hours = 1 }\n",
                "retry",
            ),
        ] {
            let error = settings(bad, &[]).expect_err(bad).to_string();
            assert!(error.contains(said), "{bad}: {error}");
        }
    }

    #[test]
    fn the_laboratory_codes_map_to_known_checks_only() {
        let file = "[interface]\naccount = \"cws-hl7\"\n[interface.lab_codes]\nNEUT = { check = \"neutrophils\", units = \"10*9/L\" }\n";
        let read = settings(file, &[]).expect("valid");
        assert_eq!(read.interface_account.as_deref(), Some("cws-hl7"));
        assert_eq!(
            read.lab_codes,
            vec![("NEUT".to_owned(), LabCode { check: "neutrophils".into(), units: "10*9/L".into() })]
        );
        let unknown = "[interface.lab_codes]\nCRP = { check = \"crp\", units = \"mg/L\" }\n";
        let refused = settings(unknown, &[]).expect_err("not a check");
        assert!(
            refused.to_string().contains("CRP") && refused.to_string().contains("neutrophils"),
            "{refused}"
        );
    }

    #[test]
    fn the_ward_layout_is_site_data_here_or_in_a_file_of_its_own() {
        let here = r#"
[[beds.wards]]
code = "WARD7"
name = "Ward 7 (oncology)"
bays = [{ code = "BAY1", beds = 3 }, { code = "SIDE1", beds = ["SR1"] }]
"#;
        let layout = settings(here, &[]).expect("valid").ward_layout;
        assert_eq!(layout[0].name.as_deref(), Some("Ward 7 (oncology)"));
        assert_eq!(layout[0].bays[0].bed_codes(), ["BED1", "BED2", "BED3"]);
        assert_eq!(layout[0].bays[1].bed_codes(), ["SR1"]);

        let folder = tempfile::tempdir().expect("folder");
        let file = folder.path().join("beds.toml");
        std::fs::write(&file, "[[wards]]\ncode = \"WARD9\"\nbays = [{ code = \"BAY1\", beds = 2 }]\n")
            .expect("written");
        let named = format!("[beds]\nfile = {:?}\n", file.to_string_lossy());
        assert_eq!(settings(&named, &[]).expect("valid").ward_layout[0].code, "WARD9");

        let twice = "[[beds.wards]]\ncode = \"W\"\nbays = [{ code = \"B\", beds = [\"X\", \"X\"] }]\n";
        assert!(settings(twice, &[]).expect_err("refused").to_string().contains("W/B/X"));
        let huge = "[[beds.wards]]\ncode = \"W\"\nbays = [{ code = \"B\", beds = 500 }]\n";
        assert!(settings(huge, &[]).expect_err("refused").to_string().contains("500 beds"));
        let both = format!("{named}[[beds.wards]]\ncode = \"W\"\n");
        assert!(settings(&both, &[]).expect_err("refused").to_string().contains("not both"));
        assert!(settings("", &[]).expect("defaults").ward_layout.is_empty(), "beds come from the feed alone");
    }

    #[test]
    fn a_technicians_verification_scope_is_site_data() {
        let file = r#"
[sact.verification]
all_drugs = ["R8003"]
named_drugs = { "R1290" = ["capecitabine", "fluorouracil"] }
"#;
        let scope = settings(file, &[]).expect("valid").verification_scope;
        let technician = |id: &str| sact::Verifier {
            user_id: session::UserId::parse(id).expect("id"),
            role_code: "R1290".into(),
        };
        assert!(scope.check(&technician("555000000009"), ["capecitabine"]).is_ok());
        let refused =
            scope.check(&technician("555000000009"), ["capecitabine", "oxaliplatin"]).expect_err("outside");
        assert_eq!(refused.rule, "verification_scope");
        assert_eq!(
            settings("", &[]).expect("defaults").verification_scope,
            sact::VerificationScope::site_default(),
            "pharmacists only, until a site grants more"
        );
        let misspelt = settings("[sact.verification]\nall_drug = [\"R8003\"]\n", &[]).expect_err("refused");
        assert!(misspelt.to_string().contains("all_drug"), "{misspelt}");
    }

    fn role(code: &str) -> JobRole {
        JobRole { code: code.into(), name: code.into() }
    }

    #[test]
    fn without_a_file_or_environment_the_safe_defaults_apply() {
        let settings = settings("", &[]).expect("defaults");
        assert_eq!(settings.inactivity_lock, Duration::from_secs(300));
        assert!(!settings.demo_sign_in, "no card-less sign-in unless asked for");
        assert_eq!(settings.card_ca, None, "no CA means no card is trusted");
        assert_eq!(settings.pkcs11_module, PathBuf::from(OPENSC_MODULE));
        assert_eq!(settings.roles, RolePermissions::site_default());
    }

    #[test]
    fn the_fail_safe_settings_trust_no_card_and_offer_no_demonstration() {
        let safe = Settings::fail_safe();
        assert_eq!(safe.card_ca, None);
        assert!(!safe.demo_sign_in);
        assert!(!safe.nhs_numbers.accept_test_range);
    }

    #[test]
    fn a_site_file_sets_cards_session_and_its_own_role_mapping() {
        let file = r#"
            [cards]
            pkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
            issuing_ca = "/etc/clinicalworkstation/trust-ca.pem"
            [session]
            inactivity_lock_seconds = 120
            [roles]
            R8000 = ["prescribe_sact", "view_images"]
            R8008 = ["manage_beds", "view_images"]
        "#;
        let settings = settings(file, &[]).expect("valid");
        assert_eq!(settings.card_ca, Some(PathBuf::from("/etc/clinicalworkstation/trust-ca.pem")));
        assert_eq!(settings.inactivity_lock, Duration::from_secs(120));
        let clerk = settings.roles.for_roles(&[role("R8008")]);
        assert!(clerk.contains(&Permission::ViewImages), "this site lets ward clerks view images");
        let doctor = settings.roles.for_roles(&[role("R8000")]);
        assert!(!doctor.contains(&Permission::SignDischarge), "the site's mapping replaces the default");
    }

    #[test]
    fn a_shared_store_is_chosen_by_url_with_its_credentials_beside_it() {
        let file = "[store]\nurl = \"postgres://cws@db.example.nhs.uk/cws\"\npassword_file = \"/etc/clinicalworkstation/store-password\"\n";
        let StoreChoice::Shared(shared) = settings(file, &[]).expect("valid").store else {
            panic!("a url chooses the shared store")
        };
        assert_eq!(shared.url, "postgres://cws@db.example.nhs.uk/cws");
        assert_eq!(shared.password_file, Some(PathBuf::from("/etc/clinicalworkstation/store-password")));
        let env = settings(
            "[store]\npath = \"/srv/cws/store.db\"\n",
            &[("CWS_STORE_URL", "postgres://cws@127.0.0.1/cws")],
        );
        assert!(
            matches!(env.expect("valid").store, StoreChoice::Shared(_)),
            "CWS_STORE_URL overrides the file"
        );
    }

    #[test]
    fn a_store_given_both_as_a_file_and_a_server_is_refused() {
        let file = "[store]\npath = \"/srv/cws/store.db\"\nurl = \"postgres://cws@db.example.nhs.uk/cws\"\n";
        let error = settings(file, &[]).expect_err("ambiguous");
        assert!(error.to_string().contains("not both"), "{error}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = "[session]\ninactivity_lock_seconds = 120\n[store]\npath = \"/srv/cws/store.db\"\n";
        let settings =
            settings(file, &[("CWS_INACTIVITY_LOCK_SECONDS", "60"), ("CWS_STORE", "/tmp/other.db")])
                .expect("valid");
        assert_eq!(settings.inactivity_lock, Duration::from_secs(60));
        assert_eq!(settings.store, StoreChoice::LocalFile(Some(PathBuf::from("/tmp/other.db"))));
    }

    #[test]
    fn the_documented_example_file_is_valid_and_matches_the_shipped_roles() {
        let example = include_str!("../../../docs/workstation.example.toml");
        let settings = settings(example, &[]).expect("docs/workstation.example.toml is valid");
        assert_eq!(settings.roles, RolePermissions::site_default(), "the example shows the shipped mapping");
        assert_eq!(settings.inactivity_lock, Duration::from_secs(300));
        assert_eq!(settings.card_crl, Some(PathBuf::from("/etc/clinicalworkstation/card-issuing-ca.crl")));
        assert_eq!(settings.pacs.map(|p| p.viewers.len()), Some(2), "the example's PACS and its two viewers");
    }

    #[test]
    fn a_misspelt_setting_is_refused_not_ignored() {
        let error = settings("[session]\ninactivity_lock_second = 60\n", &[]).expect_err("refused");
        assert!(error.to_string().contains("inactivity_lock_second"), "{error}");
    }

    #[test]
    fn an_unknown_permission_in_the_role_mapping_is_refused() {
        let error = settings("[roles]\nR8000 = [\"prescribe_anything\"]\n", &[]).expect_err("refused");
        assert!(error.to_string().contains("prescribe_anything"), "{error}");
    }

    #[test]
    fn an_inactivity_lock_that_would_never_lock_is_refused() {
        for seconds in ["0", "5", "86400"] {
            let error = settings("", &[("CWS_INACTIVITY_LOCK_SECONDS", seconds)]).expect_err("refused");
            assert!(error.to_string().contains("session.inactivity_lock_seconds"), "{error}");
        }
        let error = settings("", &[("CWS_INACTIVITY_LOCK_SECONDS", "five")]).expect_err("refused");
        assert!(error.to_string().contains("not a whole number"), "{error}");
    }

    #[test]
    fn demo_sign_in_and_the_test_range_take_only_known_values() {
        assert!(settings("", &[("CWS_DEMO_SIGN_IN", "1")]).expect("valid").demo_sign_in);
        assert!(settings("", &[("CWS_DEMO_SIGN_IN", "yes")]).is_err());
        let refusing = settings("[patients]\nnhs_number_test_range = \"refuse\"\n", &[]).expect("valid");
        assert!(!refusing.nhs_numbers.accept_test_range);
        assert!(settings("", &[("CWS_NHS_NUMBER_TEST_RANGE", "maybe")]).is_err());
    }
}
