//! The page's words in Vietnamese (the default) and English. Codes (flag kinds, timeliness,
//! vagueness reasons, agencies) become words here; CSV downloads keep the codes.

mod carried;
mod en;
mod vi;
pub use carried::{Carried, carried_note};
pub use en::EN;
pub use vi::VI;

use crate::format::Lang;

/// Every fixed text of the pages.
pub struct Texts {
    pub app: &'static str,
    pub skip: &'static str,
    pub nav_overview: &'static str,
    pub nav_districts: &'static str,
    pub nav_communes: &'static str,
    pub nav_compliance: &'static str,
    pub nav_flags: &'static str,
    pub nav_country: &'static str,
    pub nav_label: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub other_lang: &'static str,
    pub other_lang_code: &'static str,
    pub token_label: &'static str,
    pub token_help: &'static str,
    pub signin_intro: &'static str,
    pub as_of: &'static str,
    pub compare_to: &'static str,
    pub show: &'static str,
    pub download_csv: &'static str,
    /// The same table as a workbook.
    pub download_xlsx: &'static str,
    /// The chase-up letter's download on the compliance page.
    pub download_letter: &'static str,
    pub value: &'static str,
    pub target: &'static str,
    pub of_target: &'static str,
    pub of_denominator: &'static str,
    pub change: &'static str,
    pub since: &'static str,
    pub met_target: &'static str,
    pub communes_met: &'static str,
    pub completeness: &'static str,
    pub reporting: &'static str,
    pub oldest_figure: &'static str,
    pub reports_included: &'static str,
    pub no_data: &'static str,
    pub no_indicators: &'static str,
    pub lowest: &'static str,
    pub trend: &'static str,
    pub weeks: &'static str,
    pub indicator: &'static str,
    pub threshold: &'static str,
    pub sort: &'static str,
    pub sort_below: &'static str,
    pub sort_share: &'static str,
    pub sort_name: &'static str,
    pub sort_percent: &'static str,
    pub district: &'static str,
    pub districts_caption: &'static str,
    pub below_threshold: &'static str,
    pub without_data: &'static str,
    pub with_target: &'static str,
    pub communes_of: &'static str,
    pub whole_province: &'static str,
    pub commune: &'static str,
    pub communes_caption: &'static str,
    pub rank: &'static str,
    pub code: &'static str,
    pub name: &'static str,
    pub residents: &'static str,
    pub below_percent: &'static str,
    pub search_name: &'static str,
    pub rows_shown: &'static str,
    pub compliance_caption: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub agency: &'static str,
    pub all_agencies: &'static str,
    pub obligation: &'static str,
    pub expected: &'static str,
    pub received: &'static str,
    pub on_time: &'static str,
    pub late: &'static str,
    pub missing: &'static str,
    pub pending: &'static str,
    pub early: &'static str,
    pub vague: &'static str,
    pub reporting_rate: &'static str,
    pub on_time_rate: &'static str,
    pub worst_lateness: &'static str,
    pub vague_reasons: &'static str,
    pub consistency_flags: &'static str,
    pub see_flags: &'static str,
    pub see_reports: &'static str,
    pub open_flags: &'static str,
    pub flags_caption: &'static str,
    pub kind: &'static str,
    pub all_kinds: &'static str,
    pub period: &'static str,
    pub report: &'static str,
    pub locality: &'static str,
    pub message: &'static str,
    pub raised: &'static str,
    pub state: &'static str,
    pub live: &'static str,
    pub no_flags: &'static str,
    pub receipt: &'static str,
    pub revision: &'static str,
    pub payload_sha256: &'static str,
    pub receive_time: &'static str,
    pub deadline: &'static str,
    pub timeliness: &'static str,
    pub specificity: &'static str,
    pub reasons: &'static str,
    pub submitted_by: &'static str,
    pub narrative: &'static str,
    pub assessment: &'static str,
    pub obstacles: &'static str,
    pub proposals: &'static str,
    pub observations: &'static str,
    pub observations_shown: &'static str,
    pub revisions: &'static str,
    pub revisions_caption: &'static str,
    pub what_changed: &'static str,
    pub this_revision: &'static str,
    pub no_earlier: &'static str,
    pub reports_caption: &'static str,
    pub provinces_caption: &'static str,
    pub province: &'static str,
    pub open: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found: &'static str,
    pub error_unavailable: &'static str,
    pub error_bad_request: &'static str,
    pub error_internal: &'static str,
    pub error_forbidden_help: &'static str,
    pub error_unavailable_help: &'static str,
    pub back_home: &'static str,
    pub signin_bad_token: &'static str,
    pub signin_expired: &'static str,
    pub signin_not_task_force: &'static str,
    pub signin_refused: &'static str,
    pub signin_link_used: &'static str,
    pub csrf_refused: &'static str,
    pub footer: &'static str,
    pub nav_upload: &'static str,
    pub upload_title: &'static str,
    pub upload_intro: &'static str,
    pub template_heading: &'static str,
    pub day_of_period: &'static str,
    pub download_template: &'static str,
    pub upload_heading: &'static str,
    pub upload_file: &'static str,
    pub upload_totals: &'static str,
    pub totals_check: &'static str,
    pub totals_ignore: &'static str,
    pub upload_mode: &'static str,
    pub mode_replace: &'static str,
    pub mode_amend: &'static str,
    pub upload_obligation: &'static str,
    pub from_workbook: &'static str,
    pub upload_submit: &'static str,
    pub problems_heading: &'static str,
    pub cell: &'static str,
    pub problem: &'static str,
    pub upload_done: &'static str,
    pub view_report: &'static str,
    pub upload_not_reporter: &'static str,
    pub upload_too_large: &'static str,
    pub upload_bad_form: &'static str,
    /// Pace to target (issue 24).
    pub pace: &'static str,
    pub pace_recent: &'static str,
    pub pace_needed: &'static str,
    pub pace_projected: &'static str,
    pub pace_due: &'static str,
    pub pace_any: &'static str,
    pub per_week: &'static str,
    /// The figures as known at an instant.
    pub known_at: &'static str,
    pub known_at_note: &'static str,
    /// The trend chart's mark of the 2025 reform (points before it carried from edition 2024).
    pub reform_mark: &'static str,
}

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// A flag kind in words.
pub fn flag_kind(lang: Lang, kind: &str) -> String {
    let (vi, en) = match kind {
        "MISSING" => ("Không nộp báo cáo", "Missing report"),
        "LATE" => ("Nộp trễ hạn", "Late report"),
        "VAGUE" => ("Báo cáo chung chung", "Vague report"),
        "STOCK_DECREASE" => ("Số lũy kế giảm", "Cumulative figure decreased"),
        "TREND_JUMP" => ("Biến động bất thường", "Unusual jump"),
        "ABOVE_DENOMINATOR" => ("Vượt mẫu số", "Above its denominator"),
        "NARRATIVE_MISMATCH" => (
            "Thuyết minh sai số liệu",
            "Narrative contradicts the figures",
        ),
        "CROSS_AGENCY_MISMATCH" => (
            "Vênh số liệu giữa các cơ quan",
            "Above another agency's figure",
        ),
        other => return other.to_owned(),
    };
    pick(lang, vi, en).to_owned()
}

