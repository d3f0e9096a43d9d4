//! The page's words in Vietnamese (the default) and English. Codes (flag kinds, timeliness,
//! vagueness reasons, agencies) become words here; CSV downloads keep the codes.

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

pub const VI: Texts = Texts {
    app: "Tổ công tác Đề án 06",
    skip: "Bỏ qua, đến nội dung chính",
    nav_overview: "Tổng quan",
    nav_districts: "Huyện",
    nav_communes: "Xã",
    nav_compliance: "Chấp hành báo cáo",
    nav_flags: "Cảnh báo",
    nav_country: "Toàn quốc",
    nav_label: "Các trang",
    sign_in: "Đăng nhập",
    sign_out: "Đăng xuất",
    signed_in_as: "Đăng nhập với",
    other_lang: "English",
    other_lang_code: "en",
    token_label: "Mã truy cập (token)",
    token_help: "Dán mã truy cập của Tổ công tác (hoặc của cán bộ báo cáo, để nộp bảng tính) một lần; trình duyệt chỉ giữ một phiên đăng nhập, không giữ mã.",
    signin_intro: "Số liệu triển khai Đề án 06 của tỉnh: chỉ tiêu, xếp hạng, chấp hành báo cáo và cảnh báo.",
    as_of: "Số liệu đến ngày",
    compare_to: "So với ngày",
    show: "Xem",
    download_csv: "Tải CSV",
    download_xlsx: "Tải Excel",
    download_letter: "Dự thảo công văn đôn đốc (.docx)",
    value: "Giá trị",
    target: "Chỉ tiêu",
    of_target: "so với chỉ tiêu",
    of_denominator: "so với",
    change: "Thay đổi",
    since: "từ ngày",
    met_target: "đạt chỉ tiêu",
    communes_met: "đơn vị đạt chỉ tiêu",
    completeness: "Mức đầy đủ",
    reporting: "đơn vị có số liệu",
    oldest_figure: "Số liệu cũ nhất",
    reports_included: "báo cáo",
    no_data: "Chưa có số liệu",
    no_indicators: "Chưa có chỉ số nào có số liệu đến ngày này.",
    lowest: "Thấp nhất",
    trend: "Diễn biến theo tuần",
    weeks: "tuần",
    indicator: "Chỉ số",
    threshold: "Ngưỡng (% chỉ tiêu)",
    sort: "Sắp xếp",
    sort_below: "Số xã dưới ngưỡng",
    sort_share: "Tỷ lệ xã dưới ngưỡng",
    sort_name: "Tên",
    sort_percent: "% chỉ tiêu",
    district: "Huyện",
    districts_caption: "Số xã dưới ngưỡng theo huyện",
    below_threshold: "Dưới ngưỡng",
    without_data: "Chưa có số liệu",
    with_target: "Có chỉ tiêu",
    communes_of: "Xã của huyện",
    whole_province: "Toàn tỉnh",
    commune: "Xã",
    communes_caption: "Xếp hạng xã, thấp nhất trước",
    rank: "Hạng",
    code: "Mã",
    name: "Tên",
    residents: "Mẫu số",
    below_percent: "Dưới (% chỉ tiêu)",
    search_name: "Tìm theo tên (có hoặc không dấu)",
    rows_shown: "dòng",
    compliance_caption: "Chấp hành báo cáo theo nghĩa vụ và cơ quan",
    from: "Từ ngày",
    to: "Đến ngày",
    agency: "Cơ quan",
    all_agencies: "Tất cả cơ quan",
    obligation: "Nghĩa vụ báo cáo",
    expected: "Phải nộp",
    received: "Đã nộp",
    on_time: "Đúng hạn",
    late: "Trễ hạn",
    missing: "Không nộp",
    pending: "Chưa đến hạn",
    early: "Nộp trước hạn",
    vague: "Chung chung",
    reporting_rate: "Tỷ lệ nộp",
    on_time_rate: "Tỷ lệ đúng hạn",
    worst_lateness: "Trễ nhất",
    vague_reasons: "Lý do chung chung thường gặp",
    consistency_flags: "Cảnh báo số liệu",
    see_flags: "Cảnh báo",
    see_reports: "Báo cáo",
    open_flags: "Cảnh báo đang mở",
    flags_caption: "Cảnh báo đang mở",
    kind: "Loại",
    all_kinds: "Tất cả loại",
    period: "Kỳ báo cáo",
    report: "Báo cáo",
    locality: "Địa bàn",
    message: "Nội dung",
    raised: "Phát hiện lúc",
    state: "Trạng thái",
    live: "Cảnh báo mới hiện ra ngay khi được phát hiện.",
    no_flags: "Không có cảnh báo nào đang mở.",
    receipt: "Biên nhận",
    revision: "Lần nộp",
    payload_sha256: "Mã băm nội dung (SHA-256)",
    receive_time: "Thời điểm nhận",
    deadline: "Hạn nộp",
    timeliness: "Thời hạn",
    specificity: "Điểm cụ thể",
    reasons: "Lý do trừ điểm",
    submitted_by: "Người nộp",
    narrative: "Nội dung báo cáo",
    assessment: "Đánh giá",
    obstacles: "Khó khăn, vướng mắc",
    proposals: "Đề xuất, kiến nghị",
    observations: "Số liệu",
    observations_shown: "Hiển thị",
    revisions: "Các lần nộp",
    revisions_caption: "Các lần nộp của cùng kỳ báo cáo",
    what_changed: "Thay đổi so với lần nộp trước",
    this_revision: "lần này",
    no_earlier: "Đây là lần nộp đầu tiên của kỳ này.",
    reports_caption: "Báo cáo đã nộp",
    provinces_caption: "Xếp hạng tỉnh, thấp nhất trước",
    province: "Tỉnh",
    open: "Mở",
    error_forbidden: "Không có quyền xem trang này",
    error_not_found: "Không tìm thấy",
    error_unavailable: "Hệ thống tổng hợp tạm thời không phản hồi",
    error_bad_request: "Yêu cầu không hợp lệ",
    error_internal: "Đã có lỗi xảy ra",
    error_forbidden_help: "Mã truy cập của bạn chỉ được xem số liệu của tỉnh mình.",
    error_unavailable_help: "Vui lòng thử lại sau ít phút.",
    back_home: "Về trang tổng quan",
    signin_bad_token: "Mã truy cập không đúng định dạng.",
    signin_expired: "Mã truy cập đã hết hạn. Vui lòng xin mã mới.",
    signin_not_task_force: "Mã này không phải của Tổ công tác hay của cán bộ báo cáo (cần vai trò taskforce-viewer, taskforce-admin hoặc reporter).",
    signin_refused: "Hệ thống tổng hợp không chấp nhận mã truy cập này.",
    signin_link_used: "Liên kết đăng nhập đã được dùng hoặc đã hết hạn. Vui lòng dán mã truy cập.",
    csrf_refused: "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Vui lòng thử lại.",
    footer: "Số liệu do hệ thống tổng hợp Đề án 06 cung cấp; tỷ lệ được tính từ số đếm, không lấy trung bình các tỷ lệ.",
    nav_upload: "Nộp báo cáo",
    upload_title: "Nộp báo cáo bằng bảng tính",
    upload_intro: "Tải mẫu của kỳ báo cáo, điền số liệu từng đơn vị và phần thuyết minh, rồi tải bảng tính lên. Hệ thống trả biên nhận, hoặc liệt kê mọi lỗi kèm ô (không gửi gì khi còn lỗi).",
    template_heading: "1. Tải mẫu báo cáo",
    day_of_period: "Một ngày trong kỳ báo cáo",
    download_template: "Tải mẫu (.xlsx)",
    upload_heading: "2. Tải bảng tính đã điền lên",
    upload_file: "Bảng tính (xlsx, xls, ods hoặc CSV; tối đa 10 MB)",
    upload_totals: "Dòng “Tổng cộng”",
    totals_check: "Đối chiếu với tổng các dòng",
    totals_ignore: "Bỏ qua",
    upload_mode: "Nếu kỳ này đã nộp",
    mode_replace: "Thay thế toàn bộ",
    mode_amend: "Chỉ sửa các số liệu có trong bảng",
    upload_obligation: "Nghĩa vụ báo cáo (khi bảng tính không ghi)",
    from_workbook: "— theo bảng tính —",
    upload_submit: "Kiểm tra và nộp",
    problems_heading: "lỗi, chưa gửi gì — sửa rồi nộp lại",
    cell: "Ô",
    problem: "Lỗi",
    upload_done: "Đã nộp",
    view_report: "Xem báo cáo",
    upload_not_reporter: "Trang này dành cho cán bộ báo cáo của Công an, Bảo hiểm xã hội/Y tế và Tư pháp.",
    upload_too_large: "Tệp lớn hơn 10 MB; hãy chia nhỏ hoặc nộp bằng dòng lệnh `p06 submit`.",
    upload_bad_form: "Biểu mẫu không hợp lệ; hãy chọn một tệp rồi nộp lại.",
    pace: "Tiến độ",
    pace_recent: "Tốc độ 4 tuần gần đây",
    pace_needed: "Tốc độ cần để kịp hạn",
    pace_projected: "Dự kiến đạt chỉ tiêu",
    pace_due: "hạn",
    pace_any: "Mọi tiến độ",
    per_week: "/tuần",
    known_at: "Theo báo cáo nhận đến",
    known_at_note: "Chỉ tính các lần nộp nhận được đến thời điểm",
    reform_mark: "sắp xếp 1/7/2025",
};

