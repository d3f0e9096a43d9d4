//! The one table of who may call which RPC. Deny by default: a method missing here is refused
//! with `PERMISSION_DENIED` (after authentication, so an anonymous caller cannot map the table).
//!
//! The table decides by role and agency; handlers then check the data (own agency's indicators and
//! receipts, own province — see [`Principal::may_report_for`] and [`Principal::may_read_province`]).
//!
//! To add an RPC, add one line to [`TABLE`]: the full gRPC path (`/package.Service/Method`) or
//! `/package.Service/*` for every method of a service. An exact path wins over a wildcard.

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
        "/p06.aggregation.v1.CatalogService/ListEditions",
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
    // Reading the obligations that bind one's province: the task force, and the reporters who
    // must know what to report and by when (`p06 template`, `p06 submit`); the rest is admin.
    (
        "/p06.aggregation.v1.AdminService/ListObligations",
        Access::Roles(READERS),
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
    let exact = TABLE.iter().find(|(pattern, _)| *pattern == path);
    let wildcard = || {
        TABLE.iter().find(|(pattern, _)| {
            pattern.strip_suffix('*').is_some_and(|service| {
                path.strip_prefix(service)
                    .is_some_and(|method| !method.is_empty() && !method.contains('/'))
            })
        })
    };
    exact.or_else(wildcard).map(|(_, access)| *access)
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
        Err(AuthError::forbidden())
    }
}

/// [`access_for`] and [`authorize`] together: a method missing from the table is refused.
pub fn authorize_path(principal: &Principal, path: &str) -> Result<(), AuthError> {
    authorize(
        principal,
        access_for(path).ok_or_else(AuthError::forbidden)?,
    )
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
            valid_until: i64::MAX,
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

    #[test]
    fn every_pattern_is_a_method_path_or_a_service_wildcard_and_appears_once() {
        for (i, (pattern, _)) in TABLE.iter().enumerate() {
            let rest = pattern.strip_prefix('/').expect(pattern);
            let (service, method) = rest.split_once('/').expect(pattern);
            assert!(
                service.contains('.') && !method.is_empty() && !method.contains('/'),
                "{pattern}"
            );
            assert!(!method.contains('*') || method == "*", "{pattern}");
            assert!(
                TABLE[i + 1..].iter().all(|(p, _)| p != pattern),
                "{pattern} twice"
            );
        }
    }

    #[test]
    fn the_rules_of_the_brief() {
        use Agency::*;
        use Role::*;
        let may = |agency, roles: &[Role], path: &str| {
            authorize_path(&principal(agency, roles), path).is_ok()
        };
        let ingest = "/p06.aggregation.v1.IngestService/SubmitReport";
        for agency in [Police, Health, Justice] {
            assert!(may(agency, &[Reporter], ingest));
            assert!(may(agency, &[Service], ingest));
        }
        assert!(!may(Taskforce, &[TaskforceAdmin], ingest));
        assert!(!may(Police, &[TaskforceViewer], ingest));

        let get = "/p06.aggregation.v1.IngestService/GetReport";
        assert!(may(Health, &[Reporter], get) && may(Taskforce, &[TaskforceViewer], get));

        for m in [
            "ListEditions",
            "ListLocalities",
            "ListLocalityMappings",
            "ListIndicators",
        ] {
            let path = format!("/p06.aggregation.v1.CatalogService/{m}");
            assert!(may(Justice, &[Reporter], &path) && may(Taskforce, &[TaskforceViewer], &path));
        }
        let upsert = "/p06.aggregation.v1.CatalogService/UpsertTargets";
        assert!(may(Taskforce, &[TaskforceAdmin], upsert));
        assert!(!may(Taskforce, &[TaskforceViewer], upsert) && !may(Police, &[Reporter], upsert));
        let targets = "/p06.aggregation.v1.CatalogService/ListTargets";
        assert!(may(Police, &[Reporter], targets) && may(Taskforce, &[TaskforceViewer], targets));

        let tf = "/p06.aggregation.v1.TaskForceService/WatchFlags";
        assert!(may(Taskforce, &[TaskforceViewer], tf) && may(Taskforce, &[TaskforceAdmin], tf));
        assert!(!may(Police, &[Reporter, Service], tf));
        let admin = "/p06.aggregation.v1.AdminService/LockPeriod";
        assert!(may(Taskforce, &[TaskforceAdmin], admin));
        assert!(!may(Taskforce, &[TaskforceViewer], admin));
        let obligations = "/p06.aggregation.v1.AdminService/ListObligations";
        assert!(may(Taskforce, &[TaskforceViewer], obligations));
        // A reporter reads the obligations it must meet (its province's, as the handler scopes).
        assert!(may(Police, &[Reporter], obligations));
        let upsert = "/p06.aggregation.v1.AdminService/UpsertObligation";
        assert!(!may(Taskforce, &[TaskforceViewer], upsert));

        let health = "/p06.health.v1.HealthReportingService/SubmitHealthReport";
        assert!(may(Health, &[Reporter], health) && !may(Police, &[Reporter], health));
        let justice = "/p06.justice.v1.JusticeReportingService/SubmitCivilStatusReport";
        assert!(may(Justice, &[Reporter], justice) && !may(Health, &[Reporter], justice));

        assert!(!may(
            Taskforce,
            &[TaskforceAdmin],
            "/p06.aggregation.v1.IngestService/DeleteAll"
        ));
        assert_eq!(access_for("/p06.aggregation.v1.TaskForceService/"), None);
        for public in [
            "/grpc.health.v1.Health/Watch",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert_eq!(access_for(public), Some(Access::Public));
        }
    }
}
