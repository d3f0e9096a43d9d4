//! The narrative check against a corpus of Vietnamese report sentences, each labelled: a correct
//! claim (or no checkable claim) that must pass, or a slip that must be caught. Prints the rules'
//! precision and recall and fails below precision 0.95 or recall 0.9:
//!
//! `cargo test -p p06-domain --test narrative_corpus -- --nocapture`

use std::collections::HashMap;

use p06_domain::narrative::{self, IndicatorFigures, NarrativeTexts, Outcome, vocab};

/// The catalog's indicators the narratives may name: (code, name_vi, denominator, flow), as in
/// `migrations/data/indicators.csv`.
const CATALOG: &[(&str, &str, Option<&str>, bool)] = &[
    ("residents.permanent", "Công dân thường trú", None, false),
    (
        "vneid.l1.created",
        "Tài khoản định danh điện tử mức 1 đã tạo lập",
        None,
        false,
    ),
    (
        "vneid.l2.created",
        "Tài khoản định danh điện tử mức 2 đã tạo lập",
        Some("residents.permanent"),
        false,
    ),
    (
        "vneid.l2.activated",
        "Tài khoản định danh điện tử mức 2 đã kích hoạt",
        Some("residents.permanent"),
        false,
    ),
    (
        "cccd.cards.issued",
        "Thẻ Căn cước gắn chip đã cấp",
        Some("residents.permanent"),
        false,
    ),
    (
        "bhyt.cards.integrated",
        "Thẻ BHYT đã tích hợp trên VNeID",
        Some("residents.permanent"),
        false,
    ),
    (
        "civil_status.digitized",
        "Dữ liệu hộ tịch đã số hóa",
        Some("civil_status.backlog"),
        false,
    ),
    (
        "civil_status.backlog",
        "Dữ liệu hộ tịch cần số hóa",
        None,
        false,
    ),
    (
        "civil_registration.online",
        "Hồ sơ đăng ký hộ tịch trực tuyến",
        None,
        true,
    ),
];

/// A report's figures: (code, total, target, previous total).
type Figures = &'static [(&'static str, f64, Option<f64>, Option<f64>)];

/// Gia Lai, week to 22/03/2025 (DESIGN.md): 704.828 activated = 40,8 % of 1.727.520 residents,
/// 73,3 % of a 961.566 target; 8.221 more than the week before.
const GIA_LAI: Figures = &[
    ("residents.permanent", 1_727_520.0, None, Some(1_727_100.0)),
    ("vneid.l2.created", 760_412.0, None, Some(752_000.0)),
    (
        "vneid.l2.activated",
        704_828.0,
        Some(961_566.0),
        Some(696_607.0),
    ),
    ("cccd.cards.issued", 1_502_118.0, None, None),
    ("bhyt.cards.integrated", 611_045.0, None, None),
];

/// Quảng Nam, 7 Jun 2023: 186.568 activated of a 738.291 target.
const QUANG_NAM: Figures = &[
    ("vneid.l2.activated", 186_568.0, Some(738_291.0), None),
    ("vneid.l2.created", 382_455.0, None, None),
];

/// A justice report: 14.571 civil-status records digitized of 20.934.
const JUSTICE: Figures = &[
    ("civil_status.digitized", 14_571.0, None, Some(13_900.0)),
    ("civil_status.backlog", 20_934.0, None, None),
    ("civil_registration.online", 1_240.0, None, None),
];

