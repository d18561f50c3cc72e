//! A short-lived token for one study, from the site's own token service: the
//! site's `token_command` is given the study UID and prints the token. It goes
//! to the viewer in a header (Weasis `-H`), never into a URL, a log or the
//! audit trail. A JWT that lives longer than five minutes, or has expired, is
//! refused; an opaque token is the site's to keep short.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};

use crate::ServiceError;

/// The longest a viewer token may live.
pub(crate) const LONGEST_LIFE_SECONDS: i64 = 300;

/// How long the site's token command has to answer.
const COMMAND_TIME: Duration = Duration::from_secs(5);

fn refused(reason: String) -> ServiceError {
    ServiceError::Unavailable { service: "viewer token", reason }
}

/// Runs the site's token command for `study_uid` and checks what it printed.
pub(crate) async fn mint(
    command: &Path,
    study_uid: &str,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    let run = tokio::process::Command::new(command).arg(study_uid).kill_on_drop(true).output();
    let output = tokio::time::timeout(COMMAND_TIME, run)
        .await
        .map_err(|_| {
            refused(format!("the site's token command did not answer in {} s", COMMAND_TIME.as_secs()))
        })?
        .map_err(|e| refused(format!("the site's token command {} could not run: {e}", command.display())))?;
    if !output.status.success() {
        return Err(refused(format!("the site's token command failed ({})", output.status)));
    }
    let token = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().trim().to_owned();
    check(&token, now)?;
    Ok(token)
}

/// A token is one line of base64url-safe characters; a JWT's `exp` must lie
/// within five minutes from now.
pub(crate) fn check(token: &str, now: DateTime<Utc>) -> Result<(), ServiceError> {
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c)) {
        return Err(refused("the site's token command printed no usable token".into()));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [_, claims, _] = parts.as_slice() else { return Ok(()) };
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .ok_or_else(|| refused("the site's token looks like a JWT but its claims cannot be read".into()))?;
    let Some(expires) = claims.get("exp").and_then(serde_json::Value::as_i64) else {
        return Err(refused("the site's token has no expiry (exp)".into()));
    };
    let left = expires - now.timestamp();
    if left <= 0 {
        return Err(refused("the site's token has already expired".into()));
    }
    if left > LONGEST_LIFE_SECONDS {
        return Err(refused(format!(
            "the site's token lives {left} s; a viewer token may live {LONGEST_LIFE_SECONDS} s at most"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let part = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            part(r#"{"alg":"RS256"}"#),
            part(&format!(r#"{{"exp":{exp},"scope":"study"}}"#))
        )
    }

    #[test]
    fn a_jwt_may_live_five_minutes_at_most_and_must_not_have_expired() {
        let now = Utc::now();
        assert!(check(&jwt(now.timestamp() + 120), now).is_ok());
        assert!(check(&jwt(now.timestamp() + LONGEST_LIFE_SECONDS), now).is_ok());
        let long = check(&jwt(now.timestamp() + 3600), now).expect_err("an hour");
        assert!(long.to_string().contains("300 s at most"), "{long}");
        assert!(check(&jwt(now.timestamp() - 1), now).expect_err("expired").to_string().contains("expired"));
        assert!(check("a.bm90IGpzb24.c", now).is_err(), "claims that are not JSON");
        assert!(check("opaque-token-123", now).is_ok(), "an opaque token is the site's to keep short");
        assert!(check("two words", now).is_err());
        assert!(check("", now).is_err());
    }
}
