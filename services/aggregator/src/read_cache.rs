//! A bounded in-process cache of the per-commune figures and targets the task-force views read.
//!
//! Consolidated totals come from the maintained roll-ups, but a province's status also ranks and
//! counts its communes, which means reading every commune's figure of every indicator (≈ 11,000
//! rows for the largest province). Those reads are cached here per province, keyed by what they
//! depend on (indicator, as-of date, flow period start), and stamped with the province's read
//! version (`province_version`, advanced in every write transaction of the province by any
//! replica). A reader first reads the current version (one primary-key lookup) and uses only
//! entries stamped with it, so the views stay live: the first read after a write reads the
//! database again.
//!
//! The maintained totals a view reads (a few rows per locality and indicator, but 64 localities ×
//! 20 indicators for the whole country) are cached the same way; the country's entries are
//! stamped with the sum of its provinces' versions, which any write to any province advances.
//!
//! The cache holds at most `budget` figures (a target or a total counts as one); beyond that the
//! entries used longest ago are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;

/// A locality's own figure of one indicator as of a date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OwnFigure {
    pub value: f64,
    /// End of the (last) period the figure comes from.
    pub as_of: NaiveDate,
    /// Reports the figure comes from (a flow sums several periods).
    pub reports: u32,
}

/// One indicator's own figures of a province's localities, by locality id.
pub type IndicatorFigures = HashMap<i64, OwnFigure>;

/// The nearest targets due on or after a date of a province's localities, by (indicator, locality).
pub type Targets = crate::hash::FastMap<(String, i64), f64>;

/// Maintained totals by (locality, indicator) and the sums of the communes' targets below
/// localities, as a view reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub totals: HashMap<(i64, String), crate::store::queries::RollupTotal>,
    pub target_sums: HashMap<(i64, String), (f64, i64)>,
}

/// What one read of totals depends on besides its scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TotalsKey {
    /// The view's locality (its flow totals count their reports).
    pub scope: i64,
    pub as_of: NaiveDate,
    pub flow_from: NaiveDate,
    pub localities: Vec<i64>,
    pub indicators: Vec<String>,
}

/// What one cached set of figures depends on besides the province.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FigureKey {
    pub indicator: String,
    pub as_of: NaiveDate,
    /// Start of the summed period for a flow; `None` for a stock (in force regardless).
    pub flow_from: Option<NaiveDate>,
}

struct Entry<T> {
    data: Arc<T>,
    size: usize,
    used: u64,
}

#[derive(Default)]
struct Province {
    version: i64,
    figures: HashMap<FigureKey, Entry<IndicatorFigures>>,
    targets: HashMap<NaiveDate, Entry<Targets>>,
    totals: HashMap<TotalsKey, Entry<Totals>>,
}

impl Province {
    /// The province's entries when they are of `version`; a newer version drops the older
    /// entries, an older one (a reader that raced a write) finds nothing.
    fn at(&mut self, version: i64, held: &mut usize) -> Option<&mut Province> {
        if version > self.version {
            *held -= self.size();
            self.figures.clear();
            self.targets.clear();
            self.totals.clear();
            self.version = version;
        }
        (version == self.version).then_some(self)
    }

    fn size(&self) -> usize {
        self.figures.values().map(|e| e.size).sum::<usize>()
            + self.targets.values().map(|e| e.size).sum::<usize>()
            + self.totals.values().map(|e| e.size).sum::<usize>()
    }
}

#[derive(Default)]
struct Inner {
    provinces: HashMap<i64, Province>,
    /// Figures held in all entries.
    held: usize,
    /// Advances with every use, ordering entries by recency.
    clock: u64,
}

/// Where an entry lives, for eviction.
enum Slot {
    Figures(FigureKey),
    Targets(NaiveDate),
    Totals(TotalsKey),
}

pub struct ReadCache {
    budget: usize,
    inner: Mutex<Inner>,
}

