//! The stored layout of a revision's figures: one JSON document per revision, in
//! `report.figures` (migration 24).
//!
//! ```text
//! {"<indicator code>": [[<locality id>, <value>], [<locality id>, <value>, <carried from>], …], …}
//! ```
//!
//! Indicators in code order (bytewise), each one's figures by ascending locality id; the third
//! element only on a figure an amendment carried forward: the revision that sent it. Values are
//! written in their shortest exact form and read back to the same `f64`.
//!
//! A revision is written once and never changed, and its figures are read whole (a report, an
//! amendment's starting point) or by indicator (the "known at" views): one document per revision
//! costs the database one value to store instead of a row and an index entry per figure. The
//! questions asked across revisions — figures in force, roll-ups — are answered by the read model,
//! which keeps a row per figure.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

/// One figure of a revision, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFigure {
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
    /// The revision that sent the figure, when this one carried it forward (an amendment).
    pub carried_from: Option<i64>,
}

/// A figure to store, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FigureRef<'a> {
    pub indicator_code: &'a str,
    pub locality_id: i64,
    pub value: f64,
    pub carried_from: Option<i64>,
}

/// Why a document could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    /// JSON has no NaN or infinity; validation refuses them before a report is stored.
    #[error("figure {indicator_code} at locality {locality_id} is not a finite number")]
    NotFinite {
        indicator_code: String,
        locality_id: i64,
    },
    #[error("stored figures are not in the expected layout: {0}")]
    Layout(#[from] serde_json::Error),
}

/// (locality, value, carried from): one element of an indicator's list.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Element(i64, f64, Option<i64>);

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(if self.2.is_some() { 3 } else { 2 })?;
        tuple.serialize_element(&self.0)?;
        tuple.serialize_element(&self.1)?;
        if let Some(from) = self.2 {
            tuple.serialize_element(&from)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[locality id, value] or [locality id, value, carried from]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
                let locality = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let value = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let carried = seq.next_element()?;
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(4, &self));
                }
                Ok(Element(locality, value, carried))
            }
        }
        deserializer.deserialize_seq(ElementVisitor)
    }
}

/// The document of `figures`, in the layout above whatever their order.
pub fn encode<'a>(
    figures: impl IntoIterator<Item = FigureRef<'a>>,
) -> Result<String, FiguresError> {
    let mut by_code: BTreeMap<&str, Vec<Element>> = BTreeMap::new();
    for f in figures {
        if !f.value.is_finite() {
            return Err(FiguresError::NotFinite {
                indicator_code: f.indicator_code.to_owned(),
                locality_id: f.locality_id,
            });
        }
        by_code.entry(f.indicator_code).or_default().push(Element(
            f.locality_id,
            f.value,
            f.carried_from,
        ));
    }
    for elements in by_code.values_mut() {
        elements.sort_by_key(|e| e.0);
    }
    Ok(serde_json::to_string(&by_code)?)
}

/// Every figure of a document, by indicator code then locality id.
pub fn decode(document: &str) -> Result<Vec<StoredFigure>, FiguresError> {
    decode_where(document, |_| true)
}

/// The figures of the indicators `keep` accepts, by indicator code then locality id; the others
/// are skipped without being read into values.
pub fn decode_where(
    document: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<StoredFigure>, FiguresError> {
    let mut out = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(document);
    Document {
        keep: &keep,
        out: &mut out,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(out)
}

/// Reads a document's map into `out`, indicator by indicator.
struct Document<'k, 'o, K> {
    keep: &'k K,
    out: &'o mut Vec<StoredFigure>,
}

impl<'de, K: Fn(&str) -> bool> DeserializeSeed<'de> for Document<'_, '_, K> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, K: Fn(&str) -> bool> Visitor<'de> for Document<'_, '_, K> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of indicator codes to lists of figures")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(code) = map.next_key::<String>()? {
            if !(self.keep)(&code) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let elements: Vec<Element> = map.next_value()?;
            self.out.extend(elements.into_iter().map(|e| StoredFigure {
                indicator_code: code.clone(),
                locality_id: e.0,
                value: e.1,
                carried_from: e.2,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(code: &str, locality: i64, value: f64, carried: Option<i64>) -> FigureRef<'_> {
        FigureRef {
            indicator_code: code,
            locality_id: locality,
            value,
            carried_from: carried,
        }
    }

    #[test]
    fn the_layout_is_grouped_by_indicator_in_order() {
        let text = encode([
            figure("b.two", 7, 2.5, None),
            figure("a.one", 9, 1.0, Some(41)),
            figure("a.one", 3, 0.1, None),
        ])
        .unwrap();
        assert_eq!(text, r#"{"a.one":[[3,0.1],[9,1.0,41]],"b.two":[[7,2.5]]}"#);
    }

    #[test]
    fn figures_come_back_exact() {
        // Values whose shortest decimal form needs all 17 digits, and the extremes of `f64`.
        let values = [
            0.1 + 0.2,
            1.0 / 3.0,
            2.0f64.powi(53) + 2.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -0.0,
            123_456_789.123_456_78,
            9_007_199_254_740_993.0,
        ];
        let sent: Vec<FigureRef<'_>> = values
            .iter()
            .enumerate()
            .map(|(i, v)| figure("x.value", i as i64, *v, (i % 2 == 0).then_some(i as i64)))
            .collect();
        let back = decode(&encode(sent.iter().copied()).unwrap()).unwrap();
        assert_eq!(back.len(), values.len());
        for (b, s) in back.iter().zip(&sent) {
            assert_eq!(b.value.to_bits(), s.value.to_bits(), "{}", s.value);
            assert_eq!(
                (b.indicator_code.as_str(), b.locality_id, b.carried_from),
                (s.indicator_code, s.locality_id, s.carried_from)
            );
        }
    }

    #[test]
    fn chosen_indicators_only() {
        let text = encode([
            figure("a", 1, 1.0, None),
            figure("b", 1, 2.0, None),
            figure("c", 2, 3.0, Some(5)),
        ])
        .unwrap();
        let found = decode_where(&text, |c| c != "b").unwrap();
        let codes: Vec<&str> = found.iter().map(|f| f.indicator_code.as_str()).collect();
        assert_eq!(codes, ["a", "c"]);
        assert_eq!(decode("{}").unwrap(), Vec::new());
    }

    #[test]
    fn refusals_name_their_subject() {
        let err = encode([figure("a.rate", 12, f64::NAN, None)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "figure a.rate at locality 12 is not a finite number"
        );
        for broken in [
            r#"{"a":[[1]]}"#,
            r#"{"a":[[1,2,3,4]]}"#,
            r#"["a"]"#,
            r#"{"a":[]} x"#,
        ] {
            let err = decode(broken).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("stored figures are not in the expected layout"),
                "{broken}: {err}"
            );
        }
    }
}
