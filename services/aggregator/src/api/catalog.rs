//! `p06.aggregation.v1.CatalogService`.

use std::collections::HashSet;
use std::sync::Arc;

use p06_domain::admin::province_key;
use p06_domain::locality::{Edition, Level, Locality};
use p06_domain::report::{
    CatalogView, FieldViolation, Indicator, IndicatorKind, MAX_CODE_CHARS, Unit,
};
use p06_domain::text::{self, echo, echo_bare};
use p06_kit::convert::{date_from_proto, date_to_proto, timestamp};
use p06_proto::aggregation::{
    self as pb, ListEditionsRequest, ListEditionsResponse, ListIndicatorsRequest,
    ListIndicatorsResponse, ListLocalitiesRequest, ListLocalitiesResponse,
    ListLocalityMappingsRequest, ListLocalityMappingsResponse, ListTargetsRequest,
    ListTargetsResponse, LocalityLevel, UpsertTargetsRequest, UpsertTargetsResponse,
    catalog_service_server::CatalogService,
};
use p06_proto::common::LocalityRef;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use super::{Caller, paging};
use crate::app::AppState;
use crate::error::Error;
use crate::store::TargetUpsert;

/// At most this many targets in one UpsertTargets call.
pub const MAX_TARGETS_PER_CALL: usize = 50_000;

pub struct CatalogApi {
    state: Arc<AppState>,
}

impl CatalogApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    /// A province the caller may read: its own, or any of its edition for the national token.
    fn readable_province(
        &self,
        caller: &Caller,
        province: Option<&LocalityRef>,
    ) -> Result<&Locality, Error> {
        let province = province.cloned().unwrap_or_default();
        if !caller
            .scope()?
            .reads_named(&province.edition, &province.code)
        {
            return Err(Error::PermissionDenied(
                "the token is not scoped to this province".into(),
            ));
        }
        let edition = parse_edition("province.edition", &province.edition)?;
        self.state
            .catalog
            .province(edition, &province.code)
            .ok_or_else(|| Error::invalid_field("province.code", "not a province of this edition"))
    }
}

fn parse_edition(field: &str, edition: &str) -> Result<Edition, Error> {
    edition.parse().map_err(|_| {
        Error::invalid_field(
            field,
            format!(
                "unknown edition {}; expected 2023, 2024 or 2025",
                echo(edition)
            ),
        )
    })
}

fn level_from_proto(level: LocalityLevel) -> Option<Level> {
    match level {
        LocalityLevel::Unspecified | LocalityLevel::Country => None,
        LocalityLevel::Province => Some(Level::Province),
        LocalityLevel::District => Some(Level::District),
        LocalityLevel::Commune => Some(Level::Commune),
    }
}

impl CatalogApi {
    fn locality_to_proto(&self, l: &Locality) -> pb::Locality {
        super::locality_to_proto(&self.state.catalog, l)
    }
}