pub const EN: Texts = Texts {
    app: "Project 06 Task Force",
    skip: "Skip to main content",
    nav_overview: "Overview",
    nav_districts: "Districts",
    nav_communes: "Communes",
    nav_compliance: "Compliance",
    nav_flags: "Flags",
    nav_country: "Country",
    nav_label: "Pages",
    sign_in: "Sign in",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    other_lang: "Tiếng Việt",
    other_lang_code: "vi",
    token_label: "Access token",
    token_help: "Paste the task force's access token (or a reporter's, to submit a workbook) once; the browser keeps only a session, never the token.",
    signin_intro: "The province's Project 06 figures: targets, rankings, reporting compliance and flags.",
    as_of: "Figures as of",
    compare_to: "Compared with",
    show: "Show",
    download_csv: "Download CSV",
    download_xlsx: "Download Excel",
    download_letter: "Draft chase-up letter (.docx, Vietnamese)",
    value: "Value",
    target: "Target",
    of_target: "of target",
    of_denominator: "of",
    change: "Change",
    since: "since",
    met_target: "met target",
    communes_met: "units met target",
    completeness: "Completeness",
    reporting: "units reporting",
    oldest_figure: "Oldest figure",
    reports_included: "reports",
    no_data: "No data yet",
    no_indicators: "No indicator has figures as of this date.",
    lowest: "Lowest",
    trend: "Weekly trend",
    weeks: "weeks",
    indicator: "Indicator",
    threshold: "Threshold (% of target)",
    sort: "Sort",
    sort_below: "Communes below",
    sort_share: "Share below",
    sort_name: "Name",
    sort_percent: "% of target",
    district: "District",
    districts_caption: "Communes below the threshold per district",
    below_threshold: "Below",
    without_data: "No data",
    with_target: "With target",
    communes_of: "Communes of",
    whole_province: "Whole province",
    commune: "Commune",
    communes_caption: "Communes ranked, lowest first",
    rank: "Rank",
    code: "Code",
    name: "Name",
    residents: "Denominator",
    below_percent: "Below (% of target)",
    search_name: "Search by name (with or without diacritics)",
    rows_shown: "rows",
    compliance_caption: "Reporting compliance per obligation and agency",
    from: "From",
    to: "To",
    agency: "Agency",
    all_agencies: "All agencies",
    obligation: "Obligation",
    expected: "Expected",
    received: "Received",
    on_time: "On time",
    late: "Late",
    missing: "Missing",
    pending: "Not yet due",
    early: "In early",
    vague: "Vague",
    reporting_rate: "Reporting rate",
    on_time_rate: "On-time rate",
    worst_lateness: "Worst lateness",
    vague_reasons: "Top vagueness reasons",
    consistency_flags: "Data flags",
    see_flags: "Flags",
    see_reports: "Reports",
    open_flags: "Open flags",
    flags_caption: "Open flags",
    kind: "Kind",
    all_kinds: "All kinds",
    period: "Period",
    report: "Report",
    locality: "Locality",
    message: "Message",
    raised: "Raised",
    state: "State",
    live: "New flags appear as soon as they are raised.",
    no_flags: "No open flags.",
    receipt: "Receipt",
    revision: "Revision",
    payload_sha256: "Payload hash (SHA-256)",
    receive_time: "Received",
    deadline: "Deadline",
    timeliness: "Timeliness",
    specificity: "Specificity score",
    reasons: "Deductions",
    submitted_by: "Submitted by",
    narrative: "Narrative",
    assessment: "Assessment",
    obstacles: "Obstacles",
    proposals: "Proposals",
    observations: "Figures",
    observations_shown: "Showing",
    revisions: "Revisions",
    revisions_caption: "Revisions of the same reporting period",
    what_changed: "Changes from the previous revision",
    this_revision: "this one",
    no_earlier: "This is the period's first revision.",
    reports_caption: "Reports received",
    provinces_caption: "Provinces ranked, lowest first",
    province: "Province",
    open: "Open",
    error_forbidden: "You may not see this page",
    error_not_found: "Not found",
    error_unavailable: "The aggregation service is not answering",
    error_bad_request: "Invalid request",
    error_internal: "Something went wrong",
    error_forbidden_help: "Your access token reads only its own province's figures.",
    error_unavailable_help: "Please try again in a few minutes.",
    back_home: "Back to the overview",
    signin_bad_token: "That is not an access token.",
    signin_expired: "The access token has expired. Please ask for a new one.",
    signin_not_task_force: "This is neither a task-force token nor a reporter's (it needs the taskforce-viewer, taskforce-admin or reporter role).",
    signin_refused: "The aggregation service does not accept this access token.",
    signin_link_used: "The sign-in link was already used or has expired. Please paste an access token.",
    csrf_refused: "The form has expired or did not come from this page. Please try again.",
    footer: "Figures from the Project 06 aggregation service; percentages are computed from counts, never averaged.",
    nav_upload: "Submit a report",
    upload_title: "Submit a report as a workbook",
    upload_intro: "Download the period's template, fill in each unit's figures and the narrative sheet, then upload the workbook. You get a receipt, or every problem with its cell (nothing is submitted while any remains).",
    template_heading: "1. Download the template",
    day_of_period: "A day of the reporting period",
    download_template: "Download the template (.xlsx)",
    upload_heading: "2. Upload the filled workbook",
    upload_file: "Workbook (xlsx, xls, ods or CSV; at most 10 MB)",
    upload_totals: "The “Tổng cộng” (totals) row",
    totals_check: "Check it against the sum of the rows",
    totals_ignore: "Ignore it",
    upload_mode: "If this period was reported before",
    mode_replace: "Replace the whole report",
    mode_amend: "Amend only the figures in the workbook",
    upload_obligation: "Obligation (when the workbook does not say)",
    from_workbook: "— from the workbook —",
    upload_submit: "Check and submit",
    problems_heading: "problems, nothing was submitted — fix them and upload again",
    cell: "Cell",
    problem: "Problem",
    upload_done: "Submitted",
    view_report: "Open the report",
    upload_not_reporter: "This page is for the reporters of police, social insurance/health and justice.",
    upload_too_large: "The file is larger than 10 MB; split it or submit it with `p06 submit`.",
    upload_bad_form: "The form is not valid; choose a file and submit again.",
    pace: "Pace",
    pace_recent: "Pace over the last 4 weeks",
    pace_needed: "Pace needed by the due date",
    pace_projected: "Projected to reach target",
    pace_due: "due",
    pace_any: "Any pace",
    per_week: "/week",
    known_at: "As reported by",
    known_at_note: "Only revisions received by",
    reform_mark: "reform 1/7/2025",
};

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

