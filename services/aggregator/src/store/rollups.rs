//! The roll-ups: their rows, the province lock under which they change, and their rebuild from
//! the stored figures.
//!
//! A saved revision changes some units' figures at one date (its period end). Only those units'
//! contributions (`p06_domain::contribution`) change, and only from that date on; so the
//! transaction (`super::revision_write`) takes the affected figures in force at or after that
//! date, computes each unit's contribution before and after, and adds the difference to the
//! roll-ups of every locality above the unit up to its province. Deltas are additive; reports of one province are serialised
//! (SQLite: the writer lock; PostgreSQL: the row lock of the province's read version) because their
//! contributions read each other's figures. No row is shared between provinces: a country's
//! totals are its provinces' added up when read (`Store::rollup_totals`), so reports of different
//! provinces never wait for each other.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use p06_domain::contribution::{
    Changes, Contribution, DeltaKey, Entry, Span, UnitFigures, changes,
};
use p06_domain::report::{CatalogView, IndicatorKind};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};

use super::queries::FigureRow as Stored;
use super::rows::Rows;
use super::script::Script;
use super::statement;
use crate::catalog::Catalog;
use crate::error::Error;
use crate::hash::FastMap;

/// "Open-ended" in date key columns (`valid_until`, span `until`, stock `period_start`).
pub const OPEN_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a date"),
};

/// Localities per `IN (…)` list of the reads and deletes by locality (below every back-end's
/// parameter limit).
pub(crate) const BATCH: usize = 1_000;

pub(crate) type Key = (String, i64);

/// A figure of `latest_value` as the roll-up maintenance reads it, with the period end of the next
/// figure of its series (`valid_until`, [`OPEN_END`] for the latest): it is in force until then
/// (`super::in_force`).
#[derive(Debug, Clone)]
pub(crate) struct FigureRow {
    pub indicator_code: String,
    pub locality_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub value: f64,
    pub report_id: i64,
    pub valid_until: NaiveDate,
}

impl FigureRow {
    pub(crate) fn entry(&self) -> Entry {
        Entry {
            period_start: self.period_start,
            as_of: self.period_end,
            value: self.value,
            report_id: self.report_id,
        }
    }
}

/// Serialises writers of one province until the transaction ends, and advances the province's
/// read version: whatever the transaction changes, readers holding figures of the province cached
/// under an older version read them again.
///
/// On PostgreSQL the version's upsert is the lock: it holds the province's row (or, for its first
/// write, the key being inserted) until commit, so a second writer's upsert waits for the first
/// to end and its later statements see what the first committed. SQLite has one writer anyway.
///
/// Returns the province's new version: the holder of the lock knows that nobody else wrote since
/// version `v` when it gets `v + 1` (`super::figure_memory`).
pub(crate) async fn lock_province(
    txn: &DatabaseTransaction,
    province_id: i64,
) -> Result<i64, Error> {
    let row = txn
        .query_one_raw(statement(
            txn.get_database_backend(),
            "INSERT INTO province_version (province_id, version) VALUES (?, 1) \
             ON CONFLICT (province_id) DO UPDATE SET version = province_version.version + 1 \
             RETURNING version",
            vec![province_id.into()],
        ))
        .await?
        .ok_or_else(|| {
            Error::Internal(format!(
                "the version of province {province_id} was not returned by its lock"
            ))
        })?;
    Ok(row.try_get::<i64>("", "version")?)
}

pub(crate) fn list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

pub(crate) fn values<T: Into<Value> + Clone>(items: &[T]) -> Vec<Value> {
    items.iter().cloned().map(Into::into).collect()
}