fn indicator_to_proto(i: &Indicator) -> pb::Indicator {
    pb::Indicator {
        code: i.code.clone(),
        name_vi: i.name_vi.clone(),
        name_en: i.name_en.clone(),
        agency: i.agency.clone(),
        kind: match i.kind {
            IndicatorKind::Stock => pb::IndicatorKind::Stock,
            IndicatorKind::Flow => pb::IndicatorKind::Flow,
        } as i32,
        unit: match i.unit {
            Unit::Count => "count",
            Unit::Percent => "percent",
        }
        .into(),
        denominator_code: i.denominator.clone().unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn list_localities(
        &self,
        request: Request<ListLocalitiesRequest>,
    ) -> Result<Response<ListLocalitiesResponse>, Status> {
        Caller::of(&request)?;
        let req = request.into_inner();
        let edition = parse_edition("edition", &req.edition)?;
        let level = LocalityLevel::try_from(req.level)
            .map_err(|_| Error::invalid_field("level", "unknown level"))?;
        let catalog = &self.state.catalog;
        let matching: Vec<&Locality> = if req.parent_code.is_empty() {
            catalog.localities(edition).collect()
        } else {
            let parent = catalog.locality(edition, &req.parent_code).ok_or_else(|| {
                super::unknown_locality(catalog, "parent_code", edition, &req.parent_code)
            })?;
            catalog.descendants(parent.id)
        };
        // The country is no listed locality: a COUNTRY filter matches nothing.
        let matching: Vec<&Locality> = matching
            .into_iter()
            .filter(|_| level != LocalityLevel::Country)
            .filter(|l| level_from_proto(level).is_none_or(|lv| lv == l.level))
            .collect();
        let (page, next_page_token) =
            paging::page("localities", &matching, req.page_size, &req.page_token)?;
        Ok(Response::new(ListLocalitiesResponse {
            localities: page
                .into_iter()
                .map(|l| self.locality_to_proto(l))
                .collect(),
            next_page_token,
        }))
    }

    async fn list_locality_mappings(
        &self,
        request: Request<ListLocalityMappingsRequest>,
    ) -> Result<Response<ListLocalityMappingsResponse>, Status> {
        Caller::of(&request)?;
        let locality = request.into_inner().locality.unwrap_or_default();
        let edition = parse_edition("locality.edition", &locality.edition)?;
        let catalog = &self.state.catalog;
        let from = catalog.locality(edition, &locality.code).ok_or_else(|| {
            super::unknown_locality(catalog, "locality.code", edition, &locality.code)
        })?;
        let mappings = catalog
            .mappings_of(from.id)
            .filter_map(|m| {
                let (a, b) = (
                    catalog.locality_by_id(m.from_id)?,
                    catalog.locality_by_id(m.to_id)?,
                );
                Some(pb::LocalityMapping {
                    from: Some(self.locality_to_proto(a)),
                    to: Some(self.locality_to_proto(b)),
                    partial: m.partial,
                    default_target: m.default_target,
                })
            })
            .collect();
        Ok(Response::new(ListLocalityMappingsResponse { mappings }))
    }

    async fn list_editions(
        &self,
        request: Request<ListEditionsRequest>,
    ) -> Result<Response<ListEditionsResponse>, Status> {
        Caller::of(&request)?;
        let today = self.state.today();
        let editions = self
            .state
            .catalog
            .editions()
            .iter()
            .map(|e| pb::Edition {
                edition: e.validity.edition.to_string(),
                valid_from: e.validity.valid_from.map(date_to_proto),
                valid_until: e.validity.valid_until.map(date_to_proto),
                tiers: i32::from(e.validity.tiers),
                name_vi: e.name_vi.clone(),
                name_en: e.name_en.clone(),
                in_force: e.validity.contains(today),
            })
            .collect();
        Ok(Response::new(ListEditionsResponse { editions }))
    }

    async fn list_indicators(
        &self,
        request: Request<ListIndicatorsRequest>,
    ) -> Result<Response<ListIndicatorsResponse>, Status> {
        Caller::of(&request)?;
        let req = request.into_inner();
        let matching: Vec<&Indicator> = self
            .state
            .catalog
            .indicators()
            .iter()
            .filter(|i| req.agency.is_empty() || i.agency == req.agency)
            .collect();
        let (page, next_page_token) =
            paging::page("indicators", &matching, req.page_size, &req.page_token)?;
        Ok(Response::new(ListIndicatorsResponse {
            indicators: page.into_iter().map(indicator_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn upsert_targets(
        &self,
        request: Request<UpsertTargetsRequest>,
    ) -> Result<Response<UpsertTargetsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        p06_domain::report::check_request_id(req.request_id.trim())
            .map_err(|v| Error::invalid(vec![v]))?;
        if req.targets.is_empty() || req.targets.len() > MAX_TARGETS_PER_CALL {
            return Err(Error::invalid_field(
                "targets",
                format!("between 1 and {MAX_TARGETS_PER_CALL} targets per call"),
            )
            .into());
        }
        // Every target must lie in the province the caller administers (the national token
        // administers none).
        let scope = caller.scope()?;
        let (edition, code) = scope.own_province().map_err(Error::from)?;
        let catalog = &self.state.catalog;
        let token_province = catalog.province(edition, code).ok_or_else(|| {
            Error::PermissionDenied(format!(
                "the token's province {} is not in the catalog",
                province_key(edition, code)
            ))
        })?;

        let mut violations = Vec::new();
        let mut upserts = Vec::with_capacity(req.targets.len());
        let mut seen = HashSet::new();
        let mut hasher = Sha256::new();
        for (i, t) in req.targets.iter().enumerate() {
            let f = |name: &str| format!("targets[{i}].{name}");
            let locality = t.locality.clone().unwrap_or_default();
            let found = locality
                .edition
                .parse::<Edition>()
                .ok()
                .and_then(|e| catalog.locality(e, &locality.code));
            if let Some(l) = found
                && l.province_id != token_province.id
            {
                let other = catalog
                    .locality_by_id(l.province_id)
                    .map_or_else(|| "?".into(), |p| province_key(p.edition, &p.code));
                return Err(Error::PermissionDenied(format!(
                    "{}: locality {}/{} lies in {other}; an admin of {} sets targets of {} only",
                    f("locality"),
                    locality.edition,
                    locality.code,
                    province_key(edition, code),
                    province_key(edition, code),
                ))
                .into());
            }
            if found.is_none() {
                violations.push(FieldViolation::new(
                    f("locality"),
                    format!(
                        "unknown locality {}/{}",
                        echo_bare(&locality.edition),
                        echo_bare(&locality.code)
                    ),
                ));
            }
            let indicator = catalog.indicator(&t.indicator_code);
            if indicator.is_none() {
                violations.push(FieldViolation::new(
                    f("indicator_code"),
                    format!("unknown indicator {}", echo(&t.indicator_code)),
                ));
            }
            let due = date_from_proto(t.due_date.as_ref());
            if due.is_none() {
                violations.push(FieldViolation::new(
                    f("due_date"),
                    "a valid due date is required",
                ));
            }
            if !t.value.is_finite() || t.value < 0.0 {
                violations.push(FieldViolation::new(
                    f("value"),
                    "must be a finite, non-negative number",
                ));
            } else if indicator.is_some_and(|ind| ind.unit == Unit::Percent) && t.value > 100.0 {
                violations.push(FieldViolation::new(
                    f("value"),
                    "a percentage target cannot exceed 100",
                ));
            }
            if let (Some(l), Some(due)) = (found, due) {
                if !seen.insert((t.indicator_code.clone(), l.id, due)) {
                    violations.push(FieldViolation::new(
                        format!("targets[{i}]"),
                        "duplicate (indicator, locality, due date)",
                    ));
                }
                hasher.update(format!(
                    "{}|{}|{}|{}\n",
                    t.indicator_code, l.id, due, t.value
                ));
                upserts.push(TargetUpsert {
                    indicator_code: t.indicator_code.clone(),
                    locality_id: l.id,
                    due_date: due,
                    value: if t.value == 0.0 { 0.0 } else { t.value },
                });
            }
        }
        if !violations.is_empty() {
            return Err(Error::invalid(violations).into());
        }
        let counts = self
            .state
            .store
            .upsert_targets(
                &self.state.catalog,
                token_province.id,
                req.request_id.trim(),
                &hex::encode(hasher.finalize()),
                &upserts,
                self.state.clock.now(),
            )
            .await?;
        Ok(Response::new(UpsertTargetsResponse {
            created_count: counts.created,
            updated_count: counts.updated,
        }))
    }

    async fn list_targets(
        &self,
        request: Request<ListTargetsRequest>,
    ) -> Result<Response<ListTargetsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province = self.readable_province(&caller, req.province.as_ref())?;
        let size = paging::page_size(req.page_size)?;
        let offset = paging::decode_token("targets", &req.page_token)?;
        text::check("indicator_code", &req.indicator_code, MAX_CODE_CHARS)
            .map_err(|v| Error::invalid(vec![v]))?;
        let indicator = (!req.indicator_code.is_empty()).then_some(req.indicator_code.as_str());
        let mut rows = self
            .state
            .store
            .list_targets(province.id, indicator, offset, size + 1)
            .await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let catalog = &self.state.catalog;
        let targets = rows
            .iter()
            .map(|r| pb::Target {
                indicator_code: r.indicator_code.clone(),
                locality: catalog.locality_by_id(r.locality_id).map(|l| LocalityRef {
                    edition: l.edition.to_string(),
                    code: l.code.clone(),
                }),
                due_date: Some(date_to_proto(r.due_date)),
                value: r.value,
                update_time: Some(timestamp(r.updated_at)),
            })
            .collect::<Vec<_>>();
        let next_page_token = paging::next_token("targets", offset, targets.len(), size, more);
        Ok(Response::new(ListTargetsResponse {
            targets,
            next_page_token,
        }))
    }
}
