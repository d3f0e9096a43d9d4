//! `p06 chase` against a running aggregator: Gia Lai's week of 10–16 March 2025 with the police
//! report late (and a narrative slip), the health report vague and the justice report missing.
//! The letter names each fact, in Markdown and in the .docx's document.xml; once health sends a
//! specific revision, health is no longer addressed. The web page's compliance page links the same
//! letter as .docx, drawn from the same facts.

use std::io::Read as _;
use std::process::Command;

use chrono::{DateTime, Utc};
use p06_auth::Agency;
use p06_domain::clock::Clock;
use p06_domain::locality::Edition;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{
    ListLocalitiesRequest, LocalityLevel, Observation, SubmitReportRequest, Target,
    UpsertTargetsRequest,
};
use p06_proto::common::{LocalityRef, Narrative};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn p06(t: &TestAggregator, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06"));
    for var in ["P06_LANG", "P06_TOKEN", "P06_SERVER", "P06_DATA_DIR"] {
        command.env_remove(var);
    }
    command
        .args(args)
        .args(["--server", &t.running.url(), "--token", &t.keys.viewer()])
        .args(["--edition", EDITION])
        .output()
        .expect("run p06")
}

/// Every commune of Gia Lai (edition 2024).
async fn communes(t: &TestAggregator) -> Vec<String> {
    let mut codes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = t
            .catalog()
            .await
            .list_localities(authed(
                ListLocalitiesRequest {
                    edition: EDITION.into(),
                    parent_code: GIA_LAI.into(),
                    level: LocalityLevel::Commune as i32,
                    page_size: 1_000,
                    page_token,
                },
                &t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner();
        codes.extend(page.localities.into_iter().map(|l| l.code));
        if page.next_page_token.is_empty() {
            return codes;
        }
        page_token = page.next_page_token;
    }
}

fn report(
    agency: &str,
    obligation: &str,
    request_id: &str,
    observations: Vec<Observation>,
    narrative: (&str, &str, &str),
) -> SubmitReportRequest {
    let mut r = police_report(request_id, observations);
    r.agency = agency.into();
    r.obligation = obligation.into();
    r.narrative = Some(Narrative {
        assessment: narrative.0.into(),
        obstacles: narrative.1.into(),
        proposals: narrative.2.into(),
    });
    r
}

fn unzip_document_xml(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("word/document.xml")
        .read_to_string(&mut xml)
        .unwrap();
    xml
}

/// One HTTP/1.1 GET (Connection: close): status line, head and body bytes.
async fn get(addr: std::net::SocketAddr, path: &str, cookie: &str) -> (String, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, head, raw[split + 4..].to_vec())
}

const SLIP: &str = "Đến nay có 186.568/738.291 công dân đã kích hoạt tài khoản định danh điện tử mức 2 (đạt 24,37%).";

