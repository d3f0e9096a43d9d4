//! Keeping the read model and the roll-ups current inside a report's transaction.
//!
//! A saved revision changes some units' figures at one date (its period end). Only those units'
//! contributions (`p06_domain::contribution`) change, and only from that date on; so the
//! transaction reads the affected figures in force at or after that date, computes each unit's
//! contribution before and after, and adds the difference to the roll-ups of every locality above
//! the unit up to its province. Deltas are additive; reports of one province are serialised
//! (SQLite: the writer lock; PostgreSQL: the row lock of the province's read version) because their
//! contributions read each other's figures. No row is shared between provinces: a country's
//! totals are its provinces' added up when read (`Store::rollup_totals`), so reports of different
//! provinces never wait for each other.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use p06_domain::contribution::{
    Changes, Contribution, DeltaKey, Entry, Span, UnitFigures, changes,
};
use p06_domain::report::{CatalogView, IndicatorKind, ValidObservation};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};

use super::rows::Rows;
use super::statement;
use crate::catalog::Catalog;
use crate::error::Error;

/// "Open-ended" in date key columns (`valid_until`, span `until`, stock `period_start`).
pub const OPEN_END: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => panic!("9999-12-31 is a date"),
};

/// Localities per `IN (…)` list of the reads and deletes by locality (below every back-end's
/// parameter limit).
const BATCH: usize = 1_000;

/// One revision's effect on the read model.
pub struct RevisionChange<'a> {
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub report_id: i64,
    pub received_at: DateTime<Utc>,
    pub observations: &'a [ValidObservation],
    /// The revision this one supersedes: its figures leave the read model.
    pub superseded: Option<i64>,
}

type Key = (String, i64);

/// A figure of `latest_value` as the roll-up maintenance reads it.
#[derive(Debug, Clone, FromQueryResult)]
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
    fn entry(&self) -> Entry {
        Entry {
            period_start: self.period_start,
            as_of: self.period_end,
            value: self.value,
            report_id: self.report_id,
        }
    }
}

#[derive(FromQueryResult)]
struct KeyRow {
    indicator_code: String,
    locality_id: i64,
}

#[derive(FromQueryResult)]
struct NodeRow {
    indicator_code: String,
    locality_id: i64,
    superseded_from: NaiveDate,
}

/// Serialises writers of one province until the transaction ends, and advances the province's
/// read version: whatever the transaction changes, readers holding figures of the province cached
/// under an older version read them again.
///
/// On PostgreSQL the version's upsert is the lock: it holds the province's row (or, for its first
/// write, the key being inserted) until commit, so a second writer's upsert waits for the first
/// to end and its later statements see what the first committed. SQLite has one writer anyway.
pub(crate) async fn lock_province(
    txn: &DatabaseTransaction,
    province_id: i64,
) -> Result<(), Error> {
    txn.execute_raw(statement(
        txn.get_database_backend(),
        "INSERT INTO province_version (province_id, version) VALUES (?, 1) \
         ON CONFLICT (province_id) DO UPDATE SET version = province_version.version + 1",
        vec![province_id.into()],
    ))
    .await?;
    Ok(())
}

