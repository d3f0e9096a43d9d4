//! The memory against a model of `latest_value`.

use super::*;
use crate::store::rollups::OPEN_END;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 5).unwrap() + chrono::Duration::days(n)
}

/// `latest_value` as a list of rows, maintained as `write_latest_values` does: an upsert at
/// a date, or the removal of a figure at a date, then every `valid_until` of the series
/// recomputed (the next period end, or open).
#[derive(Default, Clone)]
struct Table {
    rows: Vec<FigureRow>,
}

impl Table {
    fn series(&self, key: &Key) -> Vec<FigureRow> {
        let mut s: Vec<FigureRow> = self
            .rows
            .iter()
            .filter(|r| r.indicator_code == key.0 && r.locality_id == key.1)
            .cloned()
            .collect();
        s.sort_by_key(|r| r.period_end);
        s
    }

    fn write(&mut self, key: &Key, date: NaiveDate, value: Option<(f64, i64)>) {
        let mut s = self.series(key);
        self.rows
            .retain(|r| !(r.indicator_code == key.0 && r.locality_id == key.1));
        s.retain(|r| r.period_end != date);
        if let Some((value, report_id)) = value {
            s.push(FigureRow {
                indicator_code: key.0.clone(),
                locality_id: key.1,
                period_start: date - chrono::Duration::days(6),
                period_end: date,
                value,
                report_id,
                valid_until: OPEN_END,
            });
        }
        s.sort_by_key(|r| r.period_end);
        for i in 0..s.len() {
            s[i].valid_until = s.get(i + 1).map_or(OPEN_END, |n| n.period_end);
        }
        self.rows.extend(s);
    }

    fn load(&self, from: NaiveDate) -> ProvinceFigures {
        let rows = self
            .rows
            .iter()
            .filter(|r| r.valid_until >= from)
            .cloned()
            .collect();
        ProvinceFigures::from_rows(from, rows)
    }

    /// What `in_force::since` returns for an extension: the figures with `valid_until >= from`
    /// ending before `until`, the last of each series ending open (its successor is not read).
    fn since_before(&self, from: NaiveDate, until: NaiveDate) -> Vec<FigureRow> {
        let mut rows: Vec<FigureRow> = self
            .rows
            .iter()
            .filter(|r| r.valid_until >= from && r.period_end < until)
            .cloned()
            .collect();
        rows.sort_by(|a, b| {
            (&a.indicator_code, a.locality_id, a.period_end).cmp(&(
                &b.indicator_code,
                b.locality_id,
                b.period_end,
            ))
        });
        for i in 0..rows.len() {
            let next = rows.get(i + 1).filter(|n| {
                n.indicator_code == rows[i].indicator_code && n.locality_id == rows[i].locality_id
            });
            rows[i].valid_until = next.map_or(OPEN_END, |n| n.period_end);
        }
        rows
    }

    fn in_force_from(&self, date: NaiveDate) -> Vec<String> {
        let mut out: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.valid_until >= date)
            .map(|r| format!("{r:?}"))
            .collect();
        out.sort();
        out
    }
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const CODES: [&str; 2] = ["a", "b"];
const UNITS: [i64; 3] = [1, 2, 3];

fn all_codes() -> Vec<String> {
    CODES.iter().map(|c| (*c).to_owned()).collect()
}

