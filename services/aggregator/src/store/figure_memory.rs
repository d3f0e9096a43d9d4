//! The figures of `latest_value` of the provinces this process writes, kept in memory so that a
//! report's transaction and the consistency rules' history read do not read them again.
//!
//! A province's figures here are exactly the rows of `latest_value` of that province in force on
//! some day from the province's `from` date on (`valid_until >= from`, where a figure's
//! `valid_until` is the period end of the next figure of its series; that covers the history the
//! consistency rules read for reports from a few weeks after `from`).
//! They are exact because a province's figures change only in a transaction that holds the
//! province's lock (`rollups::lock_province`), and that statement advances and returns the
//! province's version: a writer uses what is held here only when it is held at the version just
//! before its own (no other transaction, of this process or another replica, wrote in between),
//! and after its commit records its changes under its version. Anything else (another replica
//! wrote, a bulk load or a rebuild ran, a transaction failed after its lock) leaves the held
//! version behind the database's, and the next writer loads the province again (the figures in
//! force from `from` on, `super::in_force::since`).
//!
//! At most `budget` figures are held; beyond that the provinces used longest ago are dropped, and
//! while more than seven eighths of it is held the writers load no other province
//! (`super::revision_write`: its reports read their own series instead).

use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use p06_domain::contribution::Entry;

use super::rollups::FigureRow;
use crate::hash::FastMap;

/// A series: (indicator, locality).
pub(crate) type Key = (String, i64);

/// How far back a province's figures reach at most beyond what its latest write needed: older
/// ones are dropped (`ProvinceFigures::advance`), so memory does not grow with the weeks written.
const KEEP_DAYS: i64 = 180;

/// A figure of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Figure {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub value: f64,
    pub report_id: i64,
    pub valid_until: NaiveDate,
}

/// The indicator codes of a province's figures, numbered in the order first seen: a series is
/// held under its code's number, not a copy of the code (a figure costs tens of bytes, a key
/// with its own `String` as much again).
#[derive(Debug, Clone, Default)]
struct Codes {
    names: Vec<String>,
    numbers: FastMap<String, u32>,
}

impl Codes {
    fn number(&self, code: &str) -> Option<u32> {
        self.numbers.get(code).copied()
    }

    fn intern(&mut self, code: &str) -> u32 {
        if let Some(n) = self.number(code) {
            return n;
        }
        let n = u32::try_from(self.names.len()).expect("fewer than 2^32 indicator codes");
        self.names.push(code.to_owned());
        self.numbers.insert(code.to_owned(), n);
        n
    }

    fn name(&self, n: u32) -> &str {
        &self.names[n as usize]
    }
}

/// A series as held: (the code's number, locality).
type Slot = (u32, i64);

/// One province's figures with `valid_until >= from`, each series ordered by period end.
#[derive(Debug, Clone)]
pub(crate) struct ProvinceFigures {
    from: NaiveDate,
    codes: Codes,
    series: FastMap<Slot, Vec<Figure>>,
    size: usize,
}

/// Equal when they hold the same figures from the same date, whatever their codes' numbers.
impl PartialEq for ProvinceFigures {
    fn eq(&self, other: &Self) -> bool {
        let keyed = |p: &ProvinceFigures| -> std::collections::BTreeMap<Key, Vec<Figure>> {
            p.series
                .iter()
                .map(|((n, l), f)| ((p.codes.name(*n).to_owned(), *l), f.clone()))
                .collect()
        };
        self.from == other.from && self.size == other.size && keyed(self) == keyed(other)
    }
}

impl ProvinceFigures {
    /// The province's figures as read from `latest_value` with `valid_until >= from`.
    pub fn from_rows(from: NaiveDate, rows: Vec<FigureRow>) -> Self {
        let mut codes = Codes::default();
        let mut series: FastMap<Slot, Vec<Figure>> = FastMap::default();
        let size = rows.len();
        for r in rows {
            debug_assert!(r.valid_until >= from, "a figure before {from} loaded");
            series
                .entry((codes.intern(&r.indicator_code), r.locality_id))
                .or_default()
                .push(Figure {
                    period_start: r.period_start,
                    period_end: r.period_end,
                    value: r.value,
                    report_id: r.report_id,
                    valid_until: r.valid_until,
                });
        }
        for s in series.values_mut() {
            s.sort_by_key(|f| f.period_end);
        }
        ProvinceFigures {
            from,
            codes,
            series,
            size,
        }
    }