fn list(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn values<T: Into<Value> + Clone>(items: &[T]) -> Vec<Value> {
    items.iter().cloned().map(Into::into).collect()
}

/// Applies a revision to `latest_value` and the roll-ups; returns the statements it ran.
pub(crate) async fn apply_revision(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    change: &RevisionChange<'_>,
) -> Result<usize, Error> {
    let backend = txn.get_database_backend();
    let date = change.period_end;
    let mut statements = 0;

    let new: HashMap<Key, f64> = change
        .observations
        .iter()
        .map(|o| ((o.indicator_code.clone(), o.locality_id), o.value))
        .collect();
    let mut dropped: Vec<Key> = Vec::new();
    if let Some(previous) = change.superseded {
        // The superseded revision's figures still in the read model: its observations (one key
        // range of `observation`) whose row at the date it still holds. A revision keeps its
        // series' period, so that date is this one's.
        let rows = txn
            .query_all_raw(statement(
                backend,
                "SELECT o.indicator_code, o.locality_id FROM observation o JOIN latest_value v \
                 ON v.indicator_code = o.indicator_code AND v.locality_id = o.locality_id \
                 AND v.period_end = ? WHERE o.report_id = ? AND v.report_id = ?",
                vec![date.into(), previous.into(), previous.into()],
            ))
            .await?;
        statements += 1;
        for row in rows {
            let k = KeyRow::from_query_result(&row, "")?;
            let key = (k.indicator_code, k.locality_id);
            if !new.contains_key(&key) {
                dropped.push(key);
            }
        }
    }

    // Indicators whose figures change, and the channels whose contributions may: those and every
    // indicator paired with one of them as its denominator.
    let touched: BTreeSet<&str> = new
        .keys()
        .chain(&dropped)
        .map(|(i, _)| i.as_str())
        .collect();
    let mut channels: BTreeSet<&str> = touched.clone();
    for indicator in catalog.indicators() {
        if indicator
            .denominator
            .as_deref()
            .is_some_and(|d| touched.contains(d))
        {
            channels.insert(&indicator.code);
        }
    }
    let denominator_of = |code: &str| catalog.indicator(code).and_then(|i| i.denominator.clone());
    let mut series_codes: BTreeSet<String> = channels.iter().map(|c| (*c).to_owned()).collect();
    series_codes.extend(channels.iter().filter_map(|c| denominator_of(c)));

    let units: BTreeSet<i64> = new.keys().chain(&dropped).map(|(_, u)| *u).collect();
    let mut above: BTreeSet<i64> = BTreeSet::new();
    for u in &units {
        above.extend(kept_above(catalog, *u));
    }

    // First dates of figures below each unit, before this revision.
    let node_units: Vec<i64> = units.iter().chain(&above).copied().collect();
    let channel_list: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
    let mut node_before: HashMap<Key, NaiveDate> = HashMap::new();
    for chunk in node_units.chunks(BATCH) {
        let mut params = values(chunk);
        params.extend(values(&channel_list));
        let rows = txn
            .query_all_raw(statement(
                backend,
                &format!(
                    "SELECT indicator_code, locality_id, superseded_from FROM rollup_node \
                     WHERE locality_id IN ({}) AND indicator_code IN ({})",
                    list(chunk.len()),
                    list(channel_list.len())
                ),
                params,
            ))
            .await?;
        statements += 1;
        for row in rows {
            let n = NodeRow::from_query_result(&row, "")?;
            node_before.insert((n.indicator_code, n.locality_id), n.superseded_from);
        }
    }
    // … and after it.
    let mut node_after = node_before.clone();
    // (indicator, locality) pairs with a figure of this revision, or a dropped one, below them.
    let below = |keys: &mut dyn Iterator<Item = &Key>| -> HashSet<Key> {
        keys.flat_map(|(i, u)| {
            kept_above(catalog, *u)
                .into_iter()
                .map(move |a| (i.clone(), a))
        })
        .collect()
    };
    let new_below = below(&mut new.keys());
    let dropped_below = below(&mut dropped.iter());
    for a in &above {
        for indicator in &touched {
            let key = ((*indicator).to_owned(), *a);
            let mut first = node_before.get(&key).copied();
            if dropped_below.contains(&key) {
                first = first_figure_below(txn, catalog, indicator, *a, change).await?;
                statements += 1;
            }
            if new_below.contains(&key) {
                first = Some(first.map_or(date, |f| f.min(date)));
            }
            match first {
                Some(f) => node_after.insert(key, f),
                None => node_after.remove(&key),
            };
        }
    }
    let moved: Vec<Key> = node_after
        .iter()
        .filter(|(k, v)| node_before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(
            node_before
                .keys()
                .filter(|k| !node_after.contains_key(*k))
                .cloned(),
        )
        .collect();

    // Figures in force at or after the date (and the one a revision at the date supersedes).
    let mut readers: BTreeSet<i64> = units.clone();
    readers.extend(moved.iter().map(|(_, u)| *u));
    let reader_list: Vec<i64> = readers.into_iter().collect();
    let code_list: Vec<String> = series_codes.into_iter().collect();
    let mut rows: Vec<FigureRow> = Vec::new();
    for chunk in reader_list.chunks(BATCH) {
        let mut params = values(chunk);
        params.extend(values(&code_list));
        params.push(date.into());
        let found = txn
            .query_all_raw(statement(
                backend,
                &format!(
                    "SELECT indicator_code, locality_id, period_start, period_end, value, report_id, valid_until \
                     FROM latest_value WHERE locality_id IN ({}) AND indicator_code IN ({}) AND valid_until >= ?",
                    list(chunk.len()),
                    list(code_list.len())
                ),
                params,
            ))
            .await?;
        statements += 1;
        for row in found {
            rows.push(FigureRow::from_query_result(&row, "")?);
        }
    }
    let mut before: HashMap<Key, Vec<Entry>> = HashMap::new();
    let mut stored_until: HashMap<(Key, NaiveDate), NaiveDate> = HashMap::new();
    for row in &rows {
        let key = (row.indicator_code.clone(), row.locality_id);
        stored_until.insert((key.clone(), row.period_end), row.valid_until);
        before.entry(key).or_default().push(row.entry());
    }
    for series in before.values_mut() {
        series.sort_by_key(|e| e.as_of);
    }
    let mut after = before.clone();
    for (key, value) in &new {
        let series = after.entry(key.clone()).or_default();
        series.retain(|e| e.as_of != date);
        series.push(Entry {
            period_start: change.period_start,
            as_of: date,
            value: *value,
            report_id: change.report_id,
        });
        series.sort_by_key(|e| e.as_of);
    }
    for key in &dropped {
        if let Some(series) = after.get_mut(key) {
            series.retain(|e| e.as_of != date);
        }
    }

    // Contributions before and after, summed into every roll-up above each unit.
    let empty: Vec<Entry> = Vec::new();
    let moved_set: HashSet<&Key> = moved.iter().collect();
    let mut rollups: BTreeMap<(i64, String), Changes> = BTreeMap::new();
    for unit in &reader_list {
        for channel in &channels {
            let key = ((*channel).to_owned(), *unit);
            let denominator = denominator_of(channel);
            let den_key = denominator.clone().map(|d| (d, *unit));
            let changed = new.contains_key(&key)
                || dropped.contains(&key)
                || moved_set.contains(&key)
                || den_key
                    .as_ref()
                    .is_some_and(|k| new.contains_key(k) || dropped.contains(k));
            if !changed {
                continue;
            }
            let flow = catalog
                .indicator(channel)
                .is_some_and(|i| i.kind == IndicatorKind::Flow);
            let figures = |series: &HashMap<Key, Vec<Entry>>, nodes: &HashMap<Key, NaiveDate>| {
                let own = series.get(&key).unwrap_or(&empty).clone();
                let den = den_key
                    .as_ref()
                    .and_then(|k| series.get(k))
                    .unwrap_or(&empty)
                    .clone();
                (own, den, nodes.get(&key).copied())
            };
            let (own_b, den_b, cut_b) = figures(&before, &node_before);
            let (own_a, den_a, cut_a) = figures(&after, &node_after);
            let contribution = |own: &[Entry], den: &[Entry], cut| {
                Contribution::of(
                    &UnitFigures {
                        flow,
                        own,
                        superseded_from: cut,
                        denominator: denominator.as_ref().map(|_| den),
                    },
                    date,
                )
            };
            let diff = changes(
                &contribution(&own_b, &den_b, cut_b),
                &contribution(&own_a, &den_a, cut_a),
            );
            if diff.is_empty() {
                continue;
            }
            for target in rolled_into(catalog, *unit) {
                rollups
                    .entry((target, (*channel).to_owned()))
                    .or_default()
                    .merge(&diff);
            }
        }
    }

    statements += write_latest_values(txn, change, &new, &dropped, &after, &stored_until).await?;
    statements += add_rollups(txn, &rollups).await?;
    statements += write_nodes(txn, &moved, &node_after).await?;
    Ok(statements)
}

/// The first period end of a figure of `indicator` below `unit`, leaving out the superseded
/// revision's figures at the change's date.
async fn first_figure_below(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    indicator: &str,
    unit: i64,
    change: &RevisionChange<'_>,
) -> Result<Option<NaiveDate>, Error> {
    #[derive(FromQueryResult)]
    struct First {
        first: Option<NaiveDate>,
    }
    let below: Vec<i64> = catalog.descendants(unit).iter().map(|l| l.id).collect();
    if below.is_empty() {
        return Ok(None);
    }
    let mut params: Vec<Value> = vec![indicator.into()];
    params.extend(values(&below));
    params.push(change.superseded.unwrap_or(0).into());
    let row = txn
        .query_one_raw(statement(
            txn.get_database_backend(),
            &format!(
                "SELECT MIN(period_end) AS first FROM latest_value \
                 WHERE indicator_code = ? AND locality_id IN ({}) AND report_id <> ?",
                list(below.len())
            ),
            params,
        ))
        .await?;
    Ok(match row {
        Some(row) => First::from_query_result(&row, "")?.first,
        None => None,
    })
}

/// The next period end after `as_of` in a series, or [`OPEN_END`].
fn next_after(series: &[Entry], as_of: NaiveDate) -> NaiveDate {
    series
        .iter()
        .find(|e| e.as_of > as_of)
        .map_or(OPEN_END, |e| e.as_of)
}

async fn write_latest_values(
    txn: &DatabaseTransaction,
    change: &RevisionChange<'_>,
    new: &HashMap<Key, f64>,
    dropped: &[Key],
    after: &HashMap<Key, Vec<Entry>>,
    stored_until: &HashMap<(Key, NaiveDate), NaiveDate>,
) -> Result<usize, Error> {
    let date = change.period_end;
    let mut statements = 0;
    // The superseded revision's figures the new one has no figure for leave; the others are
    // overwritten below.
    let mut gone = Rows::new(3, dropped.len());
    for (indicator, locality) in dropped {
        gone.push([indicator.clone().into(), (*locality).into(), date.into()]);
    }
    statements += gone
        .execute(
            txn,
            "DELETE FROM latest_value WHERE (indicator_code, locality_id, period_end) IN ({rows})",
            &[],
        )
        .await?;
    let mut sorted: Vec<(&Key, f64)> = new.iter().map(|(k, v)| (k, *v)).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut rows = Rows::new(9, sorted.len());
    for (key, value) in sorted {
        let (indicator, locality) = key;
        let until = next_after(after.get(key).map_or(&[], |s| s), date);
        rows.push([
            indicator.clone().into(),
            (*locality).into(),
            date.into(),
            change.period_start.into(),
            value.into(),
            change.report_id.into(),
            change.received_at.into(),
            change.province_id.into(),
            until.into(),
        ]);
    }
    statements += rows
        .execute(
            txn,
            "INSERT INTO latest_value (indicator_code, locality_id, period_end, period_start, value, \
             report_id, received_at, province_id, valid_until) {rows} \
             ON CONFLICT (indicator_code, locality_id, period_end) DO UPDATE SET \
             period_start = excluded.period_start, value = excluded.value, \
             report_id = excluded.report_id, received_at = excluded.received_at, \
             valid_until = excluded.valid_until",
            &[],
        )
        .await?;

    // The figure before the date now ends where its successor in the new series starts. Each
    // row is named by its whole primary key, so the update is one key lookup per row (naming the
    // period end apart let PostgreSQL plan a scan of every row of that date instead).
    let mut fixes: BTreeMap<NaiveDate, Vec<(&Key, NaiveDate)>> = BTreeMap::new();
    for key in new.keys().chain(dropped) {
        let Some(series) = after.get(key) else {
            continue;
        };
        let Some(previous) = series.iter().rev().find(|e| e.as_of < date) else {
            continue;
        };
        let until = next_after(series, previous.as_of);
        let stored = stored_until.get(&(key.clone(), previous.as_of)).copied();
        if stored.is_some_and(|stored| stored != until) {
            fixes.entry(until).or_default().push((key, previous.as_of));
        }
    }
    for (until, keys) in fixes {
        let mut rows = Rows::new(3, keys.len());
        for ((indicator, locality), period_end) in keys {
            rows.push([
                indicator.clone().into(),
                (*locality).into(),
                period_end.into(),
            ]);
        }
        statements += rows
            .execute(
                txn,
                "UPDATE latest_value SET valid_until = ? \
                 WHERE (indicator_code, locality_id, period_end) IN ({rows})",
                &[until.into()],
            )
            .await?;
    }
    Ok(statements)
}

/// Adds roll-up changes: value deltas and span counts, in key order, then removes spans that
/// reached zero.
pub(crate) async fn add_rollups(
    txn: &DatabaseTransaction,
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
    statements += rows
        .execute(
            txn,
            "INSERT INTO rollup_value (locality_id, indicator_code, as_of, period_start, value, \
             paired_value, paired_denominator) {rows} \
             ON CONFLICT (locality_id, indicator_code, as_of, period_start) DO UPDATE SET \
             value = rollup_value.value + excluded.value, \
             paired_value = rollup_value.paired_value + excluded.paired_value, \
             paired_denominator = rollup_value.paired_denominator + excluded.paired_denominator",
            &[],
        )
        .await?;
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
    statements += rows
        .execute(
            txn,
            "INSERT INTO rollup_sum (locality_id, indicator_code, period_year, value, \
             paired_value, paired_denominator) {rows} \
             ON CONFLICT (locality_id, indicator_code, period_year) DO UPDATE SET \
             value = rollup_sum.value + excluded.value, \
             paired_value = rollup_sum.paired_value + excluded.paired_value, \
             paired_denominator = rollup_sum.paired_denominator + excluded.paired_denominator",
            &[],
        )
        .await?;
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
    statements += rows
        .execute(
            txn,
            "INSERT INTO rollup_span (locality_id, indicator_code, until, report_id, as_of, units) \
             {rows} ON CONFLICT (locality_id, indicator_code, until, report_id) DO UPDATE SET \
             units = rollup_span.units + excluded.units",
            &[],
        )
        .await?;
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

/// Stores the first dates below units that moved.
async fn write_nodes(
    txn: &DatabaseTransaction,
    moved: &[Key],
    after: &HashMap<Key, NaiveDate>,
) -> Result<usize, Error> {
    let backend = txn.get_database_backend();
    let mut statements = 0;
    let (set, gone): (Vec<&Key>, Vec<&Key>) = moved.iter().partition(|k| after.contains_key(*k));
    let mut rows = Rows::new(3, set.len());
    for key in &set {
        rows.push([key.1.into(), key.0.clone().into(), after[*key].into()]);
    }
    statements += rows
        .execute(
            txn,
            "INSERT INTO rollup_node (locality_id, indicator_code, superseded_from) {rows} \
             ON CONFLICT (locality_id, indicator_code) DO UPDATE SET \
             superseded_from = excluded.superseded_from",
            &[],
        )
        .await?;
    for key in gone {
        txn.execute_raw(statement(
            backend,
            "DELETE FROM rollup_node WHERE locality_id = ? AND indicator_code = ?",
            vec![key.1.into(), key.0.clone().into()],
        ))
        .await?;
        statements += 1;
    }
    Ok(statements)
}

/// The localities above a unit that keep roll-ups: its district, its province… but not the
/// country, whose totals are added up from its provinces' when read.
fn kept_above(catalog: &Catalog, unit: i64) -> Vec<i64> {
    let mut above = catalog.ancestors(unit);
    above.retain(|a| *a > 0);
    above
}

/// The roll-ups a unit's contribution enters: those above it and, when units lie below it, its
/// own (a district reporting for itself beside its communes).
fn rolled_into(catalog: &Catalog, unit: i64) -> Vec<i64> {
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

/// Recomputes a province's `valid_until` ranges, first-figure nodes and roll-ups from its figures
/// in `latest_value`. Used after bulk loads and to build the roll-ups of figures stored before
/// they existed; ordinary reports maintain them incrementally ([`apply_revision`]) with the same
/// rules.
pub(crate) async fn rebuild_province(
    txn: &DatabaseTransaction,
    catalog: &Catalog,
    province_id: i64,
) -> Result<(), Error> {
    let rows = txn
        .query_all_raw(statement(
            txn.get_database_backend(),
            "SELECT indicator_code, locality_id, period_start, period_end, value, report_id, valid_until \
             FROM latest_value WHERE locality_id IN (SELECT id FROM locality WHERE province_id = ?)",
            vec![province_id.into()],
        ))
        .await?;
    let figures = rows
        .iter()
        .map(|row| FigureRow::from_query_result(row, ""))
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
    figures: Vec<FigureRow>,
) -> Result<(), Error> {
    // Each series' entries with the `valid_until` stored for them, by period end.
    let mut stored: HashMap<Key, Vec<(Entry, NaiveDate)>> = HashMap::new();
    for f in figures {
        let entry = f.entry();
        stored
            .entry((f.indicator_code, f.locality_id))
            .or_default()
            .push((entry, f.valid_until));
    }
    for s in stored.values_mut() {
        s.sort_by_key(|(e, _)| e.as_of);
    }

    // In-force ranges: each figure until the next period end of its series.
    let mut fixes: BTreeMap<(NaiveDate, NaiveDate), Vec<&Key>> = BTreeMap::new();
    for (key, s) in &stored {
        for (i, (e, stored_until)) in s.iter().enumerate() {
            let until = s.get(i + 1).map_or(OPEN_END, |(next, _)| next.as_of);
            if *stored_until != until {
                fixes.entry((until, e.as_of)).or_default().push(key);
            }
        }
    }
    for ((until, period_end), keys) in fixes {
        let mut rows = Rows::new(2, keys.len());
        for (indicator, locality) in keys {
            rows.push([indicator.clone().into(), (*locality).into()]);
        }
        rows.execute(
            txn,
            "UPDATE latest_value SET valid_until = ?, province_id = ? WHERE period_end = ? \
             AND (indicator_code, locality_id) IN ({rows})",
            &[until.into(), province_id.into(), period_end.into()],
        )
        .await?;
    }
    let series: HashMap<Key, Vec<Entry>> = stored
        .into_iter()
        .map(|(key, s)| (key, s.into_iter().map(|(e, _)| e).collect()))
        .collect();

    // First figures below every unit.
    let mut nodes: HashMap<Key, NaiveDate> = HashMap::new();
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
    add_rollups(txn, &rollups).await?;
    let moved: Vec<Key> = nodes.keys().cloned().collect();
    write_nodes(txn, &moved, &nodes).await?;
    Ok(())
}
