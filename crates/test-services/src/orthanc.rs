//! A private Orthanc PACS with DICOMweb, from Debian's packages (`orthanc`,
//! `orthanc-dicomweb`, which `make test` installs): its own configuration and
//! storage in a temporary folder, free loopback ports, HTTP Basic
//! authentication on, stopped on drop. Synthetic studies are made with dcmtk's
//! `dump2dcm` and uploaded with `POST /instances`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::loopback::{check, free_loopback_port, make_certificates};

const ORTHANC: &str = "/usr/sbin/Orthanc";
const PLUGINS: &str = "/usr/share/orthanc/plugins";

/// The account the test PACS admits (HTTP Basic).
pub const ORTHANC_USER: &str = "cws-test";
pub const ORTHANC_PASSWORD: &str = "synthetic-only";

pub struct Orthanc {
    folder: tempfile::TempDir,
    child: Child,
    /// The port clients use: Orthanc's own, or the TLS front's.
    port: u16,
    /// Serving HTTPS, through a TLS front (socat) with a certificate from a CA
    /// of its own (`ca_certificate`), as a trust puts a proxy before its PACS.
    tls: bool,
    tls_front: Option<Child>,
}

/// One synthetic study: one series of `instances` images without pixel data,
/// enough for a study list. Dates are `YYYYMMDD`.
#[derive(Debug, Clone)]
pub struct SyntheticStudy {
    pub patient_id: String,
    pub patient_name: String,
    pub issuer: Option<String>,
    pub study_uid: String,
    pub date: String,
    pub modality: String,
    pub description: String,
    pub accession: String,
    pub referring: String,
    pub instances: u32,
}

impl Orthanc {
    /// Starts a PACS, or says why Orthanc cannot run here.
    pub fn start() -> Result<Self, String> {
        Self::start_with(false)
    }

    /// As `start`, serving HTTPS with a server certificate for 127.0.0.1 from a
    /// CA made for the run (`ca_certificate`): a TLS front (Debian socat) before
    /// Orthanc, whose own TLS (civetweb with OpenSSL 3 in Debian 12) resets every
    /// connection after the handshake here.
    pub fn start_with_tls() -> Result<Self, String> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Result<Self, String> {
        if !Path::new(ORTHANC).exists() || !Path::new(PLUGINS).join("libOrthancDicomWeb.so").exists() {
            return Err("Orthanc with DICOMweb is not installed (Debian orthanc, orthanc-dicomweb; make test installs them)".into());
        }
        let folder = tempfile::Builder::new().prefix("cws-orthanc").tempdir().map_err(|e| e.to_string())?;
        let (port, dicom_port) = (free_loopback_port(), free_loopback_port());
        let storage = folder.path().join("storage");
        let config = orthanc_config(port, dicom_port, &storage);
        let config_path = folder.path().join("orthanc.json");
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(folder.path().join("orthanc.log")).map_err(|e| e.to_string())?;
        let child = Command::new(ORTHANC)
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{ORTHANC}: {e}"))?;
        let mut server = Self { folder, child, port, tls, tls_front: None };
        if tls {
            make_certificates(server.folder.path())?;
            let front = free_loopback_port();
            let listen = format!(
                "OPENSSL-LISTEN:{front},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={}",
                server.folder.path().join("server.pem").display()
            );
            let proxy = Command::new("socat")
                .arg(listen)
                .arg(format!("TCP:127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("socat (Debian socat; make test installs it): {e}"))?;
            server.tls_front = Some(proxy);
            server.port = front;
        }
        server.wait_until_ready()?;
        Ok(server)
    }

    /// A PACS for a test, or `None` after saying plainly why the test is skipped.
    /// Under CI (`CI` set) nothing is skipped: `make test` installs Orthanc.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        crate::or_skip(Self::start(), "Orthanc", test)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The DICOMweb root, as the site's `[pacs] qido_url` names it.
    pub fn dicomweb_root(&self) -> String {
        format!("{}/dicom-web", self.base())
    }

    /// The CA that signed the server's certificate, for a PACS started with TLS.
    pub fn ca_certificate(&self) -> Option<std::path::PathBuf> {
        self.tls.then(|| self.folder.path().join("ca.pem"))
    }

    fn base(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "https" } else { "http" }, self.port)
    }

    /// curl, trusting this PACS's CA where it has one.
    fn curl(&self) -> Command {
        let mut curl = Command::new("curl");
        if let Some(ca) = self.ca_certificate() {
            curl.arg("--cacert").arg(ca);
        }
        curl
    }

