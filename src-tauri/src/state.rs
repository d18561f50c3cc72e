//! State shared by every command for the life of the app.

use std::sync::Mutex;

use session::Workstation;

#[derive(Default)]
pub struct AppState {
    pub workstation: Mutex<Workstation>,
}
