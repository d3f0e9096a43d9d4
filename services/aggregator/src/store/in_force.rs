//! A province's figures in force on a date, from `series_start` and `latest_value`'s key.
//!
//! A figure is in force from its period end until the next figure of its series (indicator,
//! locality) starts. Nothing stores that end (migration 21), nor each series' latest figure
//! (migration 22: rewriting it with every week cost more than the week's figures themselves):
//! `series_start` holds the period end of each series' first figure, and `latest_value` every
//! figure under the key (province, indicator, week, locality). So, for a date D:
//!
//! - a series whose first figure ends after D: none;
//! - the others: the last figure ending on or before D, read from `latest_value` one window of
//!   weeks before D at a time (one range of the key per indicator), each window twice as long as
//!   the last, until every such series has one. For weekly series the first window, a week, finds
//!   them; a monthly one needs two or three, a series that stopped long ago (a commune merged
//!   away) as many as it takes to reach its last week, each naming only the localities still open.
//!
//! [`since`] also returns every later figure of those series, with the end of each (`valid_until`,
//! the next figure's period end): what the writer's transaction and memory work from.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::queries::FigureRow as Stored;
use super::rollups::{BATCH, FigureRow, Key, OPEN_END, list, values};
use super::statement;
use crate::error::Error;
use crate::hash::FastMap;

/// The first window read before D: a week, where a weekly series' last figure lies. It reads a
/// range of every open indicator's figures, so a longer one reads weeks of figures the weekly
/// series do not need (the writer's first read of a province, from the day before its history
/// starts, would read that much more); a monthly series needs two or three windows.
const FIRST_WINDOW_DAYS: i64 = 7;

/// Which series of a province: those of `codes` (all when `None`), at `localities` (all when
/// `None`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Series<'a> {
    pub codes: Option<&'a [String]>,
    pub localities: Option<&'a [i64]>,
}

#[derive(FromQueryResult)]
struct Start {
    indicator_code: String,
    locality_id: i64,
    first_end: NaiveDate,
}

/// What a read found, and the statements it ran.
pub(crate) struct Found<T> {
    pub figures: Vec<T>,
    pub statements: usize,
}

/// Each series' figure in force on `date`.
pub(crate) async fn on(
    db: &impl ConnectionTrait,
    province_id: i64,
    date: NaiveDate,
    series: Series<'_>,
) -> Result<Found<Stored>, Error> {
    gather(db, province_id, date, series, Later::None).await
}

/// Which figures after the date a read returns besides those in force on it.
#[derive(Debug, Clone, Copy)]
enum Later {
    None,
    All,
    /// Those ending before the date given.
    Before(NaiveDate),
}

/// Each series' figures in force on some day after `date`: the one in force on `date` and every
/// later one (ending before `before`, when given), each with the period end of its successor as
/// `valid_until` ([`OPEN_END`] for the last returned: with `before`, its successor, if any, ends
/// on or after `before`).
pub(crate) async fn since(
    db: &impl ConnectionTrait,
    province_id: i64,
    date: NaiveDate,
    series: Series<'_>,
    before: Option<NaiveDate>,
) -> Result<Found<FigureRow>, Error> {
    let later = before.map_or(Later::All, Later::Before);
    let found = gather(db, province_id, date, series, later).await?;
    // In series and week order, each figure ends where the next of its series starts.
    let mut read = found.figures;
    read.sort_by(|a, b| {
        (&a.indicator_code, a.locality_id, a.period_end).cmp(&(
            &b.indicator_code,
            b.locality_id,
            b.period_end,
        ))
    });
    let mut figures = Vec::with_capacity(read.len());
    let mut read = read.into_iter().peekable();
    while let Some(f) = read.next() {
        let valid_until = read
            .peek()
            .filter(|n| n.indicator_code == f.indicator_code && n.locality_id == f.locality_id)
            .map_or(OPEN_END, |n| n.period_end);
        figures.push(FigureRow {
            indicator_code: f.indicator_code,
            locality_id: f.locality_id,
            period_start: f.period_start,
            period_end: f.period_end,
            value: f.value,
            report_id: f.report_id,
            valid_until,
        });
    }
    Ok(Found {
        figures,
        statements: found.statements,
    })
}