    /// Makes each study with dump2dcm and uploads it (`POST /instances`).
    pub fn upload(&self, studies: &[SyntheticStudy]) -> Result<(), String> {
        let work = self.folder.path().join("upload");
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let mut files = Vec::new();
        for (index, study) in studies.iter().enumerate() {
            for instance in 1..=study.instances.max(1) {
                let dump = work.join(format!("{index}-{instance}.txt"));
                let file = work.join(format!("{index}-{instance}.dcm"));
                std::fs::write(&dump, study.dump(instance)).map_err(|e| e.to_string())?;
                let made = Command::new("dump2dcm").arg("--write-xfer-little").arg(&dump).arg(&file).output();
                check("dump2dcm (Debian dcmtk)", made)?;
                files.push(file);
            }
        }
        // One curl for many files: `--next` starts each upload afresh.
        for batch in files.chunks(50) {
            let mut curl = self.curl();
            curl.arg("--fail").arg("--silent").arg("--show-error");
            for (position, file) in batch.iter().enumerate() {
                if position > 0 {
                    curl.arg("--next");
                }
                curl.arg("--user")
                    .arg(format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}"))
                    .arg("--data-binary")
                    .arg(format!("@{}", file.display()))
                    .arg("--output")
                    .arg("/dev/null")
                    .arg(format!("{}/instances", self.base()));
            }
            check("curl POST /instances", curl.output())?;
        }
        Ok(())
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answered = self
                .curl()
                .args(["--fail", "--silent", "--output", "/dev/null", "--user"])
                .arg(format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}"))
                .arg(format!("{}/system", self.base()))
                .status()
                .is_ok_and(|s| s.success());
            if answered {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.folder.path().join("orthanc.log")).unwrap_or_default();
                return Err(format!(
                    "Orthanc did not answer within 20 s: {}",
                    log.lines().last().unwrap_or("")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        if let Some(front) = &mut self.tls_front {
            let _ = front.kill();
            let _ = front.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SyntheticStudy {
    /// A dcmtk dump of one instance (Secondary Capture, no pixel data).
    fn dump(&self, instance: u32) -> String {
        let mut dump = String::new();
        let mut line = |tag: &str, vr: &str, value: &str| {
            let _ = writeln!(dump, "({tag}) {vr} [{value}]");
        };
        line("0008,0016", "UI", "1.2.840.10008.5.1.4.1.1.7");
        line("0008,0018", "UI", &format!("{}.1.{instance}", self.study_uid));
        line("0008,0020", "DA", &self.date);
        line("0008,0030", "TM", "101500");
        line("0008,0050", "SH", &self.accession);
        line("0008,0060", "CS", &self.modality);
        line("0008,0090", "PN", &self.referring);
        line("0008,1030", "LO", &self.description);
        line("0010,0010", "PN", &self.patient_name);
        line("0010,0020", "LO", &self.patient_id);
        if let Some(issuer) = &self.issuer {
            line("0010,0021", "LO", issuer);
        }
        line("0010,0030", "DA", "19600505");
        line("0020,000d", "UI", &self.study_uid);
        line("0020,000e", "UI", &format!("{}.1", self.study_uid));
        line("0020,0011", "IS", "1");
        line("0020,0013", "IS", &instance.to_string());
        dump
    }
}

/// Orthanc's configuration: DICOMweb on, Basic authentication on, local only,
/// no limit on find results (as Debian ships it, so the client must page).
fn orthanc_config(port: u16, dicom_port: u16, storage: &Path) -> String {
    let storage = storage.display();
    format!(
        r#"{{
  "Name": "cws-test-pacs",
  "StorageDirectory": "{storage}",
  "IndexDirectory": "{storage}",
  "HttpPort": {port},
  "DicomPort": {dicom_port},
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": {{ "{ORTHANC_USER}": "{ORTHANC_PASSWORD}" }},
  "Plugins": ["{PLUGINS}/libOrthancDicomWeb.so"],
  "DicomWeb": {{ "Enable": true, "Root": "/dicom-web/", "EnableWado": false }},
  "LimitFindResults": 0,
  "LimitFindInstances": 0,
  "StableAge": 1
}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_pacs_takes_synthetic_studies_and_answers_qido_with_authentication() {
        let Some(pacs) = Orthanc::start_or_skip("a_private_pacs_takes_synthetic_studies") else { return };
        let study = SyntheticStudy {
            patient_id: "9990000018".into(),
            patient_name: "FICTIONAL^Ada".into(),
            issuer: Some("NHS".into()),
            study_uid: "1.2.826.0.1.3680043.10.1.1".into(),
            date: "20261101".into(),
            modality: "CT".into(),
            description: "CT chest".into(),
            accession: "ACC0001".into(),
            referring: "WHITTLE^Wendy^^Dr".into(),
            instances: 2,
        };
        pacs.upload(&[study]).expect("uploaded");
        let url = format!("{}/studies?PatientID=9990000018&limit=10", pacs.dicomweb_root());
        let anonymous = Command::new("curl")
            .args(["--silent", "--output", "/dev/null", "--write-out", "%{http_code}", &url])
            .output()
            .expect("curl");
        assert_eq!(String::from_utf8_lossy(&anonymous.stdout), "401", "authentication is on");
        let answer = Command::new("curl")
            .args(["--fail", "--silent", "--user", &format!("{ORTHANC_USER}:{ORTHANC_PASSWORD}"), &url])
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&answer.stdout);
        assert!(text.contains("1.2.826.0.1.3680043.10.1.1") && text.contains("ACC0001"), "{text}");
    }
}