/// Adds roll-up changes to `script`: value deltas and span counts, in key order; then, when
/// spans may have reached zero, runs the script and removes them. Returns the statements run.
pub(crate) async fn add_rollups(
    txn: &DatabaseTransaction,
    script: &mut Script,
    rollups: &BTreeMap<(i64, String), Changes>,
) -> Result<usize, Error> {
    let mut statements = 0;
    let mut deltas: Vec<(i64, &str, &DeltaKey, [f64; 3])> = Vec::new();
    let mut spans: Vec<(i64, &str, &Span, i64)> = Vec::new();
    for ((locality, indicator), change) in rollups {
        for (key, a) in &change.deltas {
            deltas.push((
                *locality,
                indicator,
                key,
                [a.value, a.paired_value, a.paired_denominator],
            ));
        }
        for (span, n) in &change.spans {
            spans.push((*locality, indicator, span, *n));
        }
    }
    deltas.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    spans.sort_by(|a, b| {
        (a.0, a.1, a.2.until.unwrap_or(OPEN_END), a.2.report_id).cmp(&(
            b.0,
            b.1,
            b.2.until.unwrap_or(OPEN_END),
            b.2.report_id,
        ))
    });
    let mut rows = Rows::new(7, deltas.len());
    for (locality, indicator, key, [v, pv, pd]) in &deltas {
        rows.push([
            (*locality).into(),
            (*indicator).into(),
            key.as_of.into(),
            key.period_start.unwrap_or(OPEN_END).into(),
            (*v).into(),
            (*pv).into(),
            (*pd).into(),
        ]);
    }
    rows.add_to(
        script,
        "INSERT INTO rollup_value (locality_id, indicator_code, as_of, period_start, value, \
             paired_value, paired_denominator) {rows} \
             ON CONFLICT (locality_id, indicator_code, as_of, period_start) DO UPDATE SET \
             value = rollup_value.value + excluded.value, \
             paired_value = rollup_value.paired_value + excluded.paired_value, \
             paired_denominator = rollup_value.paired_denominator + excluded.paired_denominator",
        &[],
    );
    // The same deltas summed per year of their period start (`rollup_sum`).
    let mut sums: BTreeMap<(i64, &str, i32), [f64; 3]> = BTreeMap::new();
    for (locality, indicator, key, amounts) in &deltas {
        let year = key.period_start.unwrap_or(OPEN_END).year();
        let sum = sums.entry((*locality, indicator, year)).or_default();
        for (s, a) in sum.iter_mut().zip(amounts) {
            *s += a;
        }
    }
    let mut rows = Rows::new(6, sums.len());
    for ((locality, indicator, year), [v, pv, pd]) in &sums {
        rows.push([
            (*locality).into(),
            (*indicator).into(),
            (*year).into(),
            (*v).into(),
            (*pv).into(),
            (*pd).into(),
        ]);
    }
    rows.add_to(
        script,
        "INSERT INTO rollup_sum (locality_id, indicator_code, period_year, value, \
             paired_value, paired_denominator) {rows} \
             ON CONFLICT (locality_id, indicator_code, period_year) DO UPDATE SET \
             value = rollup_sum.value + excluded.value, \
             paired_value = rollup_sum.paired_value + excluded.paired_value, \
             paired_denominator = rollup_sum.paired_denominator + excluded.paired_denominator",
        &[],
    );
    let mut rows = Rows::new(6, spans.len());
    let mut ended = Rows::new(4, 0);
    for (locality, indicator, span, n) in &spans {
        let until = span.until.unwrap_or(OPEN_END);
        rows.push([
            (*locality).into(),
            (*indicator).into(),
            until.into(),
            span.report_id.into(),
            span.as_of.into(),
            (*n).into(),
        ]);
        if *n < 0 {
            ended.push([
                (*locality).into(),
                (*indicator).into(),
                until.into(),
                span.report_id.into(),
            ]);
        }
    }
    rows.add_to(
        script,
        "INSERT INTO rollup_span (locality_id, indicator_code, until, report_id, as_of, units) \
         {rows} ON CONFLICT (locality_id, indicator_code, until, report_id) DO UPDATE SET \
         units = rollup_span.units + excluded.units",
        &[],
    );
    if ended.is_empty() {
        return Ok(statements);
    }
    // The deletion reads what the upsert left: the script runs first.
    statements += script.run(txn).await?;
    statements += ended
        .execute(
            txn,
            "DELETE FROM rollup_span WHERE units = 0 AND \
             (locality_id, indicator_code, until, report_id) IN ({rows})",
            &[],
        )
        .await?;
    Ok(statements)
}

/// Adds to `script` the first dates below units that moved, (indicator, unit, first date): set
/// where there is a date, gone where there is none.
pub(crate) fn write_nodes(script: &mut Script, moved: &[(&str, i64, Option<NaiveDate>)]) {
    let mut set = Rows::new(3, moved.len());
    let mut gone = Rows::new(2, 0);
    for (indicator, unit, first) in moved {
        match first {
            Some(first) => set.push([(*unit).into(), (*indicator).into(), (*first).into()]),
            None => gone.push([(*unit).into(), (*indicator).into()]),
        }
    }
    set.add_to(
        script,
        "INSERT INTO rollup_node (locality_id, indicator_code, superseded_from) {rows} \
         ON CONFLICT (locality_id, indicator_code) DO UPDATE SET \
         superseded_from = excluded.superseded_from",
        &[],
    );
    gone.add_to(
        script,
        "DELETE FROM rollup_node WHERE (locality_id, indicator_code) IN ({rows})",
        &[],
    );
}

