//! Loading the catalog from the database.

use chrono::NaiveDate;
use p06_domain::edition::EditionValidity;
use p06_domain::locality::{Edition, Level, Locality};
use p06_domain::report::{Indicator, IndicatorKind, Unit};
use sea_orm::sea_query::{Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use sea_orm_migration::prelude::Alias;

use super::Store;
use crate::catalog::{Catalog, EditionInfo, Mapping};
use crate::error::Error;

#[derive(FromQueryResult)]
struct LocalityRow {
    id: i64,
    edition: String,
    code: String,
    name: String,
    level: String,
    parent_id: Option<i64>,
    province_id: i64,
}

#[derive(FromQueryResult)]
struct IndicatorRow {
    code: String,
    agency: String,
    kind: String,
    unit: String,
    denominator_code: Option<String>,
    name_vi: String,
    name_en: String,
    display_order: i32,
}

#[derive(FromQueryResult)]
struct EditionRow {
    edition: String,
    tiers: i32,
    valid_from: Option<String>,
    valid_until: Option<String>,
    name_vi: String,
    name_en: String,
}

#[derive(FromQueryResult)]
struct MappingRow {
    from_id: i64,
    to_id: i64,
    partial: bool,
    default_target: bool,
}

impl Store {
    pub async fn load_catalog(&self) -> Result<Catalog, Error> {
        let db = self.connection();
        let select = |table: &str, cols: &[&str]| {
            let mut q = Query::select();
            q.from(Alias::new(table));
            for c in cols {
                q.column(Alias::new(*c));
            }
            q.order_by(Alias::new(cols[0]), Order::Asc);
            q.to_owned()
        };
        let rows = db
            .query_all(&select(
                "locality",
                &[
                    "id",
                    "edition",
                    "code",
                    "name",
                    "level",
                    "parent_id",
                    "province_id",
                ],
            ))
            .await?;
        let mut localities = Vec::with_capacity(rows.len());
        for row in rows {
            let r = LocalityRow::from_query_result(&row, "")?;
            let (Ok(edition), Ok(level)) = (r.edition.parse::<Edition>(), r.level.parse::<Level>())
            else {
                return Err(Error::Internal(format!(
                    "locality {} has a bad edition or level",
                    r.id
                )));
            };
            localities.push(Locality {
                id: r.id,
                edition,
                code: r.code,
                name: r.name,
                level,
                parent_id: r.parent_id,
                province_id: r.province_id,
            });
        }

        let rows = db
            .query_all(&select(
                "indicator",
                &[
                    "code",
                    "agency",
                    "kind",
                    "unit",
                    "denominator_code",
                    "name_vi",
                    "name_en",
                    "display_order",
                ],
            ))
            .await?;
        let mut rows = rows
            .iter()
            .map(|row| IndicatorRow::from_query_result(row, ""))
            .collect::<Result<Vec<_>, _>>()?;
        // The catalog lists indicators in display order (migration 14), ties by code.
        rows.sort_by(|a, b| (a.display_order, &a.code).cmp(&(b.display_order, &b.code)));
        let mut indicators = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = match r.kind.as_str() {
                "flow" => IndicatorKind::Flow,
                _ => IndicatorKind::Stock,
            };
            let unit = match r.unit.as_str() {
                "percent" => Unit::Percent,
                _ => Unit::Count,
            };
            indicators.push(Indicator {
                code: r.code,
                agency: r.agency,
                kind,
                unit,
                denominator: r.denominator_code,
                name_vi: r.name_vi,
                name_en: r.name_en,
            });
        }

        let rows = db
            .query_all(&select(
                "locality_crosswalk",
                &["from_id", "to_id", "partial", "default_target"],
            ))
            .await?;
        let mut mappings = Vec::with_capacity(rows.len());
        for row in rows {
            let r = MappingRow::from_query_result(&row, "")?;
            mappings.push(Mapping {
                from_id: r.from_id,
                to_id: r.to_id,
                partial: r.partial,
                default_target: r.default_target,
            });
        }
        let rows = db
            .query_all(&select(
                "locality_edition",
                &[
                    "edition",
                    "tiers",
                    "valid_from",
                    "valid_until",
                    "name_vi",
                    "name_en",
                ],
            ))
            .await?;
        let mut editions = Vec::with_capacity(rows.len());
        for row in rows {
            let r = EditionRow::from_query_result(&row, "")?;
            let bad = || Error::Internal(format!("edition {:?} has a bad row", r.edition));
            let date = |d: &Option<String>| -> Result<Option<NaiveDate>, Error> {
                d.as_deref()
                    .map(|d| d.parse::<NaiveDate>().map_err(|_| bad()))
                    .transpose()
            };
            editions.push(EditionInfo {
                validity: EditionValidity {
                    edition: r.edition.parse().map_err(|_| bad())?,
                    valid_from: date(&r.valid_from)?,
                    valid_until: date(&r.valid_until)?,
                    tiers: u8::try_from(r.tiers).map_err(|_| bad())?,
                },
                name_vi: r.name_vi,
                name_en: r.name_en,
            });
        }
        Ok(Catalog::new(localities, indicators, mappings).with_editions(editions))
    }
}