/// The flag kinds the aggregator raises, for filters.
pub const FLAG_KINDS: [&str; 8] = [
    "MISSING",
    "LATE",
    "VAGUE",
    "STOCK_DECREASE",
    "TREND_JUMP",
    "ABOVE_DENOMINATOR",
    "NARRATIVE_MISMATCH",
    "CROSS_AGENCY_MISMATCH",
];

/// The reporting agencies, for filters.
pub const AGENCIES: [&str; 3] = ["police", "health", "justice"];

pub fn agency(lang: Lang, code: &str) -> String {
    let (vi, en) = match code {
        "police" => ("Công an", "Police"),
        "health" => ("BHXH / Y tế", "Social insurance / Health"),
        "justice" => ("Tư pháp", "Justice"),
        "taskforce" => ("Tổ công tác", "Task force"),
        other => return other.to_owned(),
    };
    pick(lang, vi, en).to_owned()
}

pub fn flag_state(lang: Lang, state: &str) -> String {
    match state {
        "OPEN" => pick(lang, "Đang mở", "Open").to_owned(),
        "RESOLVED" => pick(lang, "Đã xử lý", "Resolved").to_owned(),
        other => other.to_owned(),
    }
}

/// Timeliness of a receipt (the proto enum's number).
pub fn timeliness(lang: Lang, value: i32) -> String {
    match value {
        1 => pick(lang, "Đúng hạn", "On time"),
        2 => pick(lang, "Trễ hạn", "Late"),
        3 => pick(
            lang,
            "Không đánh giá (không có lịch báo cáo)",
            "Not evaluated (no schedule)",
        ),
        _ => "—",
    }
    .to_owned()
}

