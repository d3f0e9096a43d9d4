//! The chase-up letter (công văn đôn đốc) as a model: the facts the aggregator returned, turned into
//! the sections of a Vietnamese administrative letter (Nghị định 30/2020/NĐ-CP layout).
//!
//! This module knows no gRPC and no file format: [`Facts`] come in (gathered by
//! [`crate::gather`] through the task-force API), a [`Letter`] of plain sentences goes out, and [`crate::markdown`] and
//! [`crate::docx`] render it. Every sentence is built from a fact; an agency without findings is neither
//! addressed nor mentioned. Localities behind target are listed for the agencies addressed, but
//! are not a finding by themselves (they do not make an agency an addressee).

use chrono::{NaiveDate, NaiveDateTime};
use p06_domain::schedule::HolidayCalendar;

/// A reporting period, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A period that has no report at its deadline (an open MISSING flag).
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// The obligation's name ("Báo cáo tuần: …"), or its code when it has none.
    pub obligation: String,
    pub period: Period,
    /// Local (Vietnam) time.
    pub deadline: Option<NaiveDateTime>,
}

/// A period whose first report came after its deadline (a LATE flag and the report's receipt).
#[derive(Debug, Clone, PartialEq)]
pub struct Late {
    pub obligation: String,
    pub period: Period,
    pub deadline: Option<NaiveDateTime>,
    pub received: Option<NaiveDateTime>,
    pub lateness_seconds: i64,
}

/// A report scored below the specificity threshold (a VAGUE flag), with its reasons in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Vague {
    pub obligation: String,
    pub period: Period,
    pub score: Option<i32>,
    pub reasons: Vec<String>,
}

/// A figure contradicted by other figures: NARRATIVE_MISMATCH, CROSS_AGENCY_MISMATCH or any later
/// kind of the same nature, worded by the server's own message.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub kind: String,
    pub obligation: String,
    pub period: Period,
    pub message: String,
    /// The narrative sentence the figure is quoted from, when there is one.
    pub quote: String,
}

/// One of the localities furthest behind target for one of the agency's indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct Lagging {
    pub indicator: String,
    pub locality: String,
    pub value: Option<f64>,
    pub target: f64,
    pub percent: Option<f64>,
}

/// One obligation's line of the compliance board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardLine {
    pub obligation: String,
    pub expected: i32,
    pub received: i32,
    pub on_time: i32,
}

/// What the exchange holds about one agency.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgencyFacts {
    /// "police", "health", "justice".
    pub agency: String,
    /// The office addressed: "Công an tỉnh", "Bảo hiểm xã hội tỉnh / Sở Y tế", "Sở Tư pháp".
    pub addressee: String,
    pub board: Vec<BoardLine>,
    pub missing: Vec<Missing>,
    pub late: Vec<Late>,
    pub vague: Vec<Vague>,
    pub mismatches: Vec<Mismatch>,
    pub lagging: Vec<Lagging>,
}

impl AgencyFacts {
    /// Whether the agency has anything to chase: a missing, late or vague report, or a mismatch.
    pub fn has_findings(&self) -> bool {
        !(self.missing.is_empty()
            && self.late.is_empty()
            && self.vague.is_empty()
            && self.mismatches.is_empty())
    }
}

/// Everything the letter says, as gathered.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The province's catalog name, e.g. "Tỉnh Gia Lai", "Thành phố Hà Nội".
    pub province_name: String,
    pub as_of: NaiveDate,
    /// The new deadline, in working days after `as_of`.
    pub deadline_days: u32,
    pub agencies: Vec<AgencyFacts>,
}

/// One agency's part of the letter.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// "1. Công an tỉnh".
    pub heading: String,
    pub items: Vec<Item>,
}

/// A sentence with optional sub-points.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: String,
    pub details: Vec<String>,
}

/// The letter, sentence by sentence, in the order it is printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    /// "BAN CHỈ ĐẠO ĐỀ ÁN 06 TỈNH GIA LAI".
    pub issuer_parent: String,
    /// "TỔ CÔNG TÁC TRIỂN KHAI ĐỀ ÁN 06".
    pub issuer: String,
    pub motto: [String; 2],
    /// "Số: …/CV-TCT".
    pub number: String,
    /// "Gia Lai, ngày … tháng … năm …".
    pub place_date: String,
    /// "V/v đôn đốc báo cáo và khắc phục …".
    pub subject: String,
    pub addressees: Vec<String>,
    pub opening: String,
    pub sections: Vec<Section>,
    pub closing: Vec<String>,
    /// The new deadline.
    pub deadline: NaiveDate,
    /// "Nơi nhận:" lines.
    pub recipients: Vec<String>,
    /// "TM. TỔ CÔNG TÁC", "TỔ TRƯỞNG", and the signature placeholder.
    pub signature: Vec<String>,
}