#[tokio::test(flavor = "multi_thread")]
async fn p06_chase_drafts_the_letter_from_the_facts() {
    let t = TestAggregator::start().await;
    let state = &t.aggregator.state;
    // Only the week of 10–16 March is owed (no earlier weeks, no monthly report).
    let gia_lai = state.catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    for (code, from) in [
        ("police-weekly-identity", "2025-03-10"),
        ("health-weekly", "2025-03-10"),
        ("justice-weekly", "2025-03-10"),
        ("police-monthly-regime", "2025-06-01"),
    ] {
        let mut spec = state
            .store
            .obligation_for(code, gia_lai)
            .await
            .unwrap()
            .unwrap();
        spec.from = Some(date(from));
        state
            .store
            .upsert_obligation(&spec, gia_lai, "test", t.clock.now())
            .await
            .unwrap();
    }
    let communes = communes(&t).await;
    assert!(communes.len() > 200 && communes.contains(&HA_DONG.to_owned()));
    let other = communes.iter().find(|c| *c != HA_DONG).unwrap().clone();
    t.catalog()
        .await
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets".into(),
                targets: [(HA_DONG, 2_068.0), (other.as_str(), 1_000.0)]
                    .iter()
                    .map(|(code, value)| Target {
                        indicator_code: "vneid.l2.activated".into(),
                        locality: Some(LocalityRef {
                            edition: EDITION.into(),
                            code: (*code).into(),
                        }),
                        due_date: Some(date_to_proto(date("2025-03-31"))),
                        value: *value,
                        update_time: None,
                    })
                    .collect(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();

    // Health, on time but vague: a province total of one indicator, no assessment.
    t.clock.set(at("2025-03-18T03:00:00Z"));
    let health = t.keys.reporter(Agency::Health);
    let vague = t
        .ingest()
        .await
        .submit_report(authed(
            report(
                "health",
                "health-weekly",
                "h1",
                vec![obs("bhyt.cards.integrated", GIA_LAI, 500_000.0)],
                ("", "", ""),
            ),
            &health,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(vague.flags.iter().any(|f| f.kind == "VAGUE"), "{vague:?}");
    // The deadline (Tue 18/03 17:00 in Vietnam) passes: police and justice are MISSING.
    t.clock.set(at("2025-03-18T10:00:01Z"));
    p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    // Police reports two days late, every commune, with a slip in the narrative.
    t.clock.set(at("2025-03-20T03:00:00Z"));
    let mut figures = Vec::new();
    for c in &communes {
        let (residents, created, activated) = if c == HA_DONG {
            (5_908.0, 150.0, 109.0)
        } else {
            (3_000.0, 1_000.0, 800.0)
        };
        figures.push(obs("residents.permanent", c, residents));
        figures.push(obs("vneid.l2.created", c, created));
        figures.push(obs("vneid.l2.activated", c, activated));
        figures.push(obs("cccd.cards.issued", c, 2_000.0));
    }
    let late = t
        .ingest()
        .await
        .submit_report(authed(
            report(
                "police",
                "police-weekly-identity",
                "p1",
                figures,
                (
                    SLIP,
                    "Thiếu thiết bị tại xã vùng sâu.",
                    "Bổ sung tổ lưu động.",
                ),
            ),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<&str> = late.flags.iter().map(|f| f.kind.as_str()).collect();
    assert!(
        kinds.contains(&"LATE")
            && kinds.contains(&"NARRATIVE_MISMATCH")
            && !kinds.contains(&"VAGUE"),
        "{kinds:?}"
    );
    t.clock.set(at("2025-03-21T03:00:00Z"));

    let out = p06(
        &t,
        &["chase", "--province", GIA_LAI, "--as-of", "2025-03-22"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    let plain = md.replace('\\', "");
    for fact in [
        "BAN CHỈ ĐẠO ĐỀ ÁN 06 TỈNH GIA LAI",
        "TỔ CÔNG TÁC TRIỂN KHAI ĐỀ ÁN 06",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: …/CV-TCT",
        "Gia Lai, ngày … tháng … năm …",
        "V/v đôn đốc báo cáo và khắc phục",
        "Kính gửi:",
        "- Công an tỉnh;",
        "- Bảo hiểm xã hội tỉnh / Sở Y tế;",
        "- Sở Tư pháp;",
        // Justice: missing, with its period and deadline.
        "Chưa nộp «Báo cáo tuần: số hóa hộ tịch, đăng ký trực tuyến» kỳ 10/03/2025 – 16/03/2025 (hạn nộp: 17:00 ngày 18/03/2025)",
        // Police: late, by how much, with the deadline and the receive time.
        "kỳ 10/03/2025 – 16/03/2025: trễ 1 ngày 17 giờ",
        "hạn nộp: 17:00 ngày 18/03/2025",
        "hệ thống nhận lúc: 10:00 ngày 20/03/2025",
        // Police: the narrative slip, quoted.
        "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %",
        SLIP,
        // Police: the commune furthest behind target.
        "Xã Hà Đông: 109/2.068 chỉ tiêu (5,3 %)",
        // Health: vague, with the score.
        "kỳ 10/03/2025 – 16/03/2025 còn chung chung, điểm cụ thể",
        // The new deadline: 5 working days after Saturday 22/03/2025.
        "chậm nhất ngày 28/03/2025",
        "Nơi nhận:",
        "Như trên;",
        "Lưu: VT.",
    ] {
        assert!(plain.contains(fact), "missing {fact:?} in\n{md}");
    }
    // Health's reasons, in the words of its receipt.
    for reason in &vague.specificity_reasons {
        assert!(
            plain.contains(&reason.explanation_vi),
            "missing {:?} in\n{md}",
            reason.explanation_vi
        );
    }
    // Every agency has findings here, each under its own heading, in order.
    let police = plain.find("### 1. Công an tỉnh").expect(&md);
    let health_at = plain
        .find("### 2. Bảo hiểm xã hội tỉnh / Sở Y tế")
        .expect(&md);
    let justice = plain.find("### 3. Sở Tư pháp").expect(&md);
    assert!(police < health_at && health_at < justice);
    assert!(plain[police..health_at].contains("trễ 1 ngày 17 giờ"));
    assert!(plain[health_at..justice].contains("chung chung"));
    assert!(plain[justice..].contains("Chưa nộp"));

    // The same letter as .docx: a zip whose word/document.xml holds the facts.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cong-van.docx");
    let out = p06(
        &t,
        &[
            "chase",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-22",
            "-o",
            path.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = unzip_document_xml(&std::fs::read(&path).unwrap());
    for fact in [
        "BAN CHỈ ĐẠO ĐỀ ÁN 06 TỈNH GIA LAI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Sở Tư pháp",
        "kỳ 10/03/2025 – 16/03/2025 (hạn nộp: 17:00 ngày 18/03/2025)",
        "trễ 1 ngày 17 giờ",
        "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %",
        "Xã Hà Đông: 109/2.068 chỉ tiêu (5,3 %)",
        "chậm nhất ngày 28/03/2025",
        "Lưu: VT.",
    ] {
        assert!(xml.contains(fact), "missing {fact:?} in document.xml");
    }

    // The web page's compliance page links the same letter as .docx for the province and date.
    let web = p06_web::Web::new(&p06_web::WebConfig::for_aggregator(t.running.url())).unwrap();
    let link = web.one_time_link(&t.keys.viewer(), "/");
    let web = web.spawn(([127, 0, 0, 1], 0).into()).await.unwrap();
    let (status, head, _) = get(web.addr, &link, "").await;
    assert!(status.contains("303"), "{head}");
    let cookie = head
        .lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("p06_session="))
        .expect("session cookie")
        .to_owned();
    let (status, _, page) = get(
        web.addr,
        &format!("/p/{GIA_LAI}/compliance?to=2025-03-22"),
        &cookie,
    )
    .await;
    let page = String::from_utf8(page).unwrap();
    let href = format!("/p/{GIA_LAI}/compliance/letter.docx?to=2025-03-22");
    assert!(status.contains("200") && page.contains(&href), "{page}");
    let (status, head, body) = get(web.addr, &href, &cookie).await;
    assert!(status.contains("200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("wordprocessingml"),
        "{head}"
    );
    let web_xml = unzip_document_xml(&body);
    for fact in [
        "Sở Tư pháp",
        "trễ 1 ngày 17 giờ",
        "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %",
        "chậm nhất ngày 28/03/2025",
    ] {
        assert!(
            web_xml.contains(fact),
            "missing {fact:?} in the web page's letter"
        );
    }

    // Health sends a specific revision: its VAGUE flag is of an earlier revision, so health has
    // nothing left to answer for and is neither addressed nor mentioned.
    let mut figures = Vec::new();
    for c in &communes {
        // At most what police reported as activated in every commune (Hà Đông: 109), so no
        // cross-agency bound can be broken.
        figures.push(obs("bhyt.cards.integrated", c, 100.0));
        figures.push(obs("health_book.integrated", c, 90.0));
        figures.push(obs("pension.recipients", c, 50.0));
        figures.push(obs("pension.cashless.recipients", c, 40.0));
    }
    let specific = t
        .ingest()
        .await
        .submit_report(authed(
            report(
                "health",
                "health-weekly",
                "h2",
                figures,
                (
                    "Hoàn thành tích hợp thẻ bảo hiểm y tế tại tất cả các xã của tỉnh trong tuần.",
                    "Một số cơ sở y tế tuyến xã thiếu đầu đọc thẻ.",
                    "Đề nghị bổ sung đầu đọc thẻ cho trạm y tế xã.",
                ),
            ),
            &health,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !specific.flags.iter().any(|f| f.kind == "VAGUE"),
        "{specific:?}"
    );
    let out = p06(
        &t,
        &["chase", "--province", GIA_LAI, "--as-of", "2025-03-22"],
    );
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("Công an tỉnh") && md.contains("Sở Tư pháp"),
        "{md}"
    );
    assert!(
        !md.contains("Bảo hiểm xã hội tỉnh")
            && !md.contains("Sở Y tế")
            && !md.contains("chung chung"),
        "{md}"
    );
    assert!(md.contains("### 2. Sở Tư pháp"), "{md}");

    // Before the deadline's facts existed there is nobody to chase.
    let out = p06(
        &t,
        &["chase", "--province", GIA_LAI, "--as-of", "2025-03-17"],
    );
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Không có cơ quan nào cần đôn đốc"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
