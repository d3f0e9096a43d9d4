//! `p06.aggregation.v1.AdminService`: obligations and period locks, each belonging to one
//! province and changed only by that province's admin (the rules: `p06_domain::admin`).

use std::sync::Arc;

use p06_domain::admin::{Scope, province_key};
use p06_domain::locality::{Edition, Locality};
use p06_domain::obligation::ObligationSpec;
use p06_domain::report::MAX_CODE_CHARS;
use p06_domain::text;
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

/// At most this many characters in a lock's reason.
pub const MAX_REASON_CHARS: usize = 2_000;

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

    /// The province the request names, which must be the one the caller administers (the
    /// national token administers none).
    fn administered_province(
        &self,
        caller: &Caller,
        province: Option<&LocalityRef>,
    ) -> Result<&Locality, Error> {
        let scope = caller.scope()?;
        scope.own_province()?;
        let p = province.cloned().unwrap_or_default();
        let edition: Edition = p.edition.parse().map_err(|_| {
            Error::invalid_field(
                "province.edition",
                format!(
                    "unknown edition {}; expected 2023, 2024 or 2025",
                    text::echo(&p.edition)
                ),
            )
        })?;
        scope.administers(edition, &p.code)?;
        self.state
            .catalog
            .province(edition, &p.code)
            .ok_or_else(|| Error::invalid_field("province.code", "not a province of this edition"))
    }

    /// The obligations the caller may read: those binding its province, or for the national
    /// token those of every province of its edition, identical settings merged.
    async fn readable_obligations(&self, caller: &Caller) -> Result<Vec<ObligationSpec>, Error> {
        let scope = caller.scope()?;
        let catalog = &self.state.catalog;
        let store = &self.state.store;
        match &scope {
            Scope::Province { edition, code } => match catalog.province(*edition, code) {
                Some(province) => store.obligations_of(province.id).await,
                None => Ok(Vec::new()),
            },
            Scope::National(_) => {
                let bindings = store.obligation_bindings().await?;
                Ok(ObligationSpec::merge(bindings.into_iter().filter_map(
                    |(province_id, spec)| {
                        let province = catalog.locality_by_id(province_id)?;
                        scope
                            .reads(province.edition, &province.code)
                            .then_some(spec)
                    },
                )))
            }
        }
    }

    /// What a lock names besides its province must exist there: a reporting agency, an
    /// obligation that binds the province (of that agency, when both are named).
    async fn check_lock_subject(
        &self,
        province: &Locality,
        agency: Option<&str>,
        obligation: Option<&str>,
    ) -> Result<(), Error> {
        if let Some(agency) = agency
            && !REPORTING_AGENCIES.contains(&agency)
        {
            return Err(Error::invalid_field(
                "agency",
                format!(
                    "unknown agency {}: police, health or justice",
                    text::echo(agency)
                ),
            ));
        }
        if let Some(code) = obligation {
            let key = province_key(province.edition, &province.code);
            let spec = self
                .state
                .store
                .obligation_for(code, province.id)
                .await?
                .ok_or_else(|| {
                    Error::invalid_field(
                        "obligation",
                        format!(
                            "obligation {} does not bind province {key}",
                            text::echo(code)
                        ),
                    )
                })?;
            if let Some(agency) = agency
                && spec.agency != agency
            {
                return Err(Error::invalid_field(
                    "obligation",
                    format!(
                        "obligation {code} is reported by {}, not {agency}",
                        spec.agency
                    ),
                ));
            }
        }
        Ok(())
    }
}

const REPORTING_AGENCIES: [&str; 3] = ["police", "health", "justice"];

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
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let mut all = self.readable_obligations(&caller).await?;
        // A reporting agency reads the obligations it must meet (for its templates and
        // submissions), not the other agencies' ones.
        if !caller.is_task_force() {
            all.retain(|spec| spec.agency == caller.agency());
        }
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
        let scope = caller.scope()?;
        // The national token is refused before its request is looked at.
        let (edition, code) = scope.own_province().map_err(Error::from)?;
        let req = request.into_inner();
        let spec: ObligationSpec = serde_json::from_str(&req.spec_json)
            .map_err(|e| Error::invalid_field("spec_json", format!("not an obligation: {e}")))?;
        // Only its own province's settings: other provinces bound by the same code keep theirs.
        scope.may_set_obligation(&spec).map_err(Error::from)?;
        spec.check(&self.state.catalog).map_err(Error::invalid)?;
        let province = self.state.catalog.province(edition, code).ok_or_else(|| {
            Error::PermissionDenied(format!(
                "the token's province {} is not in the catalog",
                province_key(edition, code)
            ))
        })?;
        self.state
            .store
            .upsert_obligation(&spec, province.id, caller.subject(), self.state.clock.now())
            .await?;
        Ok(Response::new(obligation_to_proto(&spec)?))
    }

    async fn lock_period(
        &self,
        request: Request<LockPeriodRequest>,
    ) -> Result<Response<PeriodLock>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province = self.administered_province(&caller, req.province.as_ref())?;
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
        let mut violations = Vec::new();
        text::check_into(&mut violations, "agency", req.agency.trim(), 16);
        text::check_into(
            &mut violations,
            "obligation",
            req.obligation.trim(),
            MAX_CODE_CHARS,
        );
        text::check_into(
            &mut violations,
            "reason",
            req.reason.trim(),
            MAX_REASON_CHARS,
        );
        if !violations.is_empty() {
            return Err(Error::invalid(violations).into());
        }
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let (agency, obligation) = (optional(&req.agency), optional(&req.obligation));
        self.check_lock_subject(province, agency.as_deref(), obligation.as_deref())
            .await?;
        let lock = self
            .state
            .store
            .lock_period(
                province.id,
                start,
                end,
                agency.as_deref(),
                obligation.as_deref(),
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
        let province = self.administered_province(&caller, req.province.as_ref())?;
        let id: i64 = req
            .name
            .strip_prefix("locks/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| Error::invalid_field("name", "expected locks/{id}"))?;
        let lock = self
            .state
            .store
            .unlock_period(province.id, id, caller.subject(), self.state.clock.now())
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no active lock {} in province {}",
                    req.name,
                    province_key(province.edition, &province.code)
                ))
            })?;
        Ok(Response::new(self.lock_to_proto(&lock)))
    }
}
