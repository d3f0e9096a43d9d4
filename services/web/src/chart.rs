//! Pictures drawn on the server as inline SVG (no script needed to see them; styled by the
//! service's stylesheet through classes, since the Content-Security-Policy forbids inline
//! styles): progress bars and weekly trend lines.

use chrono::NaiveDate;

use crate::format::{self, Lang};

/// Escapes text for SVG/HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A horizontal bar filled to `percent` (clamped to 0–100; the label says the real figure).
/// `tone` is a CSS class suffix: `good`, `warn`, `bad`.
pub fn bar(percent: Option<f64>, label: &str) -> String {
    let width = percent.unwrap_or(0.0).clamp(0.0, 100.0);
    let tone = match percent {
        None => "none",
        Some(p) if p >= 100.0 => "good",
        Some(p) if p >= 50.0 => "warn",
        Some(_) => "bad",
    };
    format!(
        r#"<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{}"><rect class="bar-bg" width="100" height="10"/><rect class="bar-{tone}" width="{width:.1}" height="10"/></svg>"#,
        escape(label)
    )
}

/// A compact bar for table rows, hidden from screen readers (the cell's text says the figure).
pub fn mini_bar(percent: Option<f64>) -> String {
    let tone = match percent {
        None => "none",
        Some(p) if p >= 100.0 => "good",
        Some(p) if p >= 50.0 => "warn",
        Some(_) => "bad",
    };
    format!(
        r#"<svg class="mini {tone}" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true"><rect width="{:.1}" height="1"/></svg>"#,
        percent.unwrap_or(0.0).clamp(0.0, 100.0)
    )
}

/// A bar of the share of units lagging (`percent` of them below a threshold), in the warning
/// colour: the longer, the worse.
pub fn lag_bar(percent: f64, label: &str) -> String {
    format!(
        r#"<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{}"><rect class="bar-bg" width="100" height="10"/><rect class="bar-bad" width="{:.1}" height="10"/></svg>"#,
        escape(label),
        percent.clamp(0.0, 100.0)
    )
}

/// Chart geometry.
const W: f64 = 320.0;
const H: f64 = 120.0;
const LEFT: f64 = 6.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 20.0;

