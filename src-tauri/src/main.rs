// Keep a console window off Windows release builds; logs go to the tracing subscriber.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    clinical_workstation::run();
}
