//! The web page's pace to target and `known_at` (issue 24) against the real aggregator: the
//! overview card's status badge with the pace needed and the recent pace, the communes table's
//! pace column and filter, and the overview as known at an instant.

use p06_proto::aggregation::{Target, UpsertTargetsRequest};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use p06_web::{RunningWeb, Web, WebConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SOMEI: &str = "23683";

/// One HTTP/1.1 exchange (Connection: close): status, raw head and body (chunks joined).
async fn http(
    web: &RunningWeb,
    method: &str,
    path: &str,
    cookie: &str,
    form: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(web.addr).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        web.addr
    );
    if !cookie.is_empty() {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(form);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, mut body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut joined = String::new();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        while let Some((size, rest)) = body.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            joined.push_str(&rest[..n]);
            body = &rest[n + 2..];
        }
    } else {
        joined = body.to_owned();
    }
    (status, head.to_owned(), joined)
}

fn cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':')?.1.trim().split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap()
        .to_owned()
}

async fn sign_in(web: &RunningWeb, token: &str) -> String {
    let (_, head, body) = http(web, "GET", "/signin", "", "").await;
    let pre = cookie(&head, "p06_csrf");
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    let csrf = &body[start..start + body[start..].find('"').unwrap()];
    let form = format!("csrf={csrf}&next=%2F&token={token}");
    let (status, head, _) = http(web, "POST", "/signin", &pre, &form).await;
    assert_eq!(status, 303);
    format!("{pre}; {}", cookie(&head, "p06_session"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overview_and_the_communes_show_the_pace_and_the_figures_known_at_an_instant() {
    let t = TestAggregator::start().await;
    t.clock.set("2025-03-03T01:00:00Z".parse().unwrap());
    let targets = [HA_DONG, SOMEI]
        .iter()
        .map(|code| Target {
            indicator_code: "vneid.l2.activated".into(),
            locality: Some(LocalityRef {
                edition: EDITION.into(),
                code: (*code).into(),
            }),
            due_date: Some(p06_kit::convert::date_to_proto(date("2025-04-27"))),
            value: 2_000.0,
            update_time: None,
        })
        .collect();
    t.catalog()
        .await
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets".into(),
                targets,
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    let mut ingest = t.ingest().await;
    for (i, (start, end, received, ha_dong, somei)) in [
        (
            "2025-03-03",
            "2025-03-09",
            "2025-03-10T02:00:00Z",
            1_000.0,
            100.0,
        ),
        (
            "2025-03-10",
            "2025-03-16",
            "2025-03-17T02:00:00Z",
            1_100.0,
            110.0,
        ),
        (
            "2025-03-17",
            "2025-03-23",
            "2025-03-24T02:00:00Z",
            1_200.0,
            120.0,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        t.clock.set(received.parse().unwrap());
        let mut report = police_report(
            &format!("w{i}"),
            vec![
                obs("vneid.l2.activated", HA_DONG, ha_dong),
                obs("vneid.l2.activated", SOMEI, somei),
            ],
        );
        report.period = period(start, end);
        ingest
            .submit_report(authed(report, &t.keys.reporter(p06_auth::Agency::Police)))
            .await
            .unwrap();
    }
    let web = Web::new(&WebConfig::for_aggregator(t.running.url()))
        .unwrap()
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let session = sign_in(&web, &t.keys.viewer()).await;

    // The district's card: 1,320 of 4,000, +110 a week, needs 536 a week: far behind.
    let (status, _, overview) = http(&web, "GET", "/p/64?as_of=2025-03-23", &session, "").await;
    assert_eq!(status, 200, "{overview}");
    let card = &overview[overview
        .find("data-indicator=\"vneid.l2.activated\"")
        .unwrap()..];
    let card = &card[..card.find("</section>").unwrap()];
    assert!(card.contains("pace-off-track"), "{card}");
    assert!(card.contains("Chậm tiến độ"), "{card}");
    assert!(
        card.contains("+536/tuần") && card.contains("+110/tuần"),
        "{card}"
    );
    assert!(card.contains("27/04/2025"), "the due date: {card}");

    // Known at Monday 17 March 08:30 (Vietnam): only the first week, no trend yet.
    let (status, _, known) = http(
        &web,
        "GET",
        "/p/64?as_of=2025-03-23&known_at=2025-03-17T08%3A30",
        &session,
        "",
    )
    .await;
    assert_eq!(status, 200, "{known}");
    assert!(
        known.contains("value=\"2025-03-17T08:30\""),
        "the field keeps the instant"
    );
    assert!(known.contains("Chưa đủ số liệu"), "{known}");
    assert!(known.contains("1.100"), "1,000 + 100 known then");
    let (status, _, _) = http(&web, "GET", "/p/64?known_at=yesterday", &session, "").await;
    assert_eq!(status, 400);

    // Communes: the pace column, and the filter keeps Hà Đông (at risk) only.
    let (status, _, communes) = http(
        &web,
        "GET",
        "/p/64/communes?indicator=vneid.l2.activated&as_of=2025-03-23&pace=at-risk",
        &session,
        "",
    )
    .await;
    assert_eq!(status, 200, "{communes}");
    assert!(
        communes.contains(&format!("data-code=\"{HA_DONG}\"")),
        "{communes}"
    );
    assert!(!communes.contains(&format!("data-code=\"{SOMEI}\"")));
    assert!(communes.contains("Có nguy cơ trễ hạn"));
    assert!(communes.contains("<option value=\"at-risk\" selected>"));
}
