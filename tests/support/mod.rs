//! Runs the real desktop app under its own Xvfb display and drives it over
//! WebDriver (tauri-driver in front of WebKitWebDriver). Each test gets its
//! own display, ports and empty profile folders, and everything is stopped
//! when the test's `RunningApp` is dropped.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use test_services::{KeyringSession, Pcscd, Postgres, SystemBus, VirtualCard};

pub const ENTER: &str = "\u{E007}";
pub const TAB: &str = "\u{E004}";

/// How long a screen may take to show what a test waits for.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(15);

pub struct RunningApp {
    pub client: Client,
    display: String,
    /// tauri-driver's WebDriver port, for a new session after a crash.
    driver_port: u16,
    driver: Child,
    xvfb: Child,
    profile: tempfile::TempDir,
    _keyring: KeyringSession,
    /// A PC/SC service with one empty virtual reader, beside the card tokens.
    pcscd: Option<Pcscd>,
    /// The app's system bus, on which a test can say the machine is going to sleep.
    system_bus: SystemBus,
    /// Where the app and `cws` find the store, beyond the local default (a shared server's URL).
    store_env: Vec<(String, String)>,
    /// The shared store's server, where the run uses one; stopped when the run ends.
    _postgres: Option<Postgres>,
}

/// How staff sign in to the app under test.
#[derive(PartialEq, Eq)]
enum SignIn {
    Demonstration,
    /// The demonstration sign-in, with the app logging at trace level.
    DemonstrationTraced,
    Cards,
    CardsWithSettings(&'static str),
    /// As `CardsWithSettings`, with the app logging everything at trace level.
    CardsWithSettingsTraced(&'static str),
    /// The demonstration sign-in, with this site settings file (TOML).
    DemonstrationWithSettings(&'static str),
    NotSetUp,
}

/// How many fictional patients each run's store holds.
const DEMO_PATIENTS: &str = "60";

impl RunningApp {
    /// Starts a keyring, a demonstration store, Xvfb, tauri-driver and the app
    /// built by this `cargo test`, with the demonstration sign-in (no cards).
    pub async fn launch() -> Self {
        Self::start(SignIn::Demonstration).await
    }

    /// As `launch`, with the five demonstration smart cards (SoftHSM2) in their readers.
    /// As `launch`, with the app logging everything at trace level.
    pub async fn launch_at_trace_level() -> Self {
        Self::start(SignIn::DemonstrationTraced).await
    }

    pub async fn launch_with_cards() -> Self {
        Self::start(SignIn::Cards).await
    }

    /// As `launch_with_cards`, on a shared PostgreSQL store of its own; `None`
    /// (after saying why) where PostgreSQL cannot run here, never under CI.
    pub async fn launch_with_cards_on_shared_store(test: &str) -> Option<Self> {
        let server = Postgres::start_or_skip(test)?;
        Some(Self::start_on(SignIn::Cards, Some(server)).await)
    }

    /// As `launch`, with neither cards nor the demonstration sign-in set up.
    pub async fn launch_unconfigured() -> Self {
        Self::start(SignIn::NotSetUp).await
    }

    /// As `launch`, with this site settings file (TOML) as well.
    pub async fn launch_with_settings(settings: String) -> Self {
        // Leaked: a test's settings live as long as its app.
        Self::start(SignIn::DemonstrationWithSettings(Box::leak(settings.into_boxed_str()))).await
    }

    /// As `launch_with_cards`, with this site settings file (TOML) as well.
    pub async fn launch_with_cards_and_settings(settings: &'static str) -> Self {
        Self::start(SignIn::CardsWithSettings(settings)).await
    }

    /// As `launch_with_cards_and_settings`, with the app logging everything at trace level.
    pub async fn launch_with_cards_and_settings_traced(settings: &'static str) -> Self {
        Self::start(SignIn::CardsWithSettingsTraced(settings)).await
    }

    async fn start(sign_in: SignIn) -> Self {
        Self::start_on(sign_in, None).await
    }

    async fn start_on(sign_in: SignIn, postgres: Option<Postgres>) -> Self {
        let profile = tempfile::tempdir().expect("temporary profile folder");
        let keyring = KeyringSession::start();
        let store_env: Vec<(String, String)> =
            postgres.iter().map(|server| ("CWS_STORE_URL".to_owned(), server.url())).collect();
        let cws = |args: &[&str]| cws(&keyring, profile.path(), &store_env, args);
        let mut app_env = store_env.clone();
        let mut pcscd = None;
        if let SignIn::CardsWithSettings(text)
        | SignIn::CardsWithSettingsTraced(text)
        | SignIn::DemonstrationWithSettings(text) = sign_in
        {
            let file = profile.path().join("workstation.toml");
            std::fs::write(&file, text).expect("settings written");
            app_env.push(("CWS_CONFIG".to_owned(), file.to_string_lossy().into_owned()));
        }
        if matches!(
            sign_in,
            SignIn::Demonstration | SignIn::DemonstrationTraced | SignIn::DemonstrationWithSettings(_)
        ) {
            app_env.push(("CWS_DEMO_SIGN_IN".to_owned(), "1".to_owned()));
        }
        if matches!(sign_in, SignIn::DemonstrationTraced | SignIn::CardsWithSettingsTraced(_)) {
            app_env.push(("RUST_LOG".to_owned(), "trace".to_owned()));
        }
        cws(&["store", "init", "--demo"]);
        if matches!(
            sign_in,
            SignIn::Cards | SignIn::CardsWithSettings(_) | SignIn::CardsWithSettingsTraced(_)
        ) {
            cws(&["card", "demo-init", "--folder", &cards_folder(profile.path()).to_string_lossy()]);
            app_env.extend(card_environment(profile.path()));
            let service = Pcscd::start();
            app_env.extend(service.env());
            pcscd = Some(service);
        }
        cws(&["demo", "seed", "--patients", DEMO_PATIENTS]);
        let system_bus = SystemBus::start();
        app_env.extend(system_bus.env());
        let (xvfb, display) = start_xvfb();
        let port = free_loopback_port();
        let native_port = free_loopback_port();
        let driver = start_tauri_driver(&display, port, native_port, profile.path(), &keyring, &app_env);
        wait_for_port(port);

        let client = new_session(port).await;
        Self {
            client,
            display,
            driver_port: port,
            driver,
            xvfb,
            profile,
            _keyring: keyring,
            pcscd,
            system_bus,
            store_env,
            _postgres: postgres,
        }
    }

    /// Waits until the element matching `css` shows exactly `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        self.wait_for_text_where(css, expected, |seen| seen == expected).await;
    }

    /// Waits until the element matching `css` shows text containing `part`.
    pub async fn wait_for_text_containing(&self, css: &str, part: &str) {
        self.wait_for_text_where(css, part, |seen| seen.contains(part)).await;
    }

    async fn wait_for_text_where(&self, css: &str, wanted: &str, matches: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        let mut last_seen = String::new();
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last_seen = element.text().await.unwrap_or_default();
                if matches(last_seen.trim()) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} showed {last_seen:?}, wanted {wanted:?}");
    }

    /// The store's key as 64 hex digits, from `cws store recovery-key` (shown once per key).
    pub fn store_key_hex(&self) -> String {
        let shown = self.cws(&["store", "recovery-key"]);
        let key: String = shown
            .lines()
            .find(|l| l.matches('-').count() == 7)
            .expect("the recovery key")
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        assert_eq!(key.len(), 64, "a recovery key is 64 hex digits");
        key
    }

    /// Takes the store's write lock from outside the app, as another process
    /// holding the key would, so the app's next write waits (up to its busy timeout).
    /// Rolled back when the returned connection is dropped or rolled back.
    pub async fn hold_the_store_busy(&self) -> sqlx::SqliteConnection {
        use sqlx::ConnectOptions;
        let key = self.store_key_hex();
        let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(store_path(self.profile.path()))
            .pragma("key", format!("\"x'{key}'\""))
            // New stores authenticate their pages with HMAC-SHA256 (store::page_mac).
            .pragma("cipher_hmac_algorithm", "HMAC_SHA256")
            .connect()
            .await
            .expect("a second connection to the store");
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut connection).await.expect("the write lock");
        connection
    }