    /// The series of a key, when any figure of it is held.
    fn get(&self, code: &str, locality: i64) -> Option<&Vec<Figure>> {
        self.series.get(&(self.codes.number(code)?, locality))
    }

    /// The first `valid_until` the figures held reach back to.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// Figures held.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Calls `each(code's index in codes, locality, figure)` for the figures of `codes` ×
    /// `localities` with `valid_until >= date` (what `apply_revision` reads), copying nothing;
    /// `None` when figures before `date` are not held.
    pub fn each_in_force_from(
        &self,
        localities: &[i64],
        codes: &[String],
        date: NaiveDate,
        mut each: impl FnMut(usize, i64, &Figure),
    ) -> Option<()> {
        if date < self.from {
            return None;
        }
        for locality in localities {
            for (c, code) in codes.iter().enumerate() {
                let Some(series) = self.get(code, *locality) else {
                    continue;
                };
                let first = series.partition_point(|f| f.valid_until < date);
                for f in &series[first..] {
                    each(c, *locality, f);
                }
            }
        }
        Some(())
    }

    /// [`Self::each_in_force_from`] as rows.
    #[cfg(test)]
    pub fn in_force_from(
        &self,
        localities: &[i64],
        codes: &[String],
        date: NaiveDate,
    ) -> Option<Vec<FigureRow>> {
        let mut out = Vec::new();
        self.each_in_force_from(localities, codes, date, |c, locality, f| {
            out.push(FigureRow {
                indicator_code: codes[c].clone(),
                locality_id: locality,
                period_start: f.period_start,
                period_end: f.period_end,
                value: f.value,
                report_id: f.report_id,
                valid_until: f.valid_until,
            })
        })?;
        Some(out)
    }

    /// The figure of a series in force on `date` (period end ≤ date < valid until), which may be
    /// none; `None` when figures in force on `date` are not all held.
    pub fn in_force_on(
        &self,
        code: &str,
        locality: i64,
        date: NaiveDate,
    ) -> Option<Option<Figure>> {
        if date < self.from {
            return None;
        }
        Some(self.get(code, locality).and_then(|s| in_force_in(s, date)))
    }

    /// The series whose figure ending on `date` came from `report_id`; `None` when figures of
    /// `date` are not held.
    pub fn keys_of_report_at(&self, date: NaiveDate, report_id: i64) -> Option<Vec<Key>> {
        if date < self.from {
            return None;
        }
        Some(
            self.series
                .iter()
                .filter(|(_, s)| {
                    s.binary_search_by_key(&date, |f| f.period_end)
                        .is_ok_and(|i| s[i].report_id == report_id)
                })
                .map(|((n, l), _)| (self.codes.name(*n).to_owned(), *l))
                .collect(),
        )
    }

    /// The values of `indicators` × `localities` in periods ending after `since` and before
    /// `before`, at most `keep` per series, oldest first (`Store::history_before`); `None` when
    /// those periods are not all held.
    pub fn history(
        &self,
        indicators: &[String],
        localities: &[i64],
        since: NaiveDate,
        before: NaiveDate,
        keep: usize,
    ) -> Option<FastMap<Key, Vec<f64>>> {
        // A figure ending after `since` has `valid_until` after `since` too.
        if since < self.from {
            return None;
        }
        let mut out = FastMap::default();
        for indicator in indicators {
            for locality in localities {
                let Some(series) = self.get(indicator, *locality) else {
                    continue;
                };
                let mut values: Vec<f64> = series
                    .iter()
                    .filter(|f| f.period_end > since && f.period_end < before)
                    .map(|f| f.value)
                    .collect();
                if values.is_empty() {
                    continue;
                }
                values.drain(..values.len().saturating_sub(keep));
                out.insert((indicator.clone(), *locality), values);
            }
        }
        Some(out)
    }

