//! One language per output: Vietnamese by default, English with `--lang en` (or `P06_LANG=en`).
//!
//! Tables, receipts and errors are written in the chosen language (words, number and date
//! formats); JSON and CSV keep the stable codes and ISO dates whatever the language.

use std::sync::OnceLock;

use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// Tiếng Việt: 704.828, 40,8 %, 22/03/2025.
    #[default]
    Vi,
    /// English: 704,828, 40.8 %, 2025-03-22.
    En,
}

static LANG: OnceLock<Lang> = OnceLock::new();

/// Sets the language of this process's output (once, in `main`).
pub fn set(lang: Lang) {
    let _ = LANG.set(lang);
}

/// The language of this process's output.
pub fn get() -> Lang {
    LANG.get().copied().unwrap_or_else(from_env)
}

/// How a revision was stored, for the receipt: "thay thế toàn bộ" / "replace", or an amendment with
/// the number of figures it carried from the earlier revision.
pub fn revision_mode(mode: p06_proto::aggregation::RevisionMode, carried: i32) -> String {
    use p06_proto::aggregation::RevisionMode;
    match mode {
        RevisionMode::Amend if carried > 0 => tr(
            format!(
                "sửa đổi, bổ sung — giữ nguyên {} số liệu của lần nộp trước",
                number(f64::from(carried), 0)
            ),
            format!(
                "amend — {} figure{} carried from the earlier revision",
                number(f64::from(carried), 0),
                if carried == 1 { "" } else { "s" }
            ),
        ),
        RevisionMode::Amend => tr(
            "sửa đổi, bổ sung (không có số liệu trước đó để giữ)".to_owned(),
            "amend (no earlier figures to carry)".to_owned(),
        ),
        _ => tr("thay thế toàn bộ".to_owned(), "replace".to_owned()),
    }
}

/// `P06_LANG` (`vi` or `en`, also `en_US` and the like), Vietnamese otherwise.
pub fn from_env() -> Lang {
    match std::env::var("P06_LANG") {
        Ok(v) if v.to_ascii_lowercase().starts_with("en") => Lang::En,
        _ => Lang::Vi,
    }
}

/// The Vietnamese or the English text, by the output language.
pub fn tr<T>(vi: T, en: T) -> T {
    match get() {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// 704828 → "704.828" (vi) / "704,828" (en); 40.83 → "40,8" / "40.8" with one decimal.
pub fn number(value: f64, decimals: usize) -> String {
    format_number(get(), value, decimals)
}

pub fn format_number(lang: Lang, value: f64, decimals: usize) -> String {
    let (group, point) = match lang {
        Lang::Vi => ('.', ','),
        Lang::En => (',', '.'),
    };
    p06_domain::text::grouped(value, decimals, group, point)
}

/// A count without decimals, a fractional value with one ("40,5").
pub fn figure(value: f64) -> String {
    if value.fract() == 0.0 {
        number(value, 0)
    } else {
        number(value, 1)
    }
}

/// 22/03/2025 (vi) or 2025-03-22 (en).
pub fn date(d: NaiveDate) -> String {
    match get() {
        Lang::Vi => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// A date and time of day in the reader's language (the time zone is the caller's business).
pub fn date_time(t: chrono::NaiveDateTime) -> String {
    match get() {
        Lang::Vi => t.format("%H:%M ngày %d/%m/%Y").to_string(),
        Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// A duration the way people say it: "3 giờ 20 phút", "2 ngày 4 giờ" / "3 h 20 min", "2 d 4 h".
pub fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    let units = tr(["ngày", "giờ", "phút"], ["d", "h", "min"]);
    let parts: Vec<String> = if d > 0 {
        [(d, units[0]), (h, units[1])].to_vec()
    } else {
        [(h, units[1]), (m, units[2])].to_vec()
    }
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}"))
    .collect();
    if parts.is_empty() {
        tr(format!("{seconds} giây"), format!("{seconds} s"))
    } else {
        parts.join(" ")
    }
}

/// A receipt's timeliness in words (the proto enum name stays in JSON/CSV).
pub fn timeliness(name: &str) -> String {
    let words = match name {
        "TIMELINESS_ON_TIME" => ("đúng hạn", "on time"),
        "TIMELINESS_LATE" => ("trễ hạn", "late"),
        "TIMELINESS_NOT_EVALUATED" => ("không có hạn nộp để đánh giá", "no deadline to judge by"),
        "MISSING" => ("chưa nộp", "not submitted"),
        _ => ("không rõ", "unknown"),
    };
    tr(words.0, words.1).to_owned()
}

/// A flag kind in words: "THIẾU BÁO CÁO" / "MISSING REPORT".
pub fn flag_kind(kind: &str) -> String {
    let words = match kind {
        "MISSING" => ("THIẾU BÁO CÁO", "MISSING REPORT"),
        "LATE" => ("NỘP TRỄ", "LATE"),
        "VAGUE" => ("CHUNG CHUNG", "VAGUE"),
        "STOCK_DECREASE" => ("SỐ LŨY KẾ GIẢM", "CUMULATIVE FIGURE FELL"),
        "TREND_JUMP" => ("BIẾN ĐỘNG BẤT THƯỜNG", "UNUSUAL JUMP"),
        "ABOVE_DENOMINATOR" => ("VƯỢT MẪU SỐ", "ABOVE DENOMINATOR"),
        "NARRATIVE_MISMATCH" => ("SỐ LIỆU THUYẾT MINH SAI", "NARRATIVE MISMATCH"),
        "CROSS_AGENCY_MISMATCH" => ("VÊNH GIỮA CÁC CƠ QUAN", "CROSS-AGENCY MISMATCH"),
        other => return other.to_owned(),
    };
    tr(words.0, words.1).to_owned()
}

/// A flag state in words.
pub fn flag_state(state: &str) -> String {
    let words = match state {
        "OPEN" => ("đang mở", "open"),
        "RESOLVED" => ("đã xử lý", "resolved"),
        other => return other.to_owned(),
    };
    tr(words.0, words.1).to_owned()
}

/// An agency code in words.
pub fn agency(code: &str) -> String {
    let words = match code {
        "police" => ("Công an", "Police"),
        "health" => ("BHXH / Y tế", "Health & social insurance"),
        "justice" => ("Tư pháp", "Justice"),
        "taskforce" => ("Tổ công tác", "Task force"),
        other => return other.to_owned(),
    };
    tr(words.0, words.1).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_follow_the_language() {
        assert_eq!(format_number(Lang::Vi, 704_828.0, 0), "704.828");
        assert_eq!(format_number(Lang::Vi, 40.83, 1), "40,8");
        assert_eq!(format_number(Lang::Vi, 1_494_541.0, 0), "1.494.541");
        assert_eq!(format_number(Lang::Vi, -8_221.0, 0), "-8.221");
        assert_eq!(format_number(Lang::Vi, 109.0, 0), "109");
        assert_eq!(format_number(Lang::En, 704_828.0, 0), "704,828");
        assert_eq!(format_number(Lang::En, 40.83, 1), "40.8");
        assert_eq!(format_number(Lang::En, -0.04, 1), "0.0");
    }
}