/// A weekly trend: one point per date (absent values leave a gap), the target as a dashed line.
/// `reform`: the index of the first point in the units of today's edition when the points before
/// it are carried from an older one (history across the 2025 reform), marked by a vertical line.
pub fn trend(
    lang: Lang,
    title: &str,
    points: &[(NaiveDate, Option<f64>)],
    target: Option<f64>,
    reform: Option<usize>,
) -> String {
    let present: Vec<f64> = points.iter().filter_map(|(_, v)| *v).collect();
    if points.len() < 2 || present.is_empty() {
        return String::new();
    }
    // The scale spans the values (and the target) with a margin, not from zero: a week's change
    // of a large stock must be visible; the axis labels say where the scale starts.
    let lo_raw = present
        .iter()
        .copied()
        .chain(target)
        .fold(f64::INFINITY, f64::min);
    let hi_raw = present
        .iter()
        .copied()
        .chain(target)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = (hi_raw - lo_raw).max(hi_raw.abs() * 0.01).max(1.0);
    let (lo, top) = ((lo_raw - span * 0.08).max(0.0), hi_raw + span * 0.08);
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / (points.len() - 1) as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (top - lo));
    let first = points.first().map(|(d, _)| *d);
    let last = points.last().map(|(d, _)| *d);
    let summary = format!(
        "{title}: {} → {}",
        present
            .first()
            .map_or_else(String::new, |v| format::figure(lang, *v)),
        present
            .last()
            .map_or_else(String::new, |v| format::figure(lang, *v)),
    );
    let mut svg = format!(
        r#"<svg class="trend" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        escape(&summary)
    );
    svg.push_str(&format!(
        r#"<line class="axis" x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}"/>"#,
        H - BOTTOM,
        W - RIGHT
    ));
    if lo > 0.0 {
        svg.push_str(&format!(
            r#"<text class="label" x="{0:.1}" y="{1:.1}" text-anchor="end">{2}</text>"#,
            W - RIGHT,
            H - BOTTOM - 3.0,
            escape(&format::figure(lang, lo.round()))
        ));
    }
    if let Some(t) = target {
        svg.push_str(&format!(
            r#"<line class="target" x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}"/><text class="label" x="{1:.1}" y="{2:.1}" text-anchor="end">{3} {4}</text>"#,
            y(t),
            W - RIGHT,
            (y(t) - 3.0).max(9.0),
            escape(crate::i18n::texts(lang).target),
            escape(&format::figure(lang, t)),
        ));
    }
    if let Some(k) = reform.filter(|k| (1..points.len()).contains(k)) {
        // Half-way between the last carried point and the first in today's units.
        let at = (x(k - 1) + x(k)) / 2.0;
        svg.push_str(&format!(
            r#"<line class="reform" x1="{at:.1}" y1="{TOP}" x2="{at:.1}" y2="{0:.1}"/><text class="label" x="{1:.1}" y="{2:.1}">{3}</text>"#,
            H - BOTTOM,
            at + 2.0,
            TOP + 9.0,
            escape(crate::i18n::texts(lang).reform_mark),
        ));
    }
    // One polyline per run of present values.
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, svg: &mut String| {
        if run.len() > 1 {
            svg.push_str(&format!(
                r#"<polyline class="line" points="{}"/>"#,
                run.join(" ")
            ));
        }
        run.clear();
    };
    for (i, (_, v)) in points.iter().enumerate() {
        match v {
            Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(*v))),
            None => flush(&mut run, &mut svg),
        }
    }
    flush(&mut run, &mut svg);
    for (i, (d, v)) in points.iter().enumerate() {
        if let Some(v) = v {
            svg.push_str(&format!(
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="2.5"><title>{}: {}</title></circle>"#,
                x(i),
                y(*v),
                escape(&format::date(lang, *d)),
                escape(&format::figure(lang, *v)),
            ));
        }
    }
    if let (Some(first), Some(last)) = (first, last) {
        svg.push_str(&format!(
            r#"<text class="label" x="{LEFT}" y="{0}">{1}</text><text class="label" x="{2}" y="{0}" text-anchor="end">{3}</text>"#,
            H - 5.0,
            escape(&format::short_date(lang, first)),
            W - RIGHT,
            escape(&format::short_date(lang, last)),
        ));
    }
    if let Some(v) = present.last() {
        svg.push_str(&format!(
            r#"<text class="label strong" x="{LEFT}" y="11">{}</text>"#,
            escape(&format::figure(lang, *v))
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, day).unwrap()
    }

    #[test]
    fn bars_are_clamped_and_toned() {
        let b = bar(Some(140.0), "140 %");
        assert!(b.contains(r#"class="bar-good" width="100.0""#), "{b}");
        assert!(bar(Some(40.8), "x").contains(r#"class="bar-bad" width="40.8""#));
        assert!(bar(None, "x").contains(r#"class="bar-none" width="0.0""#));
        assert!(bar(Some(1.0), "<b>").contains("aria-label=\"&lt;b&gt;\""));
    }

    #[test]
    fn a_trend_draws_points_gaps_and_the_target() {
        let points = [
            (d(2), Some(10.0)),
            (d(9), None),
            (d(16), Some(20.0)),
            (d(23), Some(30.0)),
        ];
        let svg = trend(Lang::Vi, "Tài khoản <mức 2>", &points, Some(40.0), None);
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3);
        // the gap splits the line: only the run of two present values is drawn
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("class=\"target\""));
        assert!(svg.contains("Chỉ tiêu 40"));
        assert!(svg.contains("02/03") && svg.contains("23/03"));
        assert!(svg.contains("&lt;mức 2&gt;"));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn a_trend_across_the_reform_marks_where_carried_points_end() {
        let points = [(d(2), Some(10.0)), (d(9), Some(12.0)), (d(16), Some(20.0))];
        let across = trend(Lang::Vi, "x", &points, None, Some(2));
        assert_eq!(across.matches("class=\"reform\"").count(), 1, "{across}");
        assert!(across.contains("sắp xếp 1/7/2025"));
        // Half-way between the second point (x 160) and the third (x 314).
        assert!(across.contains(r#"x1="237.0""#), "{across}");
        assert!(trend(Lang::En, "x", &points, None, Some(2)).contains("reform 1/7/2025"));
        // No mark without carried points before, nor at the first point.
        for reform in [None, Some(0), Some(3)] {
            assert!(!trend(Lang::Vi, "x", &points, None, reform).contains("class=\"reform\""));
        }
    }

    #[test]
    fn nothing_to_draw_draws_nothing() {
        assert_eq!(
            trend(Lang::Vi, "x", &[(d(2), None), (d(9), None)], None, None),
            ""
        );
        assert_eq!(trend(Lang::Vi, "x", &[(d(2), Some(1.0))], None, None), "");
    }
}