/// [`on`], and the `later` figures.
async fn gather(
    db: &impl ConnectionTrait,
    province_id: i64,
    date: NaiveDate,
    series: Series<'_>,
    later: Later,
) -> Result<Found<Stored>, Error> {
    let mut out = Vec::new();
    // The series whose figures on or before `date` (and after it, for `later`) are to be read,
    // with their first period end. No codes or no localities: no starts (`select` reads
    // nothing), so nothing is open either.
    let until = matches!(later, Later::None).then_some(date);
    let (starts, mut statements) = starts(db, province_id, until, series).await?;
    let mut open: FastMap<Key, NaiveDate> = starts
        .into_iter()
        .map(|s| ((s.indicator_code, s.locality_id), s.first_end))
        .collect();

    // Windows of weeks ending on `date` (the first with the `later` figures too), then each before
    // the last and twice as long.
    let mut upper = match later {
        Later::None => Some(date),
        Later::All => None,
        Later::Before(before) => Some(before.pred_opt().unwrap_or(before).max(date)),
    };
    let mut lower = date - Duration::days(FIRST_WINDOW_DAYS);
    let mut length = FIRST_WINDOW_DAYS;
    let mut first_window = true;
    while !open.is_empty() {
        // After the first window the series still open are the few that report rarely (or
        // stopped): the later windows name their localities, so they return those series' rows,
        // not weeks of every series of their indicators.
        let by_locality = series.localities.is_some() || !first_window;
        let rows = window(db, province_id, &open, by_locality, lower, upper).await?;
        first_window = false;
        statements += rows.statements;
        let mut last: FastMap<Key, Stored> = FastMap::default();
        for row in rows.figures {
            let key = (row.indicator_code.clone(), row.locality_id);
            if !open.contains_key(&key) {
                continue;
            }
            if row.period_end > date {
                out.push(row);
            } else if last.get(&key).is_none_or(|l| l.period_end < row.period_end) {
                last.insert(key, row);
            }
        }
        // A series is done once its figure on or before `date` is found, or the windows reach
        // back before its first figure (then it has none: it starts after `date`).
        open.retain(|key, first_end| match last.remove(key) {
            Some(figure) => {
                out.push(figure);
                false
            }
            None => *first_end <= lower,
        });
        upper = Some(lower);
        length = length.saturating_mul(2);
        lower = lower
            .checked_sub_signed(Duration::days(length))
            .unwrap_or(NaiveDate::MIN);
    }
    Ok(Found {
        figures: out,
        statements,
    })
}

/// The first period end of the province's series (of `series`; those starting on or before
/// `until` when given), and the statements run.
async fn starts(
    db: &impl ConnectionTrait,
    province_id: i64,
    until: Option<NaiveDate>,
    series: Series<'_>,
) -> Result<(Vec<Start>, usize), Error> {
    let mut sql = "SELECT indicator_code, locality_id, first_end FROM series_start \
                   WHERE province_id = ?"
        .to_owned();
    let mut params: Vec<Value> = vec![province_id.into()];
    if let Some(until) = until {
        sql.push_str(" AND first_end <= ?");
        params.push(until.into());
    }
    let (rows, count) = select(db, &sql, params, series).await?;
    let starts = rows
        .iter()
        .map(|row| Start::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    Ok((starts, count))
}

/// The series of a province with a figure in force on `date` (those whose first figure ends on
/// or before it: a figure stays in force until the next one of its series), of `series`.
pub(crate) async fn series_on(
    db: &impl ConnectionTrait,
    province_id: i64,
    date: NaiveDate,
    series: Series<'_>,
) -> Result<Vec<Key>, Error> {
    let (starts, _) = starts(db, province_id, Some(date), series).await?;
    Ok(starts
        .into_iter()
        .map(|s| (s.indicator_code, s.locality_id))
        .collect())
}

/// Runs `sql` (a read whose conditions end its text) narrowed to `series`' codes and localities,
/// in as many statements as the localities need; the rows, and the statements run.
async fn select(
    db: &impl ConnectionTrait,
    sql: &str,
    params: Vec<Value>,
    series: Series<'_>,
) -> Result<(Vec<sea_orm::QueryResult>, usize), Error> {
    if series.codes.is_some_and(<[String]>::is_empty)
        || series.localities.is_some_and(<[i64]>::is_empty)
    {
        return Ok((Vec::new(), 0));
    }
    let mut sql = sql.to_owned();
    let mut params = params;
    if let Some(codes) = series.codes {
        sql.push_str(&format!(" AND indicator_code IN ({})", list(codes.len())));
        params.extend(values(codes));
    }
    let backend = db.get_database_backend();
    let statements = match series.localities {
        None => vec![statement(backend, &sql, params)],
        Some(localities) => localities
            .chunks(BATCH)
            .map(|chunk| {
                let mut p = params.clone();
                p.extend(values(chunk));
                statement(
                    backend,
                    &format!("{sql} AND locality_id IN ({})", list(chunk.len())),
                    p,
                )
            })
            .collect(),
    };
    let count = statements.len();
    let mut out = Vec::new();
    for s in statements {
        out.extend(db.query_all_raw(s).await?);
    }
    Ok((out, count))
}

/// The figures of the open series' indicators ending after `lower` (and on or before `upper`),
/// at their localities when `by_locality`.
async fn window(
    db: &impl ConnectionTrait,
    province_id: i64,
    open: &FastMap<Key, NaiveDate>,
    by_locality: bool,
    lower: NaiveDate,
    upper: Option<NaiveDate>,
) -> Result<Found<Stored>, Error> {
    let codes: Vec<String> = open
        .keys()
        .map(|(c, _)| c.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let localities: Vec<i64> = if by_locality {
        open.keys()
            .map(|(_, l)| *l)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let mut sql = "SELECT indicator_code, locality_id, value, period_start, period_end, \
                   report_id FROM latest_value WHERE province_id = ? AND period_end > ?"
        .to_owned();
    let mut params: Vec<Value> = vec![province_id.into(), lower.into()];
    if let Some(upper) = upper {
        sql.push_str(" AND period_end <= ?");
        params.push(upper.into());
    }
    let series = Series {
        codes: Some(&codes),
        localities: by_locality.then_some(localities.as_slice()),
    };
    let (rows, count) = select(db, &sql, params, series).await?;
    let figures = rows
        .iter()
        .map(|row| Stored::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    Ok(Found {
        figures,
        statements: count,
    })
}
