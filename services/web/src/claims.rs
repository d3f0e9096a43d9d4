//! What the page reads from a token: who it speaks for, which province, until when.
//!
//! The web service holds no keys and decides nothing with these claims: it reads them only to
//! choose the province to show and when the session ends. Whether the token is genuine, and what
//! it may read, is decided by the aggregator on every call (a forged token gets UNAUTHENTICATED
//! there, and sign-in checks that before a session exists).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The claims of a P06 token that the page uses.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub agency: String,
    /// A province code, or `VN` for the national task force.
    pub province: String,
    pub edition: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Why a pasted text is not a usable token.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClaimsError {
    #[error("not a token: expected three parts separated by dots")]
    Shape,
    #[error("the token's claims cannot be read")]
    Unreadable,
    #[error("the token has expired")]
    Expired,
    #[error("the token is neither a task-force token nor an agency reporter's")]
    NotTaskForce,
}

/// The national task force's province code.
pub const COUNTRY: &str = "VN";

impl Claims {
    /// Reads the claims of a compact JWT without checking its signature (the aggregator does).
    pub fn read(token: &str) -> Result<Claims, ClaimsError> {
        let mut parts = token.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ClaimsError::Shape);
        };
        let json = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| ClaimsError::Unreadable)?;
        serde_json::from_slice(&json).map_err(|_| ClaimsError::Unreadable)
    }

    /// Reads and checks what a session needs: not expired, a task-force role or an agency
    /// reporter's (who gets the workbook upload page).
    pub fn for_session(token: &str, now: DateTime<Utc>) -> Result<Claims, ClaimsError> {
        let claims = Claims::read(token)?;
        if claims.expires() <= now {
            return Err(ClaimsError::Expired);
        }
        if !claims.is_task_force() && claims.reporting_agency().is_none() {
            return Err(ClaimsError::NotTaskForce);
        }
        Ok(claims)
    }

    pub fn is_task_force(&self) -> bool {
        self.roles
            .iter()
            .any(|r| r == "taskforce-viewer" || r == "taskforce-admin")
    }

    /// The agency a reporter (or an agency's system account) reports for; `None` for the task
    /// force. Only a hint for the page: the aggregator decides what the token may submit.
    pub fn reporting_agency(&self) -> Option<p06_submission::Agency> {
        if self.roles.iter().any(|r| r == "reporter" || r == "service") {
            p06_submission::Agency::parse(&self.agency)
        } else {
            None
        }
    }

    /// Where the token's user starts: the reporter's upload page, the country for the national
    /// task force, else the province overview.
    pub fn home(&self) -> String {
        if self.reporting_agency().is_some() {
            "/upload".to_owned()
        } else if self.is_national() {
            "/country".to_owned()
        } else {
            format!("/p/{}", self.province)
        }
    }

    pub fn expires(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    pub fn is_national(&self) -> bool {
        self.province == COUNTRY
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unsigned token with these claims (the signature part is junk: the page never checks it).
    pub fn token(claims: serde_json::Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    }

    fn viewer(exp: i64) -> String {
        token(serde_json::json!({
            "sub": "taskforce-viewer", "exp": exp, "iat": 0, "iss": "p06-dev", "aud": "p06",
            "agency": "taskforce", "province": "64", "edition": "2024", "roles": ["taskforce-viewer"],
        }))
    }

    #[test]
    fn a_task_force_token_reads_and_expires() {
        let now: DateTime<Utc> = "2025-03-22T03:00:00Z".parse().unwrap();
        let claims = Claims::for_session(&viewer(now.timestamp() + 60), now).unwrap();
        assert_eq!(claims.province, "64");
        assert_eq!(claims.edition, "2024");
        assert!(!claims.is_national());
        assert_eq!(
            Claims::for_session(&viewer(now.timestamp()), now),
            Err(ClaimsError::Expired)
        );
    }

    #[test]
    fn reporters_sign_in_to_their_upload_page_and_junk_is_refused() {
        let now: DateTime<Utc> = "2025-03-22T03:00:00Z".parse().unwrap();
        let reporter = token(serde_json::json!({
            "sub": "police-reporter", "exp": now.timestamp() + 60, "agency": "police",
            "province": "64", "edition": "2024", "roles": ["reporter"],
        }));
        let claims = Claims::for_session(&reporter, now).unwrap();
        assert_eq!(
            claims.reporting_agency(),
            Some(p06_submission::Agency::Police)
        );
        assert_eq!(claims.home(), "/upload");
        assert!(!claims.is_task_force());
        let roleless = token(serde_json::json!({
            "sub": "x", "exp": now.timestamp() + 60, "agency": "taskforce",
            "province": "64", "edition": "2024", "roles": [],
        }));
        assert_eq!(
            Claims::for_session(&roleless, now),
            Err(ClaimsError::NotTaskForce)
        );
        assert_eq!(Claims::read("abc"), Err(ClaimsError::Shape));
        assert_eq!(Claims::read("a.b.c.d"), Err(ClaimsError::Shape));
        assert_eq!(Claims::read("a.!!!.c"), Err(ClaimsError::Unreadable));
        assert_eq!(
            Claims::read(&format!("a.{}.c", URL_SAFE_NO_PAD.encode("{}"))),
            Err(ClaimsError::Unreadable)
        );
    }
}
