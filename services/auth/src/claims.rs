//! The claims P06 tokens carry and the principal a validated token yields.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::AuthError;

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agency {
    Police,
    Health,
    Justice,
    Taskforce,
}

impl Agency {
    pub const ALL: [Agency; 4] = [
        Agency::Police,
        Agency::Health,
        Agency::Justice,
        Agency::Taskforce,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::Health => "health",
            Agency::Justice => "justice",
            Agency::Taskforce => "taskforce",
        }
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Agency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Agency::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown agency {s:?}: police, health, justice or taskforce"))
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Submits its agency's reports and reads its own receipts.
    Reporter,
    /// Reads the task force's views of its province.
    TaskforceViewer,
    /// Also sets targets, obligations and period locks.
    TaskforceAdmin,
    /// A system account of an agency (same rights as a reporter).
    Service,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Reporter,
        Role::TaskforceViewer,
        Role::TaskforceAdmin,
        Role::Service,
    ];

    /// Whether a token of `agency` may carry this role: the task-force roles belong to the task
    /// force only, `reporter` and `service` to the three reporting agencies only.
    pub fn fits(self, agency: Agency) -> bool {
        match self {
            Role::TaskforceViewer | Role::TaskforceAdmin => agency == Agency::Taskforce,
            Role::Reporter | Role::Service => agency != Agency::Taskforce,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "reporter",
            Role::TaskforceViewer => "taskforce-viewer",
            Role::TaskforceAdmin => "taskforce-admin",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}: reporter, taskforce-viewer, taskforce-admin or service"
                )
            })
    }
}

/// `aud` may be one string or a list (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims of a P06 token. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer; must equal `P06_JWT_ISSUER`.
    pub iss: String,
    /// Audience; must be or contain `P06_JWT_AUDIENCE`.
    pub aud: Audience,
    /// The reporting person or system.
    pub sub: String,
    /// Expiry (required).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before (checked when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Token id, logged with every refusal and kept as [`Principal::token_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    pub agency: Agency,
    /// Code of the province the token is scoped to.
    pub province: String,
    /// Locality edition of that province code ("2023", "2024" or "2025"): codes were reused by the
    /// 2025 reform, so a code alone does not name a province.
    pub edition: String,
    pub roles: Vec<Role>,
}

/// Limits on the claims of a token, in characters. Anything longer is refused at validation
/// (`UNAUTHENTICATED`, naming the claim), before any handler or database sees it: `sub` is stored
/// as the author of reports and audit records (200 characters in the schema).
pub mod limits {
    pub const SUB: usize = 200;
    pub const JTI: usize = 128;
    pub const ISS: usize = 256;
    pub const AUD: usize = 256;
    /// Audiences in a list-valued `aud`.
    pub const AUDIENCES: usize = 8;
    /// `province` and `edition`: short codes ("64", "VN", "2024").
    pub const CODE: usize = 8;
    pub const ROLES: usize = 8;
}

impl Claims {
    /// The P06 rules on top of the registered claims: every text claim within its limit and free
    /// of control characters, `province` and `edition` short ASCII codes, 1 to 8 roles, each
    /// allowed for the token's agency ([`Role::fits`]). The first violation is returned, naming
    /// its claim.
    pub fn check(&self) -> Result<(), AuthError> {
        text("sub", &self.sub, limits::SUB)?;
        if let Some(jti) = &self.jti {
            text("jti", jti, limits::JTI)?;
        }
        text("iss", &self.iss, limits::ISS)?;
        match &self.aud {
            Audience::One(aud) => text("aud", aud, limits::AUD)?,
            Audience::Many(list) => {
                if list.len() > limits::AUDIENCES {
                    return Err(bad(
                        "aud",
                        format!("more than {} audiences", limits::AUDIENCES),
                    ));
                }
                for aud in list {
                    text("aud", aud, limits::AUD)?;
                }
            }
        }
        code("province", &self.province)?;
        code("edition", &self.edition)?;
        if self.roles.is_empty() {
            return Err(AuthError::MissingClaim("roles".into()));
        }
        if self.roles.len() > limits::ROLES {
            return Err(bad("roles", format!("more than {} roles", limits::ROLES)));
        }
        if let Some(role) = self.roles.iter().find(|r| !r.fits(self.agency)) {
            return Err(AuthError::RoleNotForAgency {
                role: role.as_str(),
                agency: self.agency.as_str(),
            });
        }
        Ok(())
    }
}

fn bad(claim: &'static str, reason: String) -> AuthError {
    AuthError::BadClaim { claim, reason }
}

/// A non-blank text claim of at most `max` characters without control characters.
fn text(claim: &'static str, value: &str, max: usize) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        return Err(AuthError::MissingClaim(claim.into()));
    }
    if value.chars().count() > max {
        return Err(bad(claim, format!("longer than {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(claim, "contains control characters".into()));
    }
    Ok(())
}

/// A locality or edition code: 1 to 8 ASCII letters or digits.
fn code(claim: &'static str, value: &str) -> Result<(), AuthError> {
    if value.is_empty() {
        return Err(AuthError::MissingClaim(claim.into()));
    }
    if value.len() > limits::CODE || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(
            claim,
            format!(
                "not a code of 1 to {} ASCII letters or digits",
                limits::CODE
            ),
        ));
    }
    Ok(())
}

/// The authenticated caller, as handlers see it: the layer inserts it into the request
/// extensions (`request.extensions().get::<Principal>()`).
///
/// A province is named by edition **and** code: the 2025 reform reused codes with new meanings
/// (52 was Bình Định, is now Gia Lai), so every province check below takes both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub agency: Agency,
    /// Code of the province the token is scoped to.
    pub province: String,
    /// Locality edition of [`Self::province`].
    pub edition: String,
    pub roles: Vec<Role>,
    /// The token's `jti`, for logs and audit.
    pub token_id: Option<String>,
    /// The last Unix second at which the token is still accepted: its `exp` plus the leeway the
    /// authenticator allows. A stream opened with the token ends when this passes
    /// ([`crate::expiry::until_expiry`]).
    pub valid_until: i64,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }

    /// Holds a task-force role (viewer or admin).
    pub fn is_taskforce(&self) -> bool {
        self.has_any_role(&[Role::TaskforceViewer, Role::TaskforceAdmin])
    }

    /// The token is scoped to this province (edition and code).
    pub fn in_province(&self, edition: &str, province: &str) -> bool {
        self.edition == edition && self.province == province
    }

    /// May submit figures for `agency` in this province: a reporter or service token of that very
    /// agency, scoped to that province. The task force reports nothing.
    pub fn may_report_for(&self, agency: Agency, edition: &str, province: &str) -> bool {
        agency != Agency::Taskforce
            && self.agency == agency
            && self.has_any_role(&[Role::Reporter, Role::Service])
            && self.in_province(edition, province)
    }

    /// May read data of this province: any token scoped to it. What within the province (own
    /// receipts only for a reporter, everything for the task force) is the handler's decision.
    pub fn may_read_province(&self, edition: &str, province: &str) -> bool {
        self.in_province(edition, province)
    }
}

impl From<Claims> for Principal {
    fn from(c: Claims) -> Self {
        Principal {
            subject: c.sub,
            agency: c.agency,
            province: c.province,
            edition: c.edition,
            roles: c.roles,
            token_id: c.jti,
            valid_until: c.exp,
        }
    }
}
