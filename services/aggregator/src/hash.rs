//! The hash maps of the write path, the consistency rules and the catalog.
//!
//! A province report looks up each of its thousand figures in a dozen maps (its series, their
//! history, targets, roll-up nodes, the catalog's localities and indicators). With the standard
//! library's SipHash, hashing was ≈ 8 % of the aggregator's CPU during province reports (README
//! "Performance"); FxHash costs a fraction of that. SipHash resists keys chosen to collide; these
//! maps need not: their keys are codes and ids the aggregator validated against its catalog or
//! read from its own tables, and a caller's unknown code is only ever looked up, never inserted.

/// A hash map keyed by validated codes and ids ([`rustc_hash::FxHashMap`]).
pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A hash set of validated codes and ids ([`rustc_hash::FxHashSet`]).
pub type FastSet<T> = rustc_hash::FxHashSet<T>;

/// A series-keyed map (indicator code, locality id) as a map looked up by a borrowed code: one
/// pass over `map` instead of a copied code per look-up.
pub fn by_code<V>(map: &FastMap<(String, i64), V>) -> FastMap<(&str, i64), &V> {
    map.iter()
        .map(|((c, l), v)| ((c.as_str(), *l), v))
        .collect()
}
