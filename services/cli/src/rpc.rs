//! The gRPC methods the command line calls, by their full path (the key of the auth table,
//! `services/auth/src/table.rs`), so a refusal can name the role the call needs.

pub const GET_CONSOLIDATED_STATUS: &str =
    "/p06.aggregation.v1.TaskForceService/GetConsolidatedStatus";
pub const LIST_LOCALITY_PROGRESS: &str =
    "/p06.aggregation.v1.TaskForceService/ListLocalityProgress";
pub const SUMMARIZE_CHILDREN: &str = "/p06.aggregation.v1.TaskForceService/SummarizeChildren";
pub const GET_COMPLIANCE_BOARD: &str = "/p06.aggregation.v1.TaskForceService/GetComplianceBoard";
pub const LIST_FLAGS: &str = "/p06.aggregation.v1.TaskForceService/ListFlags";
pub const WATCH_FLAGS: &str = "/p06.aggregation.v1.TaskForceService/WatchFlags";
pub const LIST_AUDIT_RECORDS: &str = "/p06.aggregation.v1.TaskForceService/ListAuditRecords";
pub const LIST_LOCALITIES: &str = "/p06.aggregation.v1.CatalogService/ListLocalities";
pub const LIST_INDICATORS: &str = "/p06.aggregation.v1.CatalogService/ListIndicators";
pub const UPSERT_TARGETS: &str = "/p06.aggregation.v1.CatalogService/UpsertTargets";
pub const LIST_OBLIGATIONS: &str = "/p06.aggregation.v1.AdminService/ListObligations";
pub const SUBMIT_IDENTITY_REPORT: &str =
    "/p06.police.v1.PoliceReportingService/SubmitIdentityReport";
pub const SUBMIT_HEALTH_REPORT: &str = "/p06.health.v1.HealthReportingService/SubmitHealthReport";
pub const SUBMIT_CIVIL_STATUS_REPORT: &str =
    "/p06.justice.v1.JusticeReportingService/SubmitCivilStatusReport";

#[cfg(test)]
pub const ALL: &[&str] = &[
    GET_CONSOLIDATED_STATUS,
    LIST_LOCALITY_PROGRESS,
    SUMMARIZE_CHILDREN,
    GET_COMPLIANCE_BOARD,
    LIST_FLAGS,
    WATCH_FLAGS,
    LIST_AUDIT_RECORDS,
    LIST_LOCALITIES,
    LIST_INDICATORS,
    UPSERT_TARGETS,
    LIST_OBLIGATIONS,
    SUBMIT_IDENTITY_REPORT,
    SUBMIT_HEALTH_REPORT,
    SUBMIT_CIVIL_STATUS_REPORT,
];