/// The deadline `days` working days after `as_of`: weekends and Vietnam's public holidays
/// (the domain's calendar, `HolidayCalendar::vietnam_2024_2026`) are skipped.
pub fn new_deadline(as_of: NaiveDate, days: u32) -> NaiveDate {
    HolidayCalendar::vietnam_2024_2026().add_working_days(as_of, days)
}

/// 22/03/2025.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// 17:00 ngày 18/03/2025.
pub fn date_time(t: NaiveDateTime) -> String {
    t.format("%H:%M ngày %d/%m/%Y").to_string()
}

/// 704.828 with `decimals` decimals after a comma: 40,8.
pub fn number_with(value: f64, decimals: usize) -> String {
    p06_domain::text::grouped(value, decimals, '.', ',')
}

/// 704.828; a fraction with one decimal (40,8).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        number_with(v, 0)
    } else {
        number_with(v, 1)
    }
}

/// The office a letter is addressed to: "Công an tỉnh", "Bảo hiểm xã hội tỉnh / Sở Y tế",
/// "Sở Tư pháp"; `unit` is "tỉnh" or "thành phố" ([`unit_word`]).
pub fn agency_office(code: &str, unit: &str) -> String {
    match code {
        "police" => format!("Công an {unit}"),
        "health" => format!("Bảo hiểm xã hội {unit} / Sở Y tế"),
        "justice" => "Sở Tư pháp".to_owned(),
        other => other.to_owned(),
    }
}

/// A vagueness reason code in Vietnamese words, for when the receipt's own explanation is not at
/// hand (the flag carries codes only).
pub fn vague_reason(code: &str) -> String {
    match code {
        "REQUIRED_INDICATORS_MISSING" => "thiếu chỉ tiêu bắt buộc",
        "LOCALITIES_NOT_COVERED" => "chưa đủ địa bàn",
        "NO_ASSESSMENT" => "không có đánh giá so với chỉ tiêu",
        "BEHIND_TARGET_WITHOUT_PROPOSAL" => "chậm so với chỉ tiêu nhưng không có đề xuất",
        "HEDGING_WITHOUT_FIGURES" => "nhận định chung chung, không có số liệu",
        "IDENTICAL_TO_PREVIOUS" => "số liệu giống hệt kỳ trước",
        other => other,
    }
    .to_owned()
}

/// "1 ngày 17 giờ", "3 giờ 20 phút", "45 giây".
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    let parts: Vec<String> = if d > 0 {
        vec![(d, "ngày"), (h, "giờ")]
    } else {
        vec![(h, "giờ"), (m, "phút")]
    }
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}"))
    .collect();
    if parts.is_empty() {
        format!("{s} giây")
    } else {
        parts.join(" ")
    }
}

fn period(p: Period) -> String {
    if p.start == p.end {
        date(p.start)
    } else {
        format!("{} – {}", date(p.start), date(p.end))
    }
}

/// "Gia Lai" from "Tỉnh Gia Lai"; "Hà Nội" from "Thành phố Hà Nội".
pub fn short_name(name: &str) -> &str {
    for prefix in ["Tỉnh ", "Thành phố ", "tỉnh ", "thành phố "] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest;
        }
    }
    name
}

/// "tỉnh" or "thành phố", by the province's catalog name.
pub fn unit_word(name: &str) -> &'static str {
    if name.to_lowercase().starts_with("thành phố") {
        "thành phố"
    } else {
        "tỉnh"
    }
}

