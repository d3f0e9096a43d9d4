//! `p06.aggregation.v1.AdminService`: obligations and period locks (task-force admins).

use std::sync::Arc;

use p06_domain::obligation::ObligationSpec;
use p06_kit::convert::{date_from_proto, date_to_proto, timestamp};
use p06_proto::aggregation::{
    ListObligationsRequest, ListObligationsResponse, LockPeriodRequest, Obligation, PeriodLock,
    UnlockPeriodRequest, UpsertObligationRequest, admin_service_server::AdminService,
};
use p06_proto::common::{LocalityRef, Period};
use tonic::{Request, Response, Status};

use super::{Caller, paging};
use crate::app::AppState;
use crate::error::Error;
use crate::store::compliance::LockRow;

pub struct AdminApi {
    state: Arc<AppState>,
}

impl AdminApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    fn lock_to_proto(&self, lock: &LockRow) -> PeriodLock {
        let province = self.state.catalog.locality_by_id(lock.province_id);
        PeriodLock {
            name: format!("locks/{}", lock.id),
            province: province.map(|p| LocalityRef {
                edition: p.edition.to_string(),
                code: p.code.clone(),
            }),
            period: Some(Period {
                start: Some(date_to_proto(lock.period_start)),
                end: Some(date_to_proto(lock.period_end)),
            }),
            agency: lock.agency.clone().unwrap_or_default(),
            obligation: lock.obligation.clone().unwrap_or_default(),
            reason: lock.reason.clone(),
            locked_by: lock.locked_by.clone(),
            lock_time: Some(timestamp(lock.locked_at)),
            unlocked_by: lock.unlocked_by.clone().unwrap_or_default(),
            unlock_time: lock.unlocked_at.map(timestamp),
        }
    }

    /// The caller's province, checked against the one the request names.
    fn province_id(&self, caller: &Caller, province: Option<&LocalityRef>) -> Result<i64, Error> {
        let p = province.cloned().unwrap_or_default();
        caller.require_province(&p.edition, &p.code)?;
        let edition = p
            .edition
            .parse()
            .map_err(|_| Error::invalid_field("province.edition", "unknown edition"))?;
        self.state
            .catalog
            .province(edition, &p.code)
            .map(|l| l.id)
            .ok_or_else(|| Error::invalid_field("province.code", "not a province of this edition"))
    }
}

fn obligation_to_proto(spec: &ObligationSpec) -> Result<Obligation, Error> {
    Ok(Obligation {
        code: spec.code.clone(),
        agency: spec.agency.clone(),
        spec_json: serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?,
    })
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn list_obligations(
        &self,
        request: Request<ListObligationsRequest>,
    ) -> Result<Response<ListObligationsResponse>, Status> {
        Caller::of(&request)?;
        let req = request.into_inner();
        let all = self.state.store.obligations().await?;
        let (page, next_page_token) =
            paging::page("obligations", &all, req.page_size, &req.page_token)?;
        Ok(Response::new(ListObligationsResponse {
            obligations: page
                .iter()
                .map(obligation_to_proto)
                .collect::<Result<_, _>>()?,
            next_page_token,
        }))
    }

    async fn upsert_obligation(
        &self,
        request: Request<UpsertObligationRequest>,
    ) -> Result<Response<Obligation>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let spec: ObligationSpec = serde_json::from_str(&req.spec_json)
            .map_err(|e| Error::invalid_field("spec_json", format!("not an obligation: {e}")))?;
        spec.check(&self.state.catalog).map_err(Error::invalid)?;
        // An admin sets obligations of its own province only.
        let own = format!("{}/{}", caller.0.edition, caller.0.province);
        if spec.provinces.iter().any(|p| *p != own) {
            return Err(Error::PermissionDenied(
                "an obligation may bind only the token's province".into(),
            )
            .into());
        }
        self.state
            .store
            .upsert_obligation(&spec, caller.subject(), self.state.clock.now())
            .await?;
        Ok(Response::new(obligation_to_proto(&spec)?))
    }

    async fn lock_period(
        &self,
        request: Request<LockPeriodRequest>,
    ) -> Result<Response<PeriodLock>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province_id = self.province_id(&caller, req.province.as_ref())?;
        let period = req.period.unwrap_or_default();
        let (Some(start), Some(end)) = (
            date_from_proto(period.start.as_ref()),
            date_from_proto(period.end.as_ref()),
        ) else {
            return Err(Error::invalid_field("period", "start and end dates are required").into());
        };
        if end < start {
            return Err(Error::invalid_field("period.end", "ends before it starts").into());
        }
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let lock = self
            .state
            .store
            .lock_period(
                province_id,
                start,
                end,
                optional(&req.agency).as_deref(),
                optional(&req.obligation).as_deref(),
                req.reason.trim(),
                caller.subject(),
                self.state.clock.now(),
            )
            .await?;
        Ok(Response::new(self.lock_to_proto(&lock)))
    }

    async fn unlock_period(
        &self,
        request: Request<UnlockPeriodRequest>,
    ) -> Result<Response<PeriodLock>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province_id = self.province_id(&caller, req.province.as_ref())?;
        let id: i64 = req
            .name
            .strip_prefix("locks/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| Error::invalid_field("name", "expected locks/{id}"))?;
        let lock = self
            .state
            .store
            .unlock_period(province_id, id, caller.subject(), self.state.clock.now())
            .await?
            .ok_or_else(|| Error::NotFound(format!("no active lock {}", req.name)))?;
        Ok(Response::new(self.lock_to_proto(&lock)))
    }
}