/// The localities above a unit that keep roll-ups: its district, its province… but not the
/// country, whose totals are added up from its provinces' when read.
pub(crate) fn kept_above(catalog: &Catalog, unit: i64) -> Vec<i64> {
    let mut above = catalog.ancestors(unit);
    above.retain(|a| *a > 0);
    above
}

/// The roll-ups a unit's contribution enters: those above it and, when units lie below it, its
/// own (a district reporting for itself beside its communes).
pub(crate) fn rolled_into(catalog: &Catalog, unit: i64) -> Vec<i64> {
    let mut targets = kept_above(catalog, unit);
    if catalog.has_children(unit) {
        targets.push(unit);
    }
    targets
}

/// Deletes the rows of `tables` kept for a province's localities with units below them.
async fn delete_province_rows(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    province_id: i64,
    tables: &[&str],
) -> Result<(), Error> {
    let mut ids: Vec<i64> = catalog
        .in_province(province_id)
        .filter(|l| catalog.has_children(l.id))
        .map(|l| l.id)
        .collect();
    ids.sort();
    for table in tables {
        for chunk in ids.chunks(BATCH) {
            txn.execute_raw(statement(
                txn.get_database_backend(),
                &format!(
                    "DELETE FROM {table} WHERE locality_id IN ({})",
                    list(chunk.len())
                ),
                values(chunk),
            ))
            .await?;
        }
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct TargetRow {
    indicator_code: String,
    locality_id: i64,
    due_date: NaiveDate,
    value: f64,
}

/// Recomputes a province's target roll-ups from its targets (after they changed).
///
/// A commune's target as of D is its nearest target due on or after D; as deltas filed by due
/// date, that is `v_last` (and one unit) at the last due date and `v_k − v_{k+1}` at each earlier
/// one, so summing the deltas due on or after D gives the sum of the communes' targets and the
/// number of communes with one.
pub(crate) async fn rebuild_target_rollups(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    province_id: i64,
) -> Result<(), Error> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statement(
            backend,
            "SELECT indicator_code, locality_id, due_date, value FROM target \
             WHERE locality_id IN (SELECT id FROM locality WHERE province_id = ?) \
             ORDER BY indicator_code, locality_id, due_date",
            vec![province_id.into()],
        ))
        .await?;
    let mut per_unit: BTreeMap<(String, i64), Vec<(NaiveDate, f64)>> = BTreeMap::new();
    for row in rows {
        let t = TargetRow::from_query_result(&row, "")?;
        if !catalog.has_children(t.locality_id) {
            per_unit
                .entry((t.indicator_code, t.locality_id))
                .or_default()
                .push((t.due_date, t.value));
        }
    }
    let mut sums: BTreeMap<(i64, String, NaiveDate), (f64, i64)> = BTreeMap::new();
    for ((indicator, unit), targets) in &per_unit {
        for (k, (due, value)) in targets.iter().enumerate() {
            let (delta, units) = match targets.get(k + 1) {
                Some((_, next)) => (value - next, 0),
                None => (*value, 1),
            };
            for above in kept_above(catalog, *unit) {
                let entry = sums.entry((above, indicator.clone(), *due)).or_default();
                entry.0 += delta;
                entry.1 += units;
            }
        }
    }
    delete_province_rows(txn, catalog, province_id, &["target_rollup"]).await?;
    let rows: Vec<_> = sums
        .into_iter()
        .filter(|(_, (v, n))| *v != 0.0 || *n != 0)
        .collect();
    let mut batch = Rows::new(5, rows.len());
    for ((locality, indicator, due), (value, units)) in &rows {
        batch.push([
            (*locality).into(),
            indicator.clone().into(),
            (*due).into(),
            (*value).into(),
            (*units).into(),
        ]);
    }
    batch
        .execute(
            txn,
            "INSERT INTO target_rollup (locality_id, indicator_code, due_date, value, units) \
             {rows} ON CONFLICT (locality_id, indicator_code, due_date) DO UPDATE SET \
             value = target_rollup.value + excluded.value, units = target_rollup.units + excluded.units",
            &[],
        )
        .await?;
    Ok(())
}