    /// Says, as logind would, that the machine is about to sleep.
    pub fn machine_goes_to_sleep(&self) {
        self.system_bus.prepare_for_sleep();
    }

    /// Waits until the app's log holds `part` (work the app does after answering, such as an audit).
    pub async fn wait_for_log(&self, part: &str) {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        while Instant::now() < deadline {
            if self.log().contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = self.log();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        panic!(
            "the app's log never held {part:?}; it ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }

    /// Signs in as the first demonstration user (the prescriber) with the keyboard.
    pub async fn sign_in_as_prescriber(&self) {
        self.wait_for("input[type=radio]:checked").await;
        self.press(ENTER).await;
        self.wait_for_text("[data-testid=header-user]", "ONCOLOGY, Olive (Dr)").await;
    }

    /// Signs out with Alt+Q and waits for the sign-in screen.
    pub async fn sign_out(&self) {
        self.alt('q').await;
        self.wait_for_text("#sign-in-heading", "Sign in").await;
    }

    /// Waits until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.wait_for_within(css, SCREEN_TIMEOUT).await
    }

    /// As `wait_for`, for something that happens only after a known delay.
    pub async fn wait_for_within(&self, css: &str, timeout: Duration) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Types keys into whatever has focus, as a user at the keyboard would.
    pub async fn press(&self, keys: &str) {
        let focused = self.client.active_element().await.expect("something has focus");
        focused.send_keys(keys).await.expect("keys reach the focused element");
    }

    /// Presses Alt with another key, e.g. `alt('2')`.
    pub async fn alt(&self, key: char) {
        self.chord(Key::Alt.into(), key).await;
    }

    pub async fn shift_tab(&self) {
        self.chord(Key::Shift.into(), Key::Tab.into()).await;
    }

    async fn chord(&self, modifier: char, key: char) {
        let chord = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: modifier })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: modifier });
        self.client.perform_actions(chord).await.expect("key chord reaches the app");
    }

    /// The `data-*` or other attribute of the element with focus.
    pub async fn focused_attribute(&self, attribute: &str) -> Option<String> {
        let focused = self.client.active_element().await.expect("something has focus");
        focused.attr(attribute).await.expect("attribute readable")
    }

    /// Saves the whole virtual screen to `target/screenshots/NAME.png` for
    /// people to look at. WebKitWebDriver's own screenshot command hangs under
    /// Xvfb, so this reads the X display, which is also what a user would see.
    pub async fn screenshot(&self, name: &str) {
        let folder = screenshot_folder();
        std::fs::create_dir_all(&folder).expect("screenshot folder");
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(folder.join(format!("{name}.png")))
            .status()
            .expect("ImageMagick's import is installed (make test installs it)");
        assert!(status.success(), "screenshot {name} failed");
    }

    /// Every file the run wrote outside the encrypted store: logs, the
    /// webview's caches and data. None may hold patient data.
    pub fn files_outside_the_store(&self) -> Vec<PathBuf> {
        walk(self.profile.path())
            .into_iter()
            .filter(|f| !f.starts_with(self.profile.path().join("store")))
            .collect()
    }

    /// Runs `cws` against this run's store and keyring, as an administrator would beside the app.
    pub fn cws(&self, args: &[&str]) -> String {
        cws(&self._keyring, self.profile.path(), &self.store_env, args)
    }

    /// Applies HL7 v2 messages to the run's store as the listener would (`cws adt replay`);
    /// gives what it printed and what it logged (control ids only) at warn level.
    pub fn replay_adt(&self, messages: &str) -> (String, String) {
        let file = self.profile.path().join("replay.hl7");
        std::fs::write(&file, messages).expect("written");
        let output = Command::new(cws_path())
            .args(["adt", "replay", &file.to_string_lossy()])
            .envs(self._keyring.env())
            .env("CWS_STORE", store_path(self.profile.path()))
            .envs(self.store_env.iter().cloned())
            .env("RUST_LOG", "warn")
            .output()
            .expect("cws runs");
        assert!(output.status.success(), "cws adt replay: {}", String::from_utf8_lossy(&output.stderr));
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Starts `cws adt listen` on the run's store, on a free loopback port; the
    /// listener is stopped when the returned guard is dropped.
    pub fn start_adt_listener(&self) -> AdtListener {
        let mut child = Command::new(cws_path())
            .args(["adt", "listen", "--bind", "127.0.0.1:0"])
            .envs(self._keyring.env())
            .env("CWS_STORE", store_path(self.profile.path()))
            .envs(self.store_env.iter().cloned())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.profile.path().join("adt-listener.log")).expect("log file"))
            .spawn()
            .expect("the listener starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("a line");
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{first:?}"));
        AdtListener { child, port, log: self.profile.path().join("adt-listener.log") }
    }

    /// Puts four demonstration patients mid-course on SACT (`cws demo courses`),
    /// each act signed with the run's demonstration cards.
    /// Prints JSON naming the patients' NHS numbers by what each shows.
    pub fn add_demo_courses_json(&self) -> String {
        let folder = cards_folder(self.profile.path());
        let output = Command::new(cws_path())
            .args(["demo", "courses", "--json", "--cards", &folder.to_string_lossy()])
            .envs(self._keyring.env())
            .env("CWS_STORE", store_path(self.profile.path()))
            .envs(self.store_env.iter().cloned())
            .env("SOFTHSM2_CONF", folder.join("softhsm2.conf"))
            .output()
            .expect("cws runs");
        assert!(output.status.success(), "cws demo courses: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a `cws` act that needs a card (`--card LABEL --pin-stdin` in `args`), as
    /// another process beside the app: the trusted settings (owned by root, as the
    /// tests run) name the demonstration CA and SoftHSM2; `stdin` starts with the PIN.
    pub fn cws_as_card_holder(&self, args: &[&str], stdin: &str) -> String {
        use std::io::Write;
        let folder = cards_folder(self.profile.path());
        let settings = self.profile.path().join("trusted-workstation.toml");
        let text = format!(
            "[cards]\npkcs11_module = {:?}\nissuing_ca = {:?}\n",
            demo_cards::softhsm::SOFTHSM_MODULE,
            folder.join("demo-ca.pem").to_string_lossy()
        );
        std::fs::write(&settings, text).expect("settings written");
        let mut child = Command::new(cws_path())
            .args(args)
            .envs(self._keyring.env())
            .env("CWS_STORE", store_path(self.profile.path()))
            .envs(self.store_env.iter().cloned())
            .env("CWS_CONFIG", &settings)
            .env("SOFTHSM2_CONF", folder.join("softhsm2.conf"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cws runs");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin written");
        let output = child.wait_with_output().expect("cws ends");
        assert!(output.status.success(), "cws adt replay: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Pulls a demonstration card out of its reader.
    pub fn remove_card(&self, label: &str) {
        let tokens = demo_cards::softhsm::SoftHsmTokens::create(&cards_folder(self.profile.path()))
            .expect("the card folder");
        tokens.remove_card(label).expect("card removed");
    }

    /// Puts a card with no identity on it in the PC/SC virtual reader.
    pub fn insert_reader_card(&self) -> VirtualCard {
        self.pcscd.as_ref().expect("launched with cards").insert_card()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("tauri-driver.log")).unwrap_or_default()
    }

    /// Kills the app outright (SIGKILL, as a crash or a pulled plug would),
    /// then starts it again on the same profile and store in a new session.
    pub async fn crash_and_reopen(&mut self) {
        let app = std::fs::canonicalize(env!("CARGO_BIN_EXE_clinical-workstation")).expect("the app binary");
        let ours = format!("DISPLAY={}", self.display);
        let mut killed = 0;
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let exe = std::fs::read_link(entry.path().join("exe")).ok();
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let on_our_display = environ.split(|b| *b == 0).any(|v| v == ours.as_bytes());
            if exe.as_deref() == Some(app.as_path()) && on_our_display {
                let pid: i32 = entry.file_name().to_string_lossy().parse().expect("a pid");
                // SAFETY: kill only sends a signal, to our own app's process.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed += 1;
            }
        }
        assert_eq!(killed, 1, "one app process on this test's display");
        std::thread::sleep(Duration::from_millis(500));
        // The dead app's session is ended first: the driver holds one at a time.
        let _ = self.client.clone().close().await;
        self.client = new_session(self.driver_port).await;
    }

    pub async fn quit(self) {
        let Self { client, .. } = &self;
        let _ = client.clone().close().await;
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        // tauri-driver leads its own process group, holding WebKitWebDriver and the app.
        stop_group(&mut self.driver);
        stop_group(&mut self.xvfb);
    }
}

/// A WebDriver session with the app, which tauri-driver starts for it.
async fn new_session(port: u16) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), "wry".into());
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_clinical-workstation") }),
    );
    ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session with the app")
}

