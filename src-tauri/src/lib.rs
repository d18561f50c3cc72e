//! The desktop shell: start-up, shared state and the thin commands the UI calls.
//!
//! Commands parse the request, check the session, call a library crate and map
//! the error. Anything that decides something clinical lives in `crates/`.

mod bed_watch;
mod bindings;
mod card_watcher;
mod cards;
mod commands;
mod error;
mod outbox_task;
mod session_events;
mod sleep_watch;
mod state;
mod system_log;
mod viewers;

pub use bindings::{BINDINGS_PATH, bindings_builder, render_bindings};

use state::AppState;
use tauri::Manager;

/// Starts the desktop app and blocks until its window closes.
pub fn run() {
    init_logging();
    let builder = bindings_builder();
    tauri::Builder::default()
        .manage(AppState::load())
        .invoke_handler(builder.invoke_handler())
        .setup(|app| {
            app.state::<AppState>().attach(app.handle().clone());
            card_watcher::start(app.handle().clone());
            sleep_watch::start(app.handle().clone());
            bed_watch::start(app.handle().clone());
            outbox_task::start(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the desktop shell could not start its window");
}

/// Logs go to stderr, filtered by `RUST_LOG`. They carry record ids and user
/// ids only, never patient details.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