impl ReadCache {
    /// A cache of at most `budget` figures; 0 caches nothing.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Entries are replaced whole, so a panic elsewhere cannot leave one half-written.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached figures of `key` for the province at `version`.
    pub fn figures(
        &self,
        province_id: i64,
        version: i64,
        key: &FigureKey,
    ) -> Option<Arc<IndicatorFigures>> {
        self.get(province_id, version, |p| p.figures.get_mut(key))
    }

    /// Keeps figures read from the database at `version`.
    pub fn put_figures(
        &self,
        province_id: i64,
        version: i64,
        key: FigureKey,
        data: Arc<IndicatorFigures>,
    ) {
        let size = data.len().max(1);
        self.put(province_id, version, size, |p, entry| {
            p.figures.insert(key, entry(data)).map(|old| old.size)
        });
    }

    /// The cached targets due on or after `date` for the province at `version`.
    pub fn targets(&self, province_id: i64, version: i64, date: NaiveDate) -> Option<Arc<Targets>> {
        self.get(province_id, version, |p| p.targets.get_mut(&date))
    }

    /// Keeps targets read from the database at `version`.
    pub fn put_targets(&self, province_id: i64, version: i64, date: NaiveDate, data: Arc<Targets>) {
        let size = data.len().max(1);
        self.put(province_id, version, size, |p, entry| {
            p.targets.insert(date, entry(data)).map(|old| old.size)
        });
    }

    /// The cached totals of `key` for a scope (a province id, or a country id) at `version`.
    pub fn totals(&self, scope: i64, version: i64, key: &TotalsKey) -> Option<Arc<Totals>> {
        self.get(scope, version, |p| p.totals.get_mut(key))
    }

    /// Keeps totals read from the database at `version`.
    pub fn put_totals(&self, scope: i64, version: i64, key: TotalsKey, data: Arc<Totals>) {
        let size = (data.totals.len() + data.target_sums.len()).max(1);
        self.put(scope, version, size, |p, entry| {
            p.totals.insert(key, entry(data)).map(|old| old.size)
        });
    }

