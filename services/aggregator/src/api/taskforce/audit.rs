//! `ListAuditRecords`: the province's audit trail, one keyset page at a time (newest first), scoped
//! by province like every task-force read.

use p06_kit::convert::{from_timestamp, timestamp};
use p06_proto::aggregation::{AuditRecord, ListAuditRecordsRequest, ListAuditRecordsResponse};
use p06_proto::common::LocalityRef;

use super::{TaskForceApi, check_filter};
use crate::api::{Caller, paging};
use crate::error::Error;
use crate::store::audit::{AuditFilter, AuditRow};

/// The actions the audit log records, for a clear refusal of any other filter.
const ACTIONS: &[&str] = &[
    "FLAG_RAISED",
    "FLAG_RESOLVED",
    "FLAG_ARCHIVED",
    "LOCK",
    "UNLOCK",
    "OBLIGATION_SET",
];

impl TaskForceApi {
    pub(super) async fn audit_records(
        &self,
        caller: &Caller,
        req: ListAuditRecordsRequest,
    ) -> Result<ListAuditRecordsResponse, Error> {
        let province = self.locality(caller, req.province.as_ref(), "province")?;
        if province.id < 0 || province.province_id != province.id {
            return Err(Error::invalid_field("province.code", "name one province"));
        }
        check_filter("agency", &req.agency)?;
        check_filter("action", &req.action)?;
        if !req.action.is_empty() && !ACTIONS.contains(&req.action.as_str()) {
            return Err(Error::invalid_field(
                "action",
                format!(
                    "{} is not an audited action; one of {}",
                    p06_domain::text::echo(&req.action),
                    ACTIONS.join(", ")
                ),
            ));
        }
        let instant = |field: &str, ts: Option<&prost_types::Timestamp>| {
            ts.map(|ts| {
                from_timestamp(ts).ok_or_else(|| Error::invalid_field(field, "not a valid time"))
            })
            .transpose()
        };
        let filter = AuditFilter {
            from: instant("from", req.from.as_ref())?,
            to: instant("to", req.to.as_ref())?,
            action: (!req.action.is_empty()).then(|| req.action.clone()),
            agency: (!req.agency.is_empty()).then(|| req.agency.clone()),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && to < from
        {
            return Err(Error::invalid_field("to", "is before from"));
        }
        let size = paging::page_size(req.page_size)?;
        let before = paging::decode_key_token("audit", &req.page_token)?;
        // One row beyond the page tells whether another page follows.
        let mut rows = self
            .state
            .store
            .audit_page(province.id, &filter, before, size + 1)
            .await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let next_page_token = match rows.last() {
            Some(last) if more => paging::key_token("audit", last.id),
            _ => String::new(),
        };
        let province_ref = LocalityRef {
            edition: province.edition.as_str().to_owned(),
            code: province.code.clone(),
        };
        Ok(ListAuditRecordsResponse {
            records: rows
                .into_iter()
                .map(|row| record_to_proto(row, &province_ref))
                .collect(),
            next_page_token,
        })
    }
}

fn record_to_proto(row: AuditRow, province: &LocalityRef) -> AuditRecord {
    AuditRecord {
        id: row.id,
        time: Some(timestamp(row.at)),
        actor: row.actor,
        action: row.action,
        subject: row.subject,
        details: row.details,
        agency: row.agency.unwrap_or_default(),
        province: Some(province.clone()),
    }
}