fn items(a: &AgencyFacts) -> Vec<Item> {
    let mut items = Vec::new();
    for b in a.board.iter().filter(|b| b.expected > 0) {
        items.push(Item {
            text: format!(
                "Tình hình thực hiện chế độ «{}»: đã nộp {}/{} kỳ báo cáo đã đến hạn, trong đó {} kỳ đúng hạn.",
                b.obligation, b.received, b.expected, b.on_time
            ),
            details: vec![],
        });
    }
    for m in &a.missing {
        let deadline = m
            .deadline
            .map(|d| format!(" (hạn nộp: {})", date_time(d)))
            .unwrap_or_default();
        items.push(Item {
            text: format!(
                "Chưa nộp «{}» kỳ {}{deadline}.",
                m.obligation,
                period(m.period)
            ),
            details: vec![],
        });
    }
    for l in &a.late {
        let mut details = Vec::new();
        if let Some(d) = l.deadline {
            details.push(format!("hạn nộp: {}", date_time(d)));
        }
        if let Some(r) = l.received {
            details.push(format!("hệ thống nhận lúc: {}", date_time(r)));
        }
        items.push(Item {
            text: format!(
                "Nộp trễ hạn «{}» kỳ {}: trễ {}.",
                l.obligation,
                period(l.period),
                duration(l.lateness_seconds)
            ),
            details,
        });
    }
    for v in &a.vague {
        let score = v
            .score
            .map(|s| format!(", điểm cụ thể {s}/100"))
            .unwrap_or_default();
        items.push(Item {
            text: format!(
                "Báo cáo «{}» kỳ {} còn chung chung{score}:",
                v.obligation,
                period(v.period)
            ),
            details: v.reasons.clone(),
        });
    }
    for m in &a.mismatches {
        let what = match m.kind.as_str() {
            "NARRATIVE_MISMATCH" => {
                "Số liệu nêu trong phần thuyết minh không khớp với số liệu báo cáo"
            }
            "CROSS_AGENCY_MISMATCH" => "Số liệu không khớp với số liệu của cơ quan khác",
            _ => "Số liệu cần rà soát",
        };
        let mut details = vec![m.message.clone()];
        if !m.quote.is_empty() {
            details.push(format!("câu trích: “{}”", m.quote));
        }
        items.push(Item {
            text: format!("{what} («{}» kỳ {}):", m.obligation, period(m.period)),
            details,
        });
    }
    let mut indicators: Vec<&str> = Vec::new();
    for l in &a.lagging {
        if !indicators.contains(&l.indicator.as_str()) {
            indicators.push(&l.indicator);
        }
    }
    for indicator in indicators {
        let details = a
            .lagging
            .iter()
            .filter(|l| l.indicator == indicator)
            .map(|l| {
                let percent = l
                    .percent
                    .map(|p| format!(" ({} %)", number_with(p, 1)))
                    .unwrap_or_default();
                let value = l.value.map_or_else(|| "chưa có số liệu".to_owned(), number);
                format!(
                    "{}: {value}/{} chỉ tiêu{percent}",
                    l.locality,
                    number(l.target)
                )
            })
            .collect();
        items.push(Item {
            text: format!("Các địa bàn thấp nhất so với chỉ tiêu «{indicator}»:"),
            details,
        });
    }
    items
}

