//! Which calls are submissions: the report-writing methods, counted by the per-caller submission
//! rate (`P06_LIMIT_SUBMIT_RATE`) on top of the general rate.
//!
//! Each of them ends in one write at the province's writer (the aggregator's `SubmitReport`, and
//! the agency services' submit calls, which forward to it with the caller's own token). A caller's
//! reads may come at the general rate, sized for the task force's pages; its reports may not: 60
//! admitted reports a second from one flooding token kept a province's writer and the disk busy
//! enough to multiply another agency's p99 by 5 (README, "Limits").
//!
//! The same caller is counted at the agency service and again at the aggregator (the verified
//! token is the identity at both): the agency service refuses a flood before it costs a forward,
//! the aggregator defends itself against callers of `IngestService` that come directly (the web
//! page's uploads, scripts) or through a misconfigured agency service.

use p06_proto::aggregation::ingest_service_server;
use p06_proto::health::health_reporting_service_server;
use p06_proto::justice::justice_reporting_service_server;
use p06_proto::police::police_reporting_service_server;

/// (gRPC service, method) of every report-writing call.
pub const SUBMISSIONS: [(&str, &str); 4] = [
    (ingest_service_server::SERVICE_NAME, "SubmitReport"),
    (
        police_reporting_service_server::SERVICE_NAME,
        "SubmitIdentityReport",
    ),
    (
        health_reporting_service_server::SERVICE_NAME,
        "SubmitHealthReport",
    ),
    (
        justice_reporting_service_server::SERVICE_NAME,
        "SubmitCivilStatusReport",
    ),
];

/// Whether the request path `/package.Service/Method` is a submission.
pub fn is_submission(path: &str) -> bool {
    let Some((service, method)) = path.strip_prefix('/').and_then(|rest| rest.split_once('/'))
    else {
        return false;
    };
    SUBMISSIONS
        .iter()
        .any(|&(s, m)| s == service && m == method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn the_submit_methods_of_every_service_are_submissions_and_nothing_else() {
        let set = prost_types::FileDescriptorSet::decode(p06_proto::FILE_DESCRIPTOR_SET)
            .expect("the embedded descriptor set decodes");
        let mut submit_methods = Vec::new();
        let mut paths = Vec::new();
        for file in &set.file {
            for service in &file.service {
                let full = format!("{}.{}", file.package(), service.name());
                for method in &service.method {
                    let path = format!("/{full}/{}", method.name());
                    // Every method that writes a report is named Submit…; none other is.
                    if method.name().starts_with("Submit") {
                        submit_methods.push((full.clone(), method.name().to_owned()));
                    }
                    paths.push((path, method.name().starts_with("Submit")));
                }
            }
        }
        let mut listed: Vec<(String, String)> = SUBMISSIONS
            .iter()
            .map(|&(s, m)| (s.to_owned(), m.to_owned()))
            .collect();
        listed.sort();
        submit_methods.sort();
        assert_eq!(listed, submit_methods);
        assert!(paths.len() > SUBMISSIONS.len(), "{paths:?}");
        for (path, submit) in paths {
            assert_eq!(is_submission(&path), submit, "{path}");
        }
    }

    #[test]
    fn paths_that_only_resemble_a_submission_are_not_one() {
        assert!(is_submission(
            "/p06.aggregation.v1.IngestService/SubmitReport"
        ));
        for path in [
            "p06.aggregation.v1.IngestService/SubmitReport",
            "/p06.aggregation.v1.IngestService/GetReport",
            "/p06.aggregation.v1.IngestService/SubmitReport/x",
            "/p06.police.v1.PoliceReportingService/SubmitReport",
            "/grpc.health.v1.Health/Check",
            "/",
            "",
        ] {
            assert!(!is_submission(path), "{path}");
        }
    }
}