pub fn screenshot_folder() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target folder").join("screenshots")
}

fn start_xvfb() -> (Child, String) {
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("Xvfb is installed (make test installs it)");
    let mut line = String::new();
    let stdout = xvfb.stdout.take().expect("piped stdout");
    BufReader::new(stdout).read_line(&mut line).expect("Xvfb reports its display");
    let display = format!(":{}", line.trim());
    (xvfb, display)
}

fn store_path(profile: &Path) -> PathBuf {
    profile.join("store").join("store.db")
}

fn cards_folder(profile: &Path) -> PathBuf {
    profile.join("cards")
}

fn card_environment(profile: &Path) -> Vec<(String, String)> {
    let folder = cards_folder(profile);
    vec![
        ("SOFTHSM2_CONF".into(), folder.join("softhsm2.conf").to_string_lossy().into_owned()),
        ("CWS_PKCS11_MODULE".into(), demo_cards::softhsm::SOFTHSM_MODULE.into()),
        ("CWS_CARD_CA".into(), folder.join("demo-ca.pem").to_string_lossy().into_owned()),
    ]
}

/// Runs `cws` on the run's store, as `make run` does to prepare it; returns what it printed.
fn cws(keyring: &KeyringSession, profile: &Path, store_env: &[(String, String)], args: &[&str]) -> String {
    let output = Command::new(cws_path())
        .args(args)
        .envs(keyring.env())
        .env("CWS_STORE", store_path(profile))
        .envs(store_env.iter().cloned())
        .output()
        .expect("cws runs");
    assert!(output.status.success(), "cws {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `cws` beside the app binary; built on demand when only this test was asked for.
fn cws_path() -> PathBuf {
    let app = Path::new(env!("CARGO_BIN_EXE_clinical-workstation"));
    let cws = app.with_file_name("cws");
    if !cws.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "cli", "--bin", "cws"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building cws failed");
    }
    cws
}

fn start_tauri_driver(
    display: &str,
    port: u16,
    native_port: u16,
    profile: &Path,
    keyring: &KeyringSession,
    app_env: &[(String, String)],
) -> Child {
    let log = std::fs::File::create(profile.join("tauri-driver.log")).expect("driver log");
    Command::new(tauri_driver_path())
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .envs(keyring.env())
        .env("RUST_LOG", "info")
        .envs(app_env.iter().cloned())
        .env("CWS_STORE", store_path(profile))
        .env("DISPLAY", display)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("NO_AT_BRIDGE", "1")
        .env("XDG_DATA_HOME", profile.join("data"))
        .env("XDG_CONFIG_HOME", profile.join("config"))
        .env("XDG_CACHE_HOME", profile.join("cache"))
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("tauri-driver is installed (make test installs it)")
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

fn tauri_driver_path() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    let installed = cargo_home.join("bin/tauri-driver");
    if installed.exists() { installed } else { PathBuf::from("tauri-driver") }
}

fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("bound address").port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + SCREEN_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stop_group(child: &mut Child) {
    let Ok(pid) = i32::try_from(child.id()) else { return };
    // SAFETY: killpg only sends a signal; the group id is our own child's.
    unsafe {
        libc::killpg(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: as above.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// A running `cws adt listen`; stopped on drop.
pub struct AdtListener {
    child: Child,
    pub port: u16,
    /// What the listener logged (control ids only), to show when a test fails.
    pub log: PathBuf,
}

impl AdtListener {
    /// Sends one message over MLLP and returns MSA-1 of its acknowledgement.
    pub fn send(&self, message: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connected");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let mut frame = vec![0x0B];
        frame.extend_from_slice(message.as_bytes());
        frame.extend_from_slice(&[0x1C, 0x0D]);
        stream.write_all(&frame).expect("sent");
        let mut reply = Vec::new();
        let mut byte = [0u8; 1];
        while !reply.ends_with(&[0x1C, 0x0D]) {
            if let Err(error) = stream.read_exact(&mut byte) {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("no acknowledgement ({error}); the listener logged:\n{log}");
            }
            reply.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&reply);
        text.split("MSA|").nth(1).and_then(|rest| rest.get(..2)).unwrap_or("").to_owned()
    }
}

impl Drop for AdtListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
