//! The audit head written to the system log (syslog or the journal) at each
//! sign-out and lock: a copy outside the store, which `cws audit verify
//! --anchors` checks the chain against. It holds a sequence number, a hash and a
//! time, never patient data.

use std::ffi::CString;

use store::AuditAnchor;

/// Writes the anchor to the system log, and to the app's own log beside it.
pub fn write_anchor(anchor: &AuditAnchor) {
    let line = anchor.line();
    tracing::info!(target: "audit_anchor", "{line}");
    let Ok(text) = CString::new(line) else { return };
    // SAFETY: the format is a constant "%s" and `text` is a valid C string that
    // outlives the call; syslog copies it before returning.
    unsafe {
        libc::syslog(libc::LOG_AUTHPRIV | libc::LOG_NOTICE, c"%s".as_ptr(), text.as_ptr());
    }
}
