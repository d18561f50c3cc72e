//! `make run` keeps the store's key in the desktop's Secret Service when there
//! is one, and otherwise in a private keyring: the check that decides, against a
//! real session bus with GNOME Keyring and against none.

use std::process::Command;

use test_services::KeyringSession;

fn has_secret_service(env: &[(String, String)]) -> bool {
    Command::new("make")
        .args(["-s", "has-secret-service"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .envs(env.iter().cloned())
        .status()
        .expect("make runs")
        .success()
}

#[test]
fn make_run_finds_a_secret_service_only_where_the_session_bus_has_one() {
    assert!(!has_secret_service(&[]), "no session bus: the private keyring stands in");
    let keyring = KeyringSession::start();
    assert!(has_secret_service(&keyring.env()), "GNOME Keyring on the session bus keeps the key");
}
