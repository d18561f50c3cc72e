//! Independent checkers from PyPI (hl7apy, fhir.resources, aiosmtpd,
//! mesh-sandbox), in the environment `make test` builds at
//! target/python-peers, and the small scripts that drive them (peers/).

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The peers' Python, if `module` imports in it; otherwise `None` after
/// saying why `test` skips the check (never under CI, where it must be there).
pub fn python_with(module: &str, test: &str) -> Option<PathBuf> {
    let python = python_path();
    let present = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    let started = if present {
        Ok(python)
    } else {
        Err(format!("{module} is not in {} (make test installs it)", python.display()))
    };
    crate::or_skip(started, module, test)
}

/// Where the peers' Python is (`CWS_TEST_PEERS_PYTHON` overrides it).
pub fn python_path() -> PathBuf {
    std::env::var_os("CWS_TEST_PEERS_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/python-peers/bin/python")
    })
}

/// A checker script shipped with the test services.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers").join(name)
}

/// Runs `script` under the peers' Python with `input` on stdin; its output,
/// and whether it passed.
pub fn check(python: &PathBuf, script_name: &str, input: &[u8]) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(python)
        .arg(script(script_name))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the peers' python runs");
    child.stdin.take().expect("stdin").write_all(input).expect("input written");
    let output = child.wait_with_output().expect("checker ends");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}