/// A pace status (`PaceStatus` number) in words; "—" when unset.
pub fn pace_status(lang: Lang, value: i32) -> String {
    match value {
        1 => pick(lang, "Đã đạt", "Met"),
        2 => pick(lang, "Kịp tiến độ", "On track"),
        3 => pick(lang, "Có nguy cơ trễ hạn", "At risk"),
        4 => pick(lang, "Chậm tiến độ", "Off track"),
        5 => pick(lang, "Chưa đủ số liệu", "No trend"),
        _ => "—",
    }
    .to_owned()
}

/// The stable code of a pace status for CSS and query strings (`off-track`); empty when unset.
pub fn pace_code(value: i32) -> &'static str {
    match value {
        1 => "met",
        2 => "on-track",
        3 => "at-risk",
        4 => "off-track",
        5 => "no-trend",
        _ => "",
    }
}

/// A vagueness reason code in words (the compliance board carries codes only).
pub fn vague_reason(lang: Lang, code: &str) -> String {
    let (vi, en) = match code {
        "REQUIRED_INDICATORS_MISSING" => ("Thiếu chỉ số bắt buộc", "Required indicators missing"),
        "LOCALITIES_NOT_COVERED" => ("Không đủ địa bàn", "Localities not covered"),
        "NO_ASSESSMENT" => (
            "Không có đánh giá so với chỉ tiêu",
            "No assessment against targets",
        ),
        "BEHIND_TARGET_WITHOUT_PROPOSAL" => (
            "Chậm so với chỉ tiêu nhưng không có đề xuất",
            "Behind target without a proposal",
        ),
        "HEDGING_WITHOUT_FIGURES" => (
            "Nhận định chung chung, không có số liệu",
            "Hedging phrases without figures",
        ),
        "IDENTICAL_TO_PREVIOUS" => (
            "Số liệu giống hệt kỳ trước",
            "Figures identical to the previous period",
        ),
        other => return other.to_owned(),
    };
    pick(lang, vi, en).to_owned()
}

fn pick(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_words_and_unknown_codes_stay_readable() {
        assert_eq!(flag_kind(Lang::Vi, "MISSING"), "Không nộp báo cáo");
        assert_eq!(flag_kind(Lang::En, "VAGUE"), "Vague report");
        assert_eq!(flag_kind(Lang::Vi, "NEW_KIND"), "NEW_KIND");
        assert_eq!(agency(Lang::Vi, "police"), "Công an");
        assert_eq!(timeliness(Lang::En, 2), "Late");
        assert_eq!(
            vague_reason(Lang::Vi, "NO_ASSESSMENT"),
            "Không có đánh giá so với chỉ tiêu"
        );
        for kind in FLAG_KINDS {
            assert_ne!(flag_kind(Lang::Vi, kind), kind);
        }
    }
}