impl Letter {
    /// The letter for `facts`; `None` when no agency has anything to chase.
    pub fn from_facts(facts: &Facts) -> Option<Letter> {
        let chased: Vec<&AgencyFacts> =
            facts.agencies.iter().filter(|a| a.has_findings()).collect();
        if chased.is_empty() {
            return None;
        }
        let short = short_name(&facts.province_name);
        let unit = unit_word(&facts.province_name);
        let deadline = new_deadline(facts.as_of, facts.deadline_days);
        let sections = chased
            .iter()
            .enumerate()
            .map(|(i, a)| Section {
                heading: format!("{}. {}", i + 1, a.addressee),
                items: items(a),
            })
            .collect();
        let mut asks = Vec::new();
        if chased.iter().any(|a| !a.missing.is_empty()) {
            asks.push("nộp đầy đủ các báo cáo còn thiếu");
        }
        if chased
            .iter()
            .any(|a| !a.vague.is_empty() || !a.mismatches.is_empty())
        {
            asks.push(
                "rà soát, bổ sung, sửa đổi các báo cáo chưa cụ thể hoặc có số liệu không khớp",
            );
        }
        if chased.iter().any(|a| !a.late.is_empty()) {
            asks.push("chấn chỉnh việc nộp báo cáo đúng hạn trong các kỳ tiếp theo");
        }
        Some(Letter {
            issuer_parent: format!("BAN CHỈ ĐẠO ĐỀ ÁN 06 {} {}", unit, short).to_uppercase(),
            issuer: "TỔ CÔNG TÁC TRIỂN KHAI ĐỀ ÁN 06".into(),
            motto: [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
                "Độc lập - Tự do - Hạnh phúc".into(),
            ],
            number: "Số: …/CV-TCT".into(),
            place_date: format!("{short}, ngày … tháng … năm …"),
            subject: "V/v đôn đốc báo cáo và khắc phục tồn tại trong thực hiện chế độ báo cáo Đề án 06"
                .into(),
            addressees: chased.iter().map(|a| a.addressee.clone()).collect(),
            opening: format!(
                "Căn cứ số liệu trên Hệ thống trao đổi chỉ tiêu Đề án 06 tính đến ngày {}, Tổ công tác triển khai Đề án 06 {unit} {short} nhận thấy việc thực hiện chế độ báo cáo của các cơ quan, đơn vị còn những tồn tại sau:",
                date(facts.as_of)
            ),
            sections,
            closing: vec![
                format!(
                    "Tổ công tác đề nghị các cơ quan, đơn vị nêu trên khẩn trương {}; gửi về Tổ công tác qua Hệ thống trao đổi chỉ tiêu Đề án 06 chậm nhất ngày {} ({} ngày làm việc kể từ ngày {}).",
                    asks.join("; "),
                    date(deadline),
                    facts.deadline_days,
                    date(facts.as_of)
                ),
                "Quá thời hạn trên, Tổ công tác sẽ tổng hợp, báo cáo Ban Chỉ đạo xem xét, xử lý theo quy định./."
                    .into(),
            ],
            deadline,
            recipients: vec![
                "- Như trên;".into(),
                format!("- Ban Chỉ đạo Đề án 06 {unit} (để báo cáo);"),
                "- Lưu: VT.".into(),
            ],
            signature: vec![
                "TM. TỔ CÔNG TÁC".into(),
                "TỔ TRƯỞNG".into(),
                "(Ký, ghi rõ họ tên)".into(),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_are_vietnamese() {
        assert_eq!(number(704_828.0), "704.828");
        assert_eq!(number(40.83), "40,8");
        assert_eq!(number_with(5.27, 1), "5,3");
        assert_eq!(number(109.0), "109");
        assert_eq!(number(-8_221.0), "-8.221");
    }

    #[test]
    fn the_new_deadline_skips_weekends_and_holidays() {
        // Mon 28/04/2025: 29/04 is a working day, 30/04–02/05 are holidays, 03–04/05 a weekend.
        assert_eq!(new_deadline(d("2025-04-28"), 5), d("2025-05-08"));
        // Sat 22/03/2025: no holiday, the weekend only.
        assert_eq!(new_deadline(d("2025-03-22"), 5), d("2025-03-28"));
        // Across Tết Ất Tỵ (25/01–02/02/2025).
        assert_eq!(new_deadline(d("2025-01-23"), 2), d("2025-02-03"));
    }

    fn facts() -> Facts {
        let week = Period {
            start: d("2025-03-10"),
            end: d("2025-03-16"),
        };
        Facts {
            province_name: "Tỉnh Gia Lai".into(),
            as_of: d("2025-03-22"),
            deadline_days: 5,
            agencies: vec![
                AgencyFacts {
                    agency: "police".into(),
                    addressee: "Công an tỉnh".into(),
                    late: vec![Late {
                        obligation: "Báo cáo tuần".into(),
                        period: week,
                        deadline: None,
                        received: None,
                        lateness_seconds: 147_600,
                    }],
                    lagging: vec![Lagging {
                        indicator: "Tài khoản mức 2 đã kích hoạt".into(),
                        locality: "Xã Hà Đông".into(),
                        value: Some(109.0),
                        target: 2_068.0,
                        percent: Some(5.27),
                    }],
                    ..Default::default()
                },
                AgencyFacts {
                    agency: "justice".into(),
                    addressee: "Sở Tư pháp".into(),
                    lagging: vec![Lagging {
                        indicator: "Hộ tịch".into(),
                        locality: "Xã A".into(),
                        value: None,
                        target: 10.0,
                        percent: None,
                    }],
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn only_agencies_with_findings_are_addressed() {
        let letter = Letter::from_facts(&facts()).unwrap();
        assert_eq!(letter.addressees, ["Công an tỉnh"]);
        assert_eq!(letter.issuer_parent, "BAN CHỈ ĐẠO ĐỀ ÁN 06 TỈNH GIA LAI");
        assert_eq!(letter.place_date, "Gia Lai, ngày … tháng … năm …");
        assert_eq!(letter.sections.len(), 1);
        let texts: Vec<&str> = letter.sections[0]
            .items
            .iter()
            .map(|i| i.text.as_str())
            .collect();
        assert!(texts[0].contains("trễ 1 ngày 17 giờ"), "{texts:?}");
        assert_eq!(
            letter.sections[0].items[1].details,
            ["Xã Hà Đông: 109/2.068 chỉ tiêu (5,3 %)"]
        );
        assert_eq!(letter.deadline, d("2025-03-28"));
        assert!(letter.closing[0].contains("28/03/2025"));
        let mut none = facts();
        none.agencies.remove(0);
        assert_eq!(Letter::from_facts(&none), None);
    }
}