fn indicators(figures: Figures) -> Vec<IndicatorFigures> {
    let by_code: HashMap<&str, (f64, Option<f64>, Option<f64>)> = figures
        .iter()
        .map(|(c, t, g, p)| (*c, (*t, *g, *p)))
        .collect();
    let name = |code: &str| {
        CATALOG
            .iter()
            .find(|c| c.0 == code)
            .map(|c| c.1)
            .unwrap_or_default()
    };
    CATALOG
        .iter()
        .map(|(code, name_vi, denominator, flow)| {
            let own = by_code.get(code);
            IndicatorFigures {
                code: (*code).into(),
                name_vi: (*name_vi).into(),
                synonyms: vocab::synonyms(code),
                flow: *flow,
                total: own.map(|f| f.0),
                target: own.and_then(|f| f.1),
                previous_total: own.and_then(|f| f.2),
                denominator: denominator.and_then(|d| by_code.get(d)).map(|f| f.0),
                denominator_names: denominator
                    .map(|d| {
                        let mut names = vec![name(d).to_owned()];
                        names.extend(vocab::synonyms(d));
                        names
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Must the sentence be caught?
#[derive(Debug, Clone, Copy, PartialEq)]
enum Label {
    Pass,
    Catch,
}
use Label::*;

const CORPUS: &[(Figures, Label, &str)] = &[
    // Correct claims tied to the figures.
    (
        GIA_LAI,
        Pass,
        "Toàn tỉnh đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, đạt 40,8% dân số thường trú.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt: 704.828, bằng 73,3 % chỉ tiêu được giao (961.566 tài khoản).",
    ),
    (
        GIA_LAI,
        Pass,
        "Số tài khoản định danh mức 2 đã kích hoạt đạt 704.828 trên tổng số 1.727.520 công dân thường trú, đạt 40,8%.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tỷ lệ kích hoạt: 704.828/1.727.520 = 40,8 %.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, tăng 8.221 so với tuần trước.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt tăng 1,2% so với tuần trước.",
    ),
    (
        GIA_LAI,
        Pass,
        "Thực hiện Quyết định 06/QĐ-TTg, tỷ lệ kích hoạt tài khoản định danh mức 2 đạt 40,8% dân số.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã cấp 1.502.118 thẻ Căn cước gắn chip, đạt 86,95% dân số thường trú.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã kích hoạt 704,828 tài khoản định danh điện tử mức 2, đạt 40.8% dân số.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã kích hoạt 705 nghìn tài khoản định danh điện tử mức 2, đạt 73% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt đạt 704.828, chiếm 40,80 % công dân thường trú và 73,30 % chỉ tiêu.",
    ),
    (GIA_LAI, Pass, "Có 19/218 xã (8,7%) đạt chỉ tiêu kích hoạt."),
    (
        GIA_LAI,
        Pass,
        "Đã tạo lập 760.412 tài khoản định danh điện tử mức 2, đạt 44% dân số.",
    ),
    // Figures that are no claim the rules can tie: left alone.
    (
        GIA_LAI,
        Pass,
        "Tính đến ngày 22/03/2025, toàn tỉnh có 19/218 xã đạt chỉ tiêu kích hoạt.",
    ),
    (
        GIA_LAI,
        Pass,
        "Xã Hà Đông (huyện Đak Đoa) thấp nhất: 109 tài khoản/2.068 chỉ tiêu/5.908 nhân khẩu, đạt 5,3%.",
    ),
    (
        GIA_LAI,
        Pass,
        "Xã Hà Đông đã kích hoạt 109 tài khoản định danh mức 2, bằng 5,3% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tỷ lệ thẻ Căn cước gắn chip đã cấp ước đạt khoảng 90% dân số.",
    ),
    (
        GIA_LAI,
        Pass,
        "Ước đạt trên 700.000 tài khoản định danh điện tử mức 2 đã kích hoạt.",
    ),
    (
        GIA_LAI,
        Pass,
        "Trong tuần, kích hoạt thêm 8.221 tài khoản định danh điện tử mức 2.",
    ),
    (
        GIA_LAI,
        Pass,
        "Theo Kế hoạch số 123/KH-UBND ngày 15/01/2025, phấn đấu đến 30/6/2025 đạt 100% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Pass,
        "Năm 2025 phấn đấu 80% dân số có tài khoản định danh điện tử mức 2.",
    ),
    (
        GIA_LAI,
        Pass,
        "Chỉ tiêu năm 2025 giao 961.566 tài khoản định danh mức 2 đã kích hoạt.",
    ),
    (
        GIA_LAI,
        Pass,
        "Hiện còn chưa kích hoạt 1.022.692 tài khoản định danh điện tử mức 2.",
    ),
    (GIA_LAI, Pass, "So với tuần trước, tăng 8.221."),
    (GIA_LAI, Pass, "Ngày 22/3, tỷ lệ kích hoạt đạt 40,8%."),
    (
        GIA_LAI,
        Pass,
        "Kích hoạt 704.828 tài khoản định danh điện tử mức 2; 19/218 xã đạt 100% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Pass,
        "Nghị định 59/2022/NĐ-CP quy định 100% hồ sơ phải được số hóa.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đạt 73,3% chỉ tiêu, còn 256.738 tài khoản phải kích hoạt trong tháng 4.",
    ),
    (
        GIA_LAI,
        Pass,
        "Thẻ BHYT đã tích hợp trên VNeID khoảng 611 nghìn thẻ, tỷ lệ tích hợp chung còn thấp.",
    ),
    (
        QUANG_NAM,
        Pass,
        "Đến 07/6/2023 đã kích hoạt 186.568/738.291 tài khoản định danh mức 2, đạt 25,27% chỉ tiêu đến 30/6/2023.",
    ),
    (
        QUANG_NAM,
        Pass,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt đạt 25,3 % chỉ tiêu (738.291).",
    ),
    (
        JUSTICE,
        Pass,
        "Đã số hóa 194.675/194.703 bản ghi hộ tịch, đạt 99,98%.",
    ),
    (
        JUSTICE,
        Pass,
        "Dữ liệu hộ tịch đã số hóa: 14.571, đạt 69,6% dữ liệu hộ tịch cần số hóa.",
    ),
    (JUSTICE, Pass, "Tỷ lệ hồ sơ trực tuyến đạt 85,7%."),
    (
        JUSTICE,
        Pass,
        "Dữ liệu hộ tịch đã số hóa tăng 671 so với kỳ trước.",
    ),
    (
        GIA_LAI,
        Pass,
        "Thẻ BHYT đã tích hợp trên VNeID đạt 35,4% dân số.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2 và cấp 1.502.118 thẻ Căn cước gắn chip, đạt 86,95% dân số.",
    ),
    (
        GIA_LAI,
        Pass,
        "Toàn tỉnh có 1.727.520 công dân thường trú; đã cấp 1.502.118 thẻ Căn cước gắn chip.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt vượt 5% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Pass,
        "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, còn 26,7% chỉ tiêu chưa hoàn thành.",
    ),
    (
        GIA_LAI,
        Pass,
        "Tuần 12 tài khoản định danh điện tử mức 2 đã kích hoạt tăng mạnh.",
    ),
    (
        QUANG_NAM,
        Pass,
        "Đã kích hoạt 186.568/738.291 tài khoản định danh mức 2, còn thiếu 74,7% chỉ tiêu.",
    ),
    // Slips that must be caught.
    // A known miss: the indicator is not named ("tài khoản" alone could be level 1 or 2), so the
    // 48 % is not tied to any figure.
    (
        GIA_LAI,
        Catch,
        "Đã kích hoạt 704.828 tài khoản, đạt 48% dân số.",
    ),
    (
        QUANG_NAM,
        Catch,
        "Đến nay có 186.568/738.291 công dân đã kích hoạt tài khoản định danh điện tử mức 2 (đạt 24,37%).",
    ),
    (
        QUANG_NAM,
        Catch,
        "Toàn tỉnh có 186,568 trên 738,291 công dân đã kích hoạt tài khoản định danh điện tử mức 2 (24.37 %).",
    ),
    (
        QUANG_NAM,
        Catch,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt đạt 24,37 % chỉ tiêu.",
    ),
    (
        JUSTICE,
        Catch,
        "Đã số hóa 14,571/20,934 dữ liệu hộ tịch cần số hóa, đạt 85.7%.",
    ),
    (
        JUSTICE,
        Catch,
        "Đã số hóa 14.571/20.934 hồ sơ hộ tịch, đạt 85,7%.",
    ),
    (
        JUSTICE,
        Catch,
        "Dữ liệu hộ tịch đã số hóa đạt 85,7% dữ liệu hộ tịch cần số hóa.",
    ),
    (
        JUSTICE,
        Catch,
        "Dữ liệu hộ tịch đã số hóa tăng 1.671 so với kỳ trước.",
    ),
    (
        GIA_LAI,
        Catch,
        "Toàn tỉnh đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, đạt 48,0% dân số.",
    ),
    (
        GIA_LAI,
        Catch,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt đạt 740.828, bằng 73,3% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã kích hoạt 704.828 tài khoản định danh mức 2, đạt 37,3% chỉ tiêu.",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, tăng 12.221 so với tuần trước.",
    ),
    (
        GIA_LAI,
        Catch,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt giảm 8.221 so với tuần trước.",
    ),
    (
        GIA_LAI,
        Catch,
        "Tỷ lệ kích hoạt: 704.828/1.727.520 = 48,0 %.",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã cấp 1.502.118 thẻ Căn cước gắn chip, đạt 89,6% dân số thường trú.",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã kích hoạt 704.828 tài khoản định danh mức 2, đạt 73,3% chỉ tiêu (916.566 tài khoản).",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã kích hoạt 740 nghìn tài khoản định danh điện tử mức 2.",
    ),
    (
        GIA_LAI,
        Catch,
        "Có 19/218 xã (9,7%) đạt chỉ tiêu kích hoạt.",
    ),
    (
        GIA_LAI,
        Catch,
        "Đã tạo lập 706.412 tài khoản định danh điện tử mức 2, đạt 44% dân số.",
    ),
];

#[test]
fn the_corpus_is_read_with_the_precision_and_recall_required() {
    assert!(CORPUS.len() >= 40);
    let (mut tp, mut fp, mut fn_, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (figures, label, sentence) in CORPUS {
        let result = narrative::check(
            NarrativeTexts {
                assessment: sentence,
                ..Default::default()
            },
            &indicators(figures),
        );
        let caught = result.mismatches().count() > 0;
        match (label, caught) {
            (Catch, true) => tp += 1,
            (Pass, true) => fp += 1,
            (Catch, false) => fn_ += 1,
            (Pass, false) => tn += 1,
        }
        let mark = if (*label == Catch) == caught {
            "ok  "
        } else {
            "MISS"
        };
        println!("{mark} {label:?} {sentence}");
        for c in &result.claims {
            println!("       {:?} {:?}: {}", c.kind, c.outcome, c.message_vi);
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = tp as f64 / (tp + fn_) as f64;
    println!(
        "narrative corpus: {} sentences ({} to catch), caught {tp}, false alarms {fp}, missed {fn_}, \
         passed {tn}; precision {precision:.3}, recall {recall:.3}",
        CORPUS.len(),
        tp + fn_
    );
    assert!(precision >= 0.95, "precision {precision:.3} < 0.95");
    assert!(recall >= 0.9, "recall {recall:.3} < 0.9");
}

fn check_one(figures: Figures, sentence: &str) -> narrative::NarrativeCheck {
    narrative::check(
        NarrativeTexts {
            obstacles: sentence,
            ..Default::default()
        },
        &indicators(figures),
    )
}

#[test]
fn the_three_slips_of_the_issue_say_both_numbers() {
    let r = check_one(
        QUANG_NAM,
        "Đến nay có 186.568/738.291 công dân đã kích hoạt tài khoản định danh điện tử mức 2 (đạt 24,37%).",
    );
    let m: Vec<_> = r.mismatches().collect();
    assert_eq!(m.len(), 1, "{r:?}");
    assert_eq!(
        m[0].message_vi,
        "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %"
    );
    assert_eq!(
        (
            m[0].printed,
            m[0].computed_text.as_str(),
            m[0].field.as_str()
        ),
        (24.37, "25,27", "obstacles")
    );
    assert!(m[0].sentence.starts_with("Đến nay có 186.568/738.291"));

    let r = check_one(
        JUSTICE,
        "Đã số hóa 14,571/20,934 dữ liệu hộ tịch cần số hóa, đạt 85.7%.",
    );
    let m: Vec<_> = r.mismatches().collect();
    assert_eq!(m.len(), 1, "{r:?}");
    assert_eq!(
        m[0].message_vi,
        "14.571/20.934 = 69,6 %, báo cáo ghi 85,7 %"
    );

    let r = check_one(
        JUSTICE,
        "Đã số hóa 194,675/194,703 bản ghi hộ tịch (99.98 %).",
    );
    assert_eq!(r.mismatches().count(), 0, "{r:?}");
    let notes: Vec<_> = r.notes().collect();
    assert_eq!(notes.len(), 1, "{r:?}");
    assert_eq!(notes[0].outcome, Outcome::Truncated);
    assert!(
        notes[0].message_vi.contains("99,99 % (làm tròn)"),
        "{}",
        notes[0].message_vi
    );
    assert!(notes[0].message_vi.contains("cắt bớt"));
}

#[test]
fn report_figures_are_named_in_the_message() {
    let r = check_one(
        GIA_LAI,
        "Toàn tỉnh đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, đạt 48,0% dân số.",
    );
    let m: Vec<_> = r.mismatches().collect();
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].message_vi,
        "Tài khoản định danh điện tử mức 2 đã kích hoạt: 704.828/1.727.520 (công dân thường trú) = 40,8 %, báo cáo ghi 48,0 %"
    );
    assert_eq!(m[0].indicator.as_deref(), Some("vneid.l2.activated"));
    let r = check_one(
        GIA_LAI,
        "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, tăng 12.221 so với tuần trước.",
    );
    let m: Vec<_> = r.mismatches().collect();
    assert_eq!(m.len(), 1, "{r:?}");
    assert!(
        m[0].message_vi.contains("tăng 8.221"),
        "{}",
        m[0].message_vi
    );
    // Without the previous period the change is not checked.
    let mut no_previous = indicators(GIA_LAI);
    no_previous.iter_mut().for_each(|i| i.previous_total = None);
    let r = narrative::check(
        NarrativeTexts {
            proposals: "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, tăng 12.221 so với tuần trước.",
            ..Default::default()
        },
        &no_previous,
    );
    assert_eq!(r.mismatches().count(), 0, "{r:?}");
}

#[test]
fn a_synonym_naming_two_indicators_names_neither() {
    let mut inds = indicators(GIA_LAI);
    for i in inds.iter_mut().filter(|i| i.code.starts_with("vneid.l2")) {
        i.synonyms.push("tài khoản mức hai".into());
    }
    let r = narrative::check(
        NarrativeTexts {
            assessment: "Có 5 tài khoản mức hai.",
            ..Default::default()
        },
        &inds,
    );
    assert!(r.claims.is_empty(), "{r:?}");
}

/// A narrative at the size limit (20.000 characters a field) of figure-dense sentences is read in
/// one pass: claims are found and the check ends (the rules are linear in the sentences, with
/// patterns tried at each word).
#[test]
fn a_narrative_at_the_size_limit_is_read() {
    let sentence = "Đã kích hoạt 704.828 tài khoản định danh điện tử mức 2, đạt 40,8% dân số; \
                    19/218 xã (8,7%) đạt chỉ tiêu. ";
    let text: String = sentence
        .repeat(20_000 / sentence.chars().count())
        .chars()
        .take(20_000)
        .collect();
    let started = std::time::Instant::now();
    let r = narrative::check(
        NarrativeTexts {
            assessment: &text,
            obstacles: &text,
            proposals: &text,
        },
        &indicators(GIA_LAI),
    );
    println!("3 × 20.000 characters read in {:?}", started.elapsed());
    assert!(r.claims.len() > 100);
    assert_eq!(r.mismatches().count(), 0);
}