    /// After a write at `date`: the series' figures with `valid_until >= date` become `figures`
    /// (the series as the write left it from there on); those before `from` are not held.
    pub fn replace_from(&mut self, key: &Key, date: NaiveDate, figures: &[Figure]) {
        let slot = (self.codes.intern(&key.0), key.1);
        let series = self.series.entry(slot).or_default();
        let before = series.len();
        series.retain(|f| f.valid_until < date);
        series.extend(figures.iter().filter(|f| f.valid_until >= self.from));
        series.sort_by_key(|f| f.period_end);
        self.size = self.size + series.len() - before;
        if series.is_empty() {
            self.series.remove(&slot);
        }
    }

    /// Adds the figures with `valid_until >= from` that end before the first held of their series
    /// (read under the province's lock, up to `self.from`: those held already are left out, and
    /// the last one read ends where the first held starts): the figures are then held from `from`
    /// on.
    pub fn extend(&mut self, from: NaiveDate, rows: Vec<FigureRow>) {
        if from >= self.from {
            return;
        }
        let older = ProvinceFigures::from_rows(from, rows);
        for ((n, locality), figures) in older.series {
            let slot = (self.codes.intern(older.codes.name(n)), locality);
            let series = self.series.entry(slot).or_default();
            let held_first = series.first().map(|f| f.period_end);
            let mut added: Vec<Figure> = figures
                .into_iter()
                .filter(|f| held_first.is_none_or(|h| f.period_end < h))
                .collect();
            if let (Some(last), Some(h)) = (added.last_mut(), held_first) {
                last.valid_until = h;
            }
            self.size += added.len();
            added.append(series);
            *series = added;
            if series.is_empty() {
                self.series.remove(&slot);
            }
        }
        self.from = from;
    }

    /// Drops the figures no longer in force on `from` (a later `from` than held).
    pub fn advance(&mut self, from: NaiveDate) {
        if from <= self.from {
            return;
        }
        self.from = from;
        let mut size = 0;
        self.series.retain(|_, s| {
            s.retain(|f| f.valid_until >= from);
            size += s.len();
            !s.is_empty()
        });
        self.size = size;
    }

    /// After a write that needed figures from `needed`: keeps at most [`KEEP_DAYS`] more.
    pub fn trim_before(&mut self, needed: NaiveDate) {
        let keep = needed - chrono::Duration::days(KEEP_DAYS);
        if self.from < keep - chrono::Duration::days(KEEP_DAYS / 2) {
            self.advance(keep);
        }
    }
}

impl Figure {
    /// The figure as the roll-ups' contributions take it.
    pub fn entry(&self) -> Entry {
        Entry {
            period_start: self.period_start,
            as_of: self.period_end,
            value: self.value,
            report_id: self.report_id,
        }
    }
}

/// The figure of a series (ordered by period end) in force on `date`.
pub(crate) fn in_force_in(series: &[Figure], date: NaiveDate) -> Option<Figure> {
    let after = series.partition_point(|f| f.period_end <= date);
    let last = series[..after].last()?;
    (last.valid_until > date).then_some(*last)
}

/// What a writer must read to have a province's figures from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// They are held: read nothing.
    Held,
    /// Held from `until` on: read those with `valid_until >= from` ending before `until` and
    /// [`FigureMemory::extend`].
    Extend { from: NaiveDate, until: NaiveDate },
    /// Not held at the writer's version: read those with `valid_until >= from` and
    /// [`FigureMemory::insert`] them.
    Load { from: NaiveDate },
}

struct Held {
    version: i64,
    figures: ProvinceFigures,
    used: u64,
}

#[derive(Default)]
struct Inner {
    provinces: FastMap<i64, Held>,
    /// Figures held in all provinces.
    held: usize,
    /// Advances with every use, ordering provinces by recency.
    clock: u64,
}

/// The provinces' figures, each at the version of the last write that recorded them.
pub struct FigureMemory {
    budget: usize,
    inner: Mutex<Inner>,
}