/// Random writes (new weeks, revisions, backfills before what is held, removals) applied to
/// a table and, as the store does, to the held figures: the writer plans its read, extends or
/// loads what is missing, reads, writes and records its change after the commit; now and
/// then another replica writes, or a transaction fails after its lock. What the memory
/// answers always equals what the table holds.
fn run(seed: u64) {
    let mut rng = Rng(seed);
    let mut table = Table::default();
    let memory = FigureMemory::new(10_000);
    let mut version = 0;
    for report_id in 1..=400 {
        let date = day(7 * rng.below(30) as i64);
        let key: Key = (
            CODES[rng.below(2) as usize].to_owned(),
            UNITS[rng.below(3) as usize],
        );
        let value = (rng.below(5) != 0).then(|| (rng.below(100) as f64, report_id));
        // The lock advances the version.
        version += 1;
        if rng.below(10) == 0 {
            // Another replica's write.
            table.write(&key, date, value);
            continue;
        }
        let needed = date - chrono::Duration::days(7 * rng.below(6) as i64);
        match memory.plan(1, version - 1, needed) {
            Plan::Held => {}
            Plan::Extend { from, until } => {
                memory.extend(1, version - 1, from, until, table.since_before(from, until));
            }
            Plan::Load { from } => memory.insert(1, version - 1, table.load(from)),
        }
        let read = memory
            .read(1, version - 1, |p| {
                p.in_force_from(&UNITS, &all_codes(), date)
            })
            .expect("held after the plan's read");
        let mut read: Vec<String> = read.iter().map(|r| format!("{r:?}")).collect();
        read.sort();
        assert_eq!(
            read,
            table.in_force_from(date),
            "read at {date} (seed {seed})"
        );
        if rng.below(15) == 0 {
            // The transaction fails after its lock: the version goes back with it.
            version -= 1;
            continue;
        }
        table.write(&key, date, value);
        let after: Vec<Figure> = table
            .series(&key)
            .into_iter()
            .filter(|r| r.valid_until >= date)
            .map(|r| Figure {
                period_start: r.period_start,
                period_end: r.period_end,
                value: r.value,
                report_id: r.report_id,
                valid_until: r.valid_until,
            })
            .collect();
        memory.update(1, version, |p| {
            p.replace_from(&key, date, &after);
            p.trim_before(needed);
        });
        // Whatever is held equals the table from its `from` on.
        let (from, figures) = memory
            .read(1, version, |p| Some((p.from(), p.clone())))
            .expect("held after the update");
        assert_eq!(
            figures,
            table.load(from),
            "held after {report_id} (seed {seed})"
        );
        assert_eq!(memory.held(), figures.size());
        // The figure in force on a date, for every series, from `from` on (and none before it).
        for code in all_codes() {
            for unit in UNITS {
                let key = (code.clone(), unit);
                for d in [from, date, date + chrono::Duration::days(3), day(7 * 31)] {
                    let expected = table
                        .series(&key)
                        .into_iter()
                        .find(|r| r.period_end <= d && d < r.valid_until)
                        .map(|r| (r.value, r.report_id));
                    let held = figures
                        .in_force_on(&key.0, key.1, d)
                        .expect("held from `from` on");
                    assert_eq!(
                        held.map(|f| (f.value, f.report_id)),
                        expected,
                        "{key:?} on {d}"
                    );
                }
                assert_eq!(
                    figures.in_force_on(&key.0, key.1, from - chrono::Duration::days(1)),
                    None
                );
            }
        }
        let since = date - chrono::Duration::days(35);
        if let Some(history) = figures.history(&all_codes(), &UNITS, since, date, 4) {
            for ((code, unit), values) in &history {
                let expected: Vec<f64> = table
                    .series(&(code.clone(), *unit))
                    .iter()
                    .filter(|r| r.period_end > since && r.period_end < date)
                    .map(|r| r.value)
                    .collect();
                let skip = expected.len().saturating_sub(4);
                assert_eq!(values, &expected[skip..].to_vec());
            }
            let held_keys = history.len();
            let expected_keys = table
                .rows
                .iter()
                .filter(|r| r.period_end > since && r.period_end < date)
                .map(|r| (r.indicator_code.clone(), r.locality_id))
                .collect::<std::collections::HashSet<_>>()
                .len();
            assert_eq!(held_keys, expected_keys);
        }
        let superseded = figures.keys_of_report_at(date, report_id);
        if let Some(mut keys) = superseded {
            keys.sort();
            let expected: Vec<Key> = match value {
                Some(_) => vec![key.clone()],
                None => vec![],
            };
            assert_eq!(keys, expected);
        }
    }
}

#[test]
fn held_figures_equal_the_table_through_random_writes_backfills_and_other_writers() {
    for seed in [3, 17, 99, 1234, 77_777] {
        run(seed);
    }
}

fn figures(n: usize) -> ProvinceFigures {
    let rows = (0..n)
        .map(|i| FigureRow {
            indicator_code: "a".into(),
            locality_id: i as i64,
            period_start: day(0),
            period_end: day(6),
            value: 1.0,
            report_id: 1,
            valid_until: OPEN_END,
        })
        .collect();
    ProvinceFigures::from_rows(day(0), rows)
}

#[test]
fn figures_are_used_only_at_their_version_and_a_stale_update_drops_them() {
    let memory = FigureMemory::new(100);
    memory.insert(1, 5, figures(3));
    assert!(memory.read(1, 4, |p| Some(p.size())).is_none());
    assert_eq!(memory.read(1, 5, |p| Some(p.size())), Some(3));
    // The write that made 6 applies its change on top of 5: the figure of locality 0 ends on
    // day 13, so advancing to day 100 drops it and keeps the two still in force.
    let key = ("a".to_owned(), 0);
    memory.update(1, 6, |p| {
        let ended = Figure {
            period_start: day(0),
            period_end: day(6),
            value: 1.0,
            report_id: 1,
            valid_until: day(13),
        };
        p.replace_from(&key, day(6), &[ended]);
        p.advance(day(100));
    });
    assert_eq!(memory.version_of(1), Some(6));
    assert_eq!(
        memory.held(),
        2,
        "advancing dropped the figure ended before it"
    );
    // A write at 8 finds 6: another writer made 7 in between.
    memory.update(1, 8, |_| panic!("a stale province is not changed"));
    assert_eq!(memory.version_of(1), None);
}

#[test]
fn the_least_recently_used_province_goes_beyond_the_budget() {
    let memory = FigureMemory::new(10);
    memory.insert(1, 1, figures(4));
    memory.insert(2, 1, figures(4));
    assert!(memory.read(1, 1, |_| Some(())).is_some());
    memory.insert(3, 1, figures(4));
    assert_eq!(memory.version_of(2), None);
    assert_eq!(memory.held(), 8);
    // A province larger than the budget is not held.
    memory.insert(4, 1, figures(11));
    assert_eq!(memory.version_of(4), None);
    assert_eq!(memory.held(), 8);
}

#[test]
fn room_is_left_below_seven_eighths_of_the_budget() {
    let memory = FigureMemory::new(16);
    assert!(memory.has_room());
    memory.insert(1, 1, figures(14));
    assert!(memory.has_room(), "14 of 16 is seven eighths");
    memory.insert(2, 1, figures(1));
    assert!(!memory.has_room(), "15 of 16");
    // Another writer made versions 2 to 4 of province 1: it is dropped as stale, and room is
    // made.
    memory.update(1, 5, |_| panic!("a stale province is not changed"));
    assert_eq!(memory.held(), 1);
    assert!(memory.has_room());
}
