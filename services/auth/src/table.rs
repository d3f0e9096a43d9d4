//! The one table of who may call which RPC. Deny by default: a method missing here is refused.
//!
//! The table decides by role and agency; handlers then check the data (own agency's indicators and
//! receipts, own province).

use crate::claims::{Agency, Principal, Role};
use crate::error::AuthError;

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed (health checks, reflection).
    Public,
    /// Any valid token.
    Authenticated,
    /// A token with one of these roles.
    Roles(&'static [Role]),
    /// A reporter or service token of one of these agencies.
    Reporting(&'static [Agency]),
}

const REPORTING_AGENCIES: &[Agency] = &[Agency::Police, Agency::Health, Agency::Justice];
const TASK_FORCE: &[Role] = &[Role::TaskforceViewer, Role::TaskforceAdmin];
const ADMIN: &[Role] = &[Role::TaskforceAdmin];
const READERS: &[Role] = &[
    Role::Reporter,
    Role::Service,
    Role::TaskforceViewer,
    Role::TaskforceAdmin,
];

/// gRPC method path (or `/<service>/*`) → access.
pub const TABLE: &[(&str, Access)] = &[
    ("/grpc.health.v1.Health/*", Access::Public),
    ("/grpc.reflection.v1.ServerReflection/*", Access::Public),
    (
        "/grpc.reflection.v1alpha.ServerReflection/*",
        Access::Public,
    ),
    (
        "/p06.aggregation.v1.IngestService/SubmitReport",
        Access::Reporting(REPORTING_AGENCIES),
    ),
    (
        "/p06.aggregation.v1.IngestService/GetReport",
        Access::Roles(READERS),
    ),
    (
        "/p06.aggregation.v1.CatalogService/ListLocalities",
        Access::Authenticated,
    ),
    (
        "/p06.aggregation.v1.CatalogService/ListLocalityMappings",
        Access::Authenticated,
    ),
    (
        "/p06.aggregation.v1.CatalogService/ListIndicators",
        Access::Authenticated,
    ),
    (
        "/p06.aggregation.v1.CatalogService/ListTargets",
        Access::Roles(READERS),
    ),
    (
        "/p06.aggregation.v1.CatalogService/UpsertTargets",
        Access::Roles(ADMIN),
    ),
    (
        "/p06.aggregation.v1.TaskForceService/*",
        Access::Roles(TASK_FORCE),
    ),
    ("/p06.aggregation.v1.AdminService/*", Access::Roles(ADMIN)),
    (
        "/p06.police.v1.PoliceReportingService/SubmitIdentityReport",
        Access::Reporting(&[Agency::Police]),
    ),
    (
        "/p06.health.v1.HealthReportingService/SubmitHealthReport",
        Access::Reporting(&[Agency::Health]),
    ),
    (
        "/p06.justice.v1.JusticeReportingService/SubmitCivilStatusReport",
        Access::Reporting(&[Agency::Justice]),
    ),
];

/// The access rule of a method path, `None` when the method is not in the table.
pub fn access_for(path: &str) -> Option<Access> {
    TABLE.iter().find_map(|(pattern, access)| {
        let matches = match pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix) && !path[prefix.len()..].contains('/'),
            None => *pattern == path,
        };
        matches.then_some(*access)
    })
}

/// Whether `principal` may call a method with `access`.
pub fn authorize(principal: &Principal, access: Access) -> Result<(), AuthError> {
    let allowed = match access {
        Access::Public | Access::Authenticated => true,
        Access::Roles(roles) => principal.has_any_role(roles),
        Access::Reporting(agencies) => {
            agencies.contains(&principal.agency)
                && principal.has_any_role(&[Role::Reporter, Role::Service])
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AuthError::Forbidden(
            "the token does not permit this call".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(agency: Agency, roles: &[Role]) -> Principal {
        Principal {
            subject: "s".into(),
            agency,
            province: "64".into(),
            edition: "2024".into(),
            roles: roles.to_vec(),
            token_id: None,
        }
    }

    #[test]
    fn the_table_denies_by_default_and_matches_wildcards_one_level() {
        assert_eq!(
            access_for("/grpc.health.v1.Health/Check"),
            Some(Access::Public)
        );
        assert_eq!(access_for("/p06.aggregation.v1.Unknown/X"), None);
        assert_eq!(access_for("/p06.aggregation.v1.TaskForceService/A/B"), None);
        assert_eq!(
            access_for("/p06.aggregation.v1.TaskForceService/GetComplianceBoard"),
            Some(Access::Roles(TASK_FORCE))
        );
    }

    #[test]
    fn agencies_report_only_through_their_own_service() {
        let police = principal(Agency::Police, &[Role::Reporter]);
        let health_rpc =
            access_for("/p06.health.v1.HealthReportingService/SubmitHealthReport").unwrap();
        assert!(authorize(&police, health_rpc).is_err());
        let police_rpc =
            access_for("/p06.police.v1.PoliceReportingService/SubmitIdentityReport").unwrap();
        assert!(authorize(&police, police_rpc).is_ok());
        let viewer = principal(Agency::Taskforce, &[Role::TaskforceViewer]);
        assert!(authorize(&viewer, police_rpc).is_err());
        let admin_rpc = access_for("/p06.aggregation.v1.CatalogService/UpsertTargets").unwrap();
        assert!(authorize(&viewer, admin_rpc).is_err());
        let reporter_rpc =
            access_for("/p06.aggregation.v1.TaskForceService/GetConsolidatedStatus").unwrap();
        assert!(authorize(&police, reporter_rpc).is_err());
    }
}