impl FigureMemory {
    /// A memory of at most `budget` figures; 0 holds nothing.
    pub fn new(budget: usize) -> Self {
        FigureMemory {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Changes are applied whole under the lock, with no code that can panic half-way but
        // the allocator's.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the holder of the province's lock, which found the province at `version`, must read
    /// to have its figures from `needed` on.
    pub(crate) fn plan(&self, province_id: i64, version: i64, needed: NaiveDate) -> Plan {
        match self.lock().provinces.get(&province_id) {
            Some(held) if held.version == version => {
                let from = held.figures.from();
                if from <= needed {
                    Plan::Held
                } else {
                    Plan::Extend {
                        from: needed,
                        until: from,
                    }
                }
            }
            _ => Plan::Load { from: needed },
        }
    }

    /// Adds what [`Plan::Extend`] asked for to the figures held at `version`.
    pub(crate) fn extend(
        &self,
        province_id: i64,
        version: i64,
        from: NaiveDate,
        until: NaiveDate,
        rows: Vec<FigureRow>,
    ) {
        let mut inner = self.lock();
        let Some(held) = inner.provinces.get_mut(&province_id) else {
            return;
        };
        if held.version != version || held.figures.from() != until {
            return;
        }
        let before = held.figures.size();
        held.figures.extend(from, rows);
        let added = held.figures.size() - before;
        inner.held += added;
        self.trim(&mut inner);
    }

    /// `read` of the province's figures when they are held at `version`.
    pub(crate) fn read<T>(
        &self,
        province_id: i64,
        version: i64,
        read: impl FnOnce(&ProvinceFigures) -> Option<T>,
    ) -> Option<T> {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let held = inner.provinces.get_mut(&province_id)?;
        if held.version != version {
            return None;
        }
        held.used = clock;
        read(&held.figures)
    }

    /// After the commit of the write that made `version`: `change` applied to the figures held at
    /// `version - 1`. Held at another version, they are dropped (they are stale).
    pub(crate) fn update(
        &self,
        province_id: i64,
        version: i64,
        change: impl FnOnce(&mut ProvinceFigures),
    ) {
        let mut inner = self.lock();
        let Some(held) = inner.provinces.get_mut(&province_id) else {
            return;
        };
        if held.version != version - 1 {
            let size = held.figures.size();
            inner.provinces.remove(&province_id);
            inner.held -= size;
            return;
        }
        let before = held.figures.size();
        change(&mut held.figures);
        held.version = version;
        let after = held.figures.size();
        inner.held = inner.held + after - before;
        self.trim(&mut inner);
    }

    /// Holds `figures` as the province's at `version` (read or built in the transaction that
    /// made `version`, after its commit).
    pub(crate) fn insert(&self, province_id: i64, version: i64, figures: ProvinceFigures) {
        let mut inner = self.lock();
        inner.clock += 1;
        let used = inner.clock;
        if let Some(old) = inner.provinces.remove(&province_id) {
            inner.held -= old.figures.size();
        }
        if figures.size() > self.budget {
            return;
        }
        inner.held += figures.size();
        inner.provinces.insert(
            province_id,
            Held {
                version,
                figures,
                used,
            },
        );
        self.trim(&mut inner);
    }

    /// Drops the least recently used provinces until at most the budget is held.
    fn trim(&self, inner: &mut Inner) {
        while inner.held > self.budget {
            let Some(oldest) = inner
                .provinces
                .iter()
                .min_by_key(|(_, h)| h.used)
                .map(|(id, _)| *id)
            else {
                inner.held = 0;
                return;
            };
            if let Some(old) = inner.provinces.remove(&oldest) {
                inner.held -= old.figures.size();
            }
        }
    }

    /// Whether at most seven eighths of the budget is held: a province loaded now would most
    /// likely push no other out.
    pub fn has_room(&self) -> bool {
        self.lock().held <= self.budget / 8 * 7
    }

    /// Figures held, for tests and metrics.
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// The version a province's figures are held at, for tests.
    pub fn version_of(&self, province_id: i64) -> Option<i64> {
        self.lock().provinces.get(&province_id).map(|h| h.version)
    }
}

#[cfg(test)]
mod tests;