/// Recomputes a province's series starts, first-figure nodes and roll-ups from its figures in
/// `latest_value`. Used after bulk loads and to build the roll-ups of figures stored before they
/// existed; ordinary reports maintain them incrementally
/// ([`super::revision_write::apply_revision`]) with the same rules.
pub(crate) async fn rebuild_province(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    province_id: i64,
) -> Result<(), Error> {
    let rows = txn
        .query_all_raw(statement(
            txn.get_database_backend(),
            "SELECT indicator_code, locality_id, period_start, period_end, value, report_id \
             FROM latest_value WHERE province_id = ?",
            vec![province_id.into()],
        ))
        .await?;
    let figures = rows
        .iter()
        .map(|row| Stored::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    rebuild_province_from(txn, catalog, province_id, figures).await
}

/// [`rebuild_province`] from `figures`, which must be every figure of the province in
/// `latest_value` (a bulk load into a province without figures passes the rows it inserted
/// instead of reading them back).
pub(crate) async fn rebuild_province_from(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    province_id: i64,
    figures: Vec<Stored>,
) -> Result<(), Error> {
    let mut series: FastMap<Key, Vec<Entry>> = FastMap::default();
    for f in figures {
        series
            .entry((f.indicator_code, f.locality_id))
            .or_default()
            .push(Entry {
                period_start: f.period_start,
                as_of: f.period_end,
                value: f.value,
                report_id: f.report_id,
            });
    }
    for s in series.values_mut() {
        s.sort_by_key(|e| e.as_of);
    }

    // Each series' start: its first period end.
    txn.execute_raw(statement(
        txn.get_database_backend(),
        "DELETE FROM series_start WHERE province_id = ?",
        vec![province_id.into()],
    ))
    .await?;
    let mut starts = Rows::new(4, series.len());
    for ((indicator, locality), s) in &series {
        let Some(first) = s.first() else {
            continue;
        };
        starts.push([
            province_id.into(),
            indicator.clone().into(),
            (*locality).into(),
            first.as_of.into(),
        ]);
    }
    starts
        .execute(
            txn,
            "INSERT INTO series_start (province_id, indicator_code, locality_id, first_end) {rows}",
            &[],
        )
        .await?;

    // First figures below every unit.
    let mut nodes: FastMap<Key, NaiveDate> = FastMap::default();
    for ((indicator, unit), s) in &series {
        let Some(first) = s.first().map(|e| e.as_of) else {
            continue;
        };
        for above in kept_above(catalog, *unit) {
            nodes
                .entry((indicator.clone(), above))
                .and_modify(|f| *f = (*f).min(first))
                .or_insert(first);
        }
    }

    // Contributions of every unit and channel, from the beginning.
    let mut rollups: BTreeMap<(i64, String), Changes> = BTreeMap::new();
    let empty: Vec<Entry> = Vec::new();
    let start = NaiveDate::MIN;
    for ((indicator, unit), own) in &series {
        let Some(definition) = catalog.indicator(indicator) else {
            continue;
        };
        let denominator = definition.denominator.as_ref();
        let den = denominator
            .and_then(|d| series.get(&(d.clone(), *unit)))
            .unwrap_or(&empty);
        let contribution = Contribution::of(
            &UnitFigures {
                flow: definition.kind == IndicatorKind::Flow,
                own,
                superseded_from: nodes.get(&(indicator.clone(), *unit)).copied(),
                denominator: denominator.map(|_| den.as_slice()),
            },
            start,
        );
        let diff = changes(&Contribution::default(), &contribution);
        for target in rolled_into(catalog, *unit) {
            rollups
                .entry((target, indicator.clone()))
                .or_default()
                .merge(&diff);
        }
    }

    delete_province_rows(
        txn,
        catalog,
        province_id,
        &["rollup_value", "rollup_sum", "rollup_span", "rollup_node"],
    )
    .await?;
    let mut script = Script::new(txn.get_database_backend());
    add_rollups(txn, &mut script, &rollups).await?;
    let moved: Vec<(&str, i64, Option<NaiveDate>)> = nodes
        .iter()
        .map(|((indicator, unit), first)| (indicator.as_str(), *unit, Some(*first)))
        .collect();
    write_nodes(&mut script, &moved);
    script.run(txn).await?;
    Ok(())
}