/// The note of a view carried across the 2025 reform (`carried_from_edition`, the most split
/// communes any figure includes); empty when not carried. The split communes' clause is left out
/// when no figure includes one.
pub fn carried_note(lang: Lang, from: i32, to: &str, split: i32) -> String {
    if from == 0 {
        return String::new();
    }
    match lang {
        Lang::Vi => {
            let split = match split {
                0 => String::new(),
                n => format!("; {n} xã bị chia tách tính trọn cho xã kế thừa mặc định"),
            };
            format!(
                "Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã {from}, quy đổi sang đơn vị hành \
                 chính {to} (xã sáp nhập cộng dồn{split})."
            )
        }
        Lang::En => {
            let split = match split {
                0 => String::new(),
                n => format!("; {n} split communes counted whole toward their default successors"),
            };
            format!(
                "Figures before 1 July 2025: reported in edition {from}, carried onto the {to} \
                 units (merged communes add up{split})."
            )
        }
    }
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
    fn a_carried_view_says_which_edition_and_how_many_split_communes() {
        assert_eq!(carried_note(Lang::Vi, 0, "2025", 3), "");
        let vi = carried_note(Lang::Vi, 2024, "2025", 1);
        assert!(
            vi.starts_with("Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã 2024"),
            "{vi}"
        );
        assert!(vi.contains("1 xã bị chia tách"), "{vi}");
        let en = carried_note(Lang::En, 2024, "2025", 6);
        assert!(
            en.contains("edition 2024, carried onto the 2025 units"),
            "{en}"
        );
        assert!(en.contains("6 split communes"), "{en}");
    }

    #[test]
    fn a_carried_view_without_split_communes_does_not_count_zero_of_them() {
        let vi = carried_note(Lang::Vi, 2024, "2025", 0);
        assert_eq!(
            vi,
            "Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã 2024, quy đổi sang đơn vị hành \
             chính 2025 (xã sáp nhập cộng dồn)."
        );
        assert!(!vi.contains("chia tách"), "{vi}");
        let en = carried_note(Lang::En, 2024, "2025", 0);
        assert_eq!(
            en,
            "Figures before 1 July 2025: reported in edition 2024, carried onto the 2025 units \
             (merged communes add up)."
        );
        assert!(!en.contains("split"), "{en}");
    }

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
