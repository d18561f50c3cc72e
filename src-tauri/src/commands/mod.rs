//! Thin Tauri commands, one module per area of the app.

pub mod app;
pub mod sign_in;
