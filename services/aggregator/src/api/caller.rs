//! Who is calling, as the authentication layer established it, and the data-layer checks of what
//! they may touch. The RPC → role table (in `p06_auth`) has already run when a handler starts; these
//! checks add what the table cannot know: which agency's data and which province.

use p06_auth::{Principal, Role};
use p06_domain::admin::Scope;
use tonic::{Request, Status};

use crate::error::Error;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The principal the authentication layer attached to the request.
    pub fn of<T>(request: &Request<T>) -> Result<Self, Status> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| Status::unauthenticated("authentication required"))
    }

    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    pub fn agency(&self) -> &str {
        self.0.agency.as_str()
    }

    pub fn is_task_force(&self) -> bool {
        self.0.has_role(Role::TaskforceViewer) || self.0.has_role(Role::TaskforceAdmin)
    }

    /// Whose administered objects the token reaches (`p06_domain::admin`): its province, or every
    /// province of its edition read-only for the national token.
    pub fn scope(&self) -> Result<Scope, Error> {
        Scope::of(&self.0.edition, &self.0.province).ok_or_else(|| {
            Error::PermissionDenied(format!(
                "the token's edition {:?} is not a locality edition",
                self.0.edition
            ))
        })
    }

    /// The caller's token is scoped to this province, given by edition and code.
    pub fn owns_province(&self, edition: &str, code: &str) -> bool {
        self.0.province == code && self.0.edition == edition
    }

    /// Refuses, before anything is looked up, unless the token is scoped to the province.
    pub fn require_province(&self, edition: &str, code: &str) -> Result<(), Error> {
        if self.owns_province(edition, code) {
            Ok(())
        } else {
            Err(Error::PermissionDenied(
                "the token is not scoped to this province".into(),
            ))
        }
    }

    /// A reporting agency may write only as itself.
    pub fn require_agency(&self, agency: &str) -> Result<(), Error> {
        if self.agency() == agency {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "a {} token cannot report for agency {}",
                self.agency(),
                p06_domain::text::echo(agency)
            )))
        }
    }
}