    /// The entry `find` picks among the scope's entries at `version`, marked as used now.
    fn get<T>(
        &self,
        scope: i64,
        version: i64,
        find: impl FnOnce(&mut Province) -> Option<&mut Entry<T>>,
    ) -> Option<Arc<T>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let Inner {
            provinces,
            held,
            clock,
        } = &mut *inner;
        let entry = find(provinces.get_mut(&scope)?.at(version, held)?)?;
        entry.used = *clock;
        Some(entry.data.clone())
    }

    /// Inserts an entry of `size` figures with `insert` (which returns the size of an entry it
    /// replaced), then trims the cache to its budget.
    fn put<T>(
        &self,
        province_id: i64,
        version: i64,
        size: usize,
        insert: impl FnOnce(&mut Province, &dyn Fn(Arc<T>) -> Entry<T>) -> Option<usize>,
    ) {
        if size > self.budget {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let Inner {
            provinces,
            held,
            clock,
        } = &mut *inner;
        let used = *clock;
        let Some(province) = provinces.entry(province_id).or_default().at(version, held) else {
            return;
        };
        let entry = |data| Entry { data, size, used };
        let replaced = insert(province, &entry).unwrap_or(0);
        *held = *held + size - replaced;
        self.trim(&mut inner);
    }

    /// Drops the least recently used entries until the cache holds at most its budget.
    fn trim(&self, inner: &mut Inner) {
        while inner.held > self.budget {
            // The entry used longest ago (keys are cloned only for a new minimum).
            let mut oldest: Option<(u64, i64, Slot)> = None;
            let mut consider = |used: u64, id: i64, slot: &dyn Fn() -> Slot| {
                if oldest.as_ref().is_none_or(|(o, ..)| used < *o) {
                    oldest = Some((used, id, slot()));
                }
            };
            for (id, p) in &inner.provinces {
                for (k, e) in &p.figures {
                    consider(e.used, *id, &|| Slot::Figures(k.clone()));
                }
                for (d, e) in &p.targets {
                    consider(e.used, *id, &|| Slot::Targets(*d));
                }
                for (k, e) in &p.totals {
                    consider(e.used, *id, &|| Slot::Totals(k.clone()));
                }
            }
            let Some((_, id, slot)) = oldest else {
                inner.held = 0;
                return;
            };
            let Some(province) = inner.provinces.get_mut(&id) else {
                return;
            };
            let freed = match slot {
                Slot::Figures(k) => province.figures.remove(&k).map(|e| e.size),
                Slot::Targets(d) => province.targets.remove(&d).map(|e| e.size),
                Slot::Totals(k) => province.totals.remove(&k).map(|e| e.size),
            };
            inner.held -= freed.unwrap_or(0);
        }
    }

    /// Figures held, for tests and metrics.
    pub fn held(&self) -> usize {
        self.lock().held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(indicator: &str) -> FigureKey {
        FigureKey {
            indicator: indicator.into(),
            as_of: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            flow_from: None,
        }
    }

    fn figures(n: i64) -> Arc<IndicatorFigures> {
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        Arc::new(
            (0..n)
                .map(|id| {
                    let f = OwnFigure {
                        value: id as f64,
                        as_of,
                        reports: 1,
                    };
                    (id, f)
                })
                .collect(),
        )
    }

    #[test]
    fn an_entry_is_used_only_at_its_version() {
        let cache = ReadCache::new(100);
        cache.put_figures(1, 3, key("a"), figures(2));
        assert_eq!(cache.figures(1, 3, &key("a")).map(|f| f.len()), Some(2));
        // A reader that read an older version (it raced the write) finds nothing and keeps
        // the newer entries.
        assert!(cache.figures(1, 2, &key("a")).is_none());
        assert!(cache.figures(1, 3, &key("a")).is_some());
        // A newer version drops them.
        assert!(cache.figures(1, 4, &key("a")).is_none());
        assert!(cache.figures(1, 3, &key("a")).is_none());
        assert_eq!(cache.held(), 0);
        // An older version cannot put back what a newer one dropped.
        cache.put_figures(1, 3, key("a"), figures(2));
        assert!(cache.figures(1, 4, &key("a")).is_none());
        assert_eq!(cache.held(), 0);
    }

    #[test]
    fn the_least_recently_used_entries_go_first_beyond_the_budget() {
        let cache = ReadCache::new(10);
        cache.put_figures(1, 1, key("a"), figures(4));
        cache.put_figures(2, 1, key("b"), figures(4));
        assert!(cache.figures(1, 1, &key("a")).is_some());
        cache.put_figures(1, 1, key("c"), figures(4));
        assert_eq!(cache.held(), 8);
        assert!(cache.figures(2, 1, &key("b")).is_none());
        assert!(cache.figures(1, 1, &key("a")).is_some());
        assert!(cache.figures(1, 1, &key("c")).is_some());
        // Replacing an entry counts it once; one larger than the budget is not kept.
        cache.put_figures(1, 1, key("c"), figures(3));
        assert_eq!(cache.held(), 7);
        cache.put_figures(3, 1, key("d"), figures(11));
        assert_eq!(cache.held(), 7);
        let targets = Arc::new(Targets::from_iter([(("a".to_owned(), 5), 10.0)]));
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        cache.put_targets(1, 1, date, targets);
        assert_eq!(cache.targets(1, 1, date).map(|t| t.len()), Some(1));
        assert_eq!(cache.held(), 8);
    }

    #[test]
    fn a_zero_budget_caches_nothing() {
        let cache = ReadCache::new(0);
        cache.put_figures(1, 1, key("a"), figures(1));
        assert!(cache.figures(1, 1, &key("a")).is_none());
    }
}
