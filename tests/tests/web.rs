//! The task force's web page against the real aggregator (HTTP on an ephemeral port): the pages
//! show the figures the gRPC API gives for the same question; sign-in, CSRF, sessions, the 403
//! page for another province, security headers, CSV, and live flags over Server-Sent Events.

use std::time::Duration;

use p06_auth::{Agency, Grant, Role};
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, GetConsolidatedStatusRequest, GetReportRequest,
    ListLocalityProgressRequest, LocalityLevel,
};
use p06_tests::fixtures::{
    BINH_DINH, EDITION, GIA_LAI, HA_DONG, date, obs, period, police_report, province,
};
use p06_tests::services::{TestAggregator, authed};
use p06_web::format::{self, Lang};
use p06_web::{RunningWeb, Web, WebConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One HTTP/1.1 exchange (Connection: close).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of a Set-Cookie header for `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

async fn http(web: &RunningWeb, method: &str, path: &str, cookie: &str, form: &str) -> Reply {
    let mut stream = TcpStream::connect(web.addr).await.expect("connect web");
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
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

fn form_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("form field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

const SECURITY_HEADERS: [(&str, &str); 3] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

fn assert_safe(reply: &Reply, tokens: &[&str], what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(reply.header(name), Some(value), "{what}: {name}");
    }
    for token in tokens {
        assert!(
            !reply.body.contains(token),
            "{what}: a token is in the body"
        );
    }
    assert!(!reply.body.contains("panicked"), "{what}");
}

async fn start() -> (TestAggregator, RunningWeb) {
    let t = TestAggregator::start().await;
    let web = Web::new(&WebConfig::for_aggregator(t.running.url()))
        .unwrap()
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    (t, web)
}

/// Signs in through the form (CSRF double-submit cookie) and returns the session cookie.
async fn sign_in(web: &RunningWeb, token: &str) -> String {
    let page = http(web, "GET", "/signin", "", "").await;
    assert_eq!(page.status, 200);
    let pre = page.cookie("p06_csrf").expect("pre-session cookie");
    let csrf = form_field(&page.body, "csrf");
    let form = format!("csrf={csrf}&next=%2F&token={token}");
    let reply = http(web, "POST", "/signin", &pre, &form).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let session = reply.cookie("p06_session").expect("session cookie");
    let set = reply.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    format!("{pre}; {session}")
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_show_the_api_figures_to_their_province_only() {
    let (t, web) = start().await;
    let viewer = t.keys.viewer();
    let reporter = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;
    ingest
        .submit_report(authed(
            police_report(
                "web-1",
                vec![
                    obs("vneid.l2.activated", HA_DONG, 109.0),
                    obs("residents.permanent", HA_DONG, 5_908.0),
                ],
            ),
            &reporter,
        ))
        .await
        .expect("report stored");

    // No session: the sign-in page.
    let anonymous = http(&web, "GET", "/p/64?as_of=2025-03-22", "", "").await;
    assert_eq!(anonymous.status, 303);
    assert!(
        anonymous
            .header("location")
            .unwrap()
            .starts_with("/signin?next=")
    );

    // CSRF: a sign-in post without the form's token is refused and starts no session.
    let refused = http(
        &web,
        "POST",
        "/signin",
        "",
        &format!("csrf=x&token={viewer}"),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(refused.cookie("p06_session").is_none());

    let cookie = sign_in(&web, &viewer).await;

    // Overview: the figures GetConsolidatedStatus gives for the same dates.
    let mut api = TaskForceServiceClient::new(t.channel().await);
    let status = api
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                as_of: Some(p06_kit::convert::date_to_proto(date("2025-03-22"))),
                compare_to: Some(p06_kit::convert::date_to_proto(date("2025-03-15"))),
                lowest_count: 3,
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let overview = http(
        &web,
        "GET",
        "/p/64?as_of=2025-03-22&compare_to=2025-03-15",
        &cookie,
        "",
    )
    .await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert_safe(&overview, &[&viewer], "overview");
    assert!(!status.indicators.is_empty());
    for i in &status.indicators {
        assert!(overview.body.contains(&i.name_vi), "{}", i.name_vi);
        let value = format::opt_figure(Lang::Vi, i.value);
        assert!(
            overview
                .body
                .contains(&format!("<span class=\"value\">{value}</span>")),
            "{value}"
        );
        if let Some(p) = i.percent_of_denominator {
            assert!(overview.body.contains(&format::percent(Lang::Vi, p)));
        }
    }
    assert!(overview.body.contains("<svg class=\"trend\""));
    let english = http(&web, "GET", "/p/64?as_of=2025-03-22&lang=en", &cookie, "").await;
    assert!(english.body.contains("Figures as of"));

    // Communes: the ranking ListLocalityProgress gives; the search folds diacritics.
    let progress = api
        .list_locality_progress(authed(
            ListLocalityProgressRequest {
                indicator_code: "vneid.l2.activated".into(),
                parent: province(GIA_LAI),
                level: LocalityLevel::Commune as i32,
                as_of: Some(p06_kit::convert::date_to_proto(date("2025-03-22"))),
                page_size: 1_000,
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let ha_dong = progress
        .rows
        .iter()
        .find(|r| r.locality.as_ref().unwrap().code == HA_DONG)
        .unwrap();
    let communes = http(
        &web,
        "GET",
        "/p/64/communes?indicator=vneid.l2.activated&as_of=2025-03-22&q=ha+dong",
        &cookie,
        "",
    )
    .await;
    assert_eq!(communes.status, 200, "{}", communes.body);
    assert_safe(&communes, &[&viewer], "communes");
    let name = &ha_dong.locality.as_ref().unwrap().name;
    assert!(communes.body.contains(name.as_str()));
    assert!(communes.body.contains(&format!(
        "<td class=\"num value\">{}</td>",
        format::opt_figure(Lang::Vi, ha_dong.value)
    )));
    assert_eq!(
        communes.body.matches("<tr data-code=").count(),
        1,
        "only Hà Đông matches"
    );
    let none = http(&web, "GET", "/p/64/communes?q=khong+co+xa+nay", &cookie, "").await;
    assert_eq!(none.body.matches("<tr data-code=").count(), 0);

    // CSV with the CLI's stable header.
    let csv = http(
        &web,
        "GET",
        "/p/64/communes.csv?indicator=vneid.l2.activated&as_of=2025-03-22",
        &cookie,
        "",
    )
    .await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.body.lines().next(),
        Some(
            "rank,code,name,parent_code,value,target,percent_of_target,denominator_value,percent_of_denominator,change,as_of,pace_status,pace_recent_per_week,pace_needed_per_week,pace_projected,pace_due"
        )
    );
    assert_eq!(csv.body.lines().count(), progress.rows.len() + 1);

    // Districts and compliance answer with the API's figures.
    let districts = http(
        &web,
        "GET",
        "/p/64/districts?indicator=vneid.l2.activated&as_of=2025-03-22",
        &cookie,
        "",
    )
    .await;
    assert_eq!(districts.status, 200, "{}", districts.body);
    assert!(districts.body.contains("Huyện Đak Đoa"));
    let board = api
        .get_compliance_board(authed(
            GetComplianceBoardRequest {
                province: province(GIA_LAI),
                from: Some(p06_kit::convert::date_to_proto(date("2025-02-20"))),
                to: Some(p06_kit::convert::date_to_proto(date("2025-03-22"))),
                agency: String::new(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let compliance = http(
        &web,
        "GET",
        "/p/64/compliance?from=2025-02-20&to=2025-03-22",
        &cookie,
        "",
    )
    .await;
    assert_eq!(compliance.status, 200, "{}", compliance.body);
    for o in &board.obligations {
        let row_start = compliance
            .body
            .find(&format!("<tr data-obligation=\"{}\">", o.obligation))
            .expect("a row per obligation");
        let row = &compliance.body
            [row_start..row_start + compliance.body[row_start..].find("</tr>").unwrap()];
        assert!(
            row.contains(&format!("<td class=\"num expected\">{}</td>", o.expected)),
            "{row}"
        );
        assert!(
            row.contains(&format!("<td class=\"num received\">{}</td>", o.received)),
            "{row}"
        );
        assert!(
            row.contains(&format!("<td class=\"num missing\">{}</td>", o.missing)),
            "{row}"
        );
    }

    // Another province: the aggregator's PERMISSION_DENIED as a clear 403 page.
    for path in ["/p/52", "/p/52/communes", "/p/52/compliance", "/p/52/flags"] {
        let other = http(&web, "GET", path, &cookie, "").await;
        assert_eq!(other.status, 403, "{path}: {}", other.body);
        assert!(
            other.body.contains("Không có quyền xem trang này"),
            "{path}"
        );
        assert_safe(&other, &[&viewer], path);
    }

    // Sign-out needs the session's CSRF token, then ends the session.
    let bad = http(&web, "POST", "/signout", &cookie, "csrf=nope").await;
    assert_eq!(bad.status, 403);
    let csrf = form_field(&overview.body, "csrf");
    let out = http(&web, "POST", "/signout", &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(out.status, 303);
    let after = http(&web, "GET", "/p/64", &cookie, "").await;
    assert_eq!(after.status, 303, "the session ended");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_and_reporter_tokens_do_not_sign_in() {
    let (t, web) = start().await;
    let viewer = t.keys.viewer();
    // Same claims, another signature: the aggregator refuses it, so no session starts.
    let mut parts: Vec<&str> = viewer.split('.').collect();
    parts[2] =
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let forged = parts.join(".");
    let expired = t
        .keys
        .dev
        .mint(
            &Grant::new(Agency::Taskforce, EDITION, GIA_LAI, Role::TaskforceViewer)
                .with_ttl(chrono::Duration::seconds(1)),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let reporter = t.keys.reporter(Agency::Police);
    for (token, words) in [
        (forged.as_str(), "không chấp nhận"),
        (expired.as_str(), "hết hạn"),
        (reporter.as_str(), "không phải của Tổ công tác"),
    ] {
        let page = http(&web, "GET", "/signin", "", "").await;
        let pre = page.cookie("p06_csrf").unwrap();
        let csrf = form_field(&page.body, "csrf");
        let reply = http(
            &web,
            "POST",
            "/signin",
            &pre,
            &format!("csrf={csrf}&token={token}"),
        )
        .await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert!(reply.body.contains(words), "{words}: {}", reply.body);
        assert!(reply.cookie("p06_session").is_none());
        assert_safe(&reply, &[token], "sign-in refusal");
    }
    // The one-time link works once, and the token is never in it.
    let link = web.one_time_link(&viewer, "/p/64");
    assert!(!link.contains(&viewer));
    let path = link.strip_prefix(&web.url()).unwrap();
    let first = http(&web, "GET", path, "", "").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/p/64"));
    assert!(first.cookie("p06_session").is_some());
    let again = http(&web, "GET", path, "", "").await;
    assert_eq!(again.status, 401);
    // A forged token handed to the link is refused by the aggregator too.
    let forged_link = web.one_time_link(&forged, "/p/64");
    let reply = http(
        &web,
        "GET",
        forged_link.strip_prefix(&web.url()).unwrap(),
        "",
        "",
    )
    .await;
    assert_eq!(reply.status, 401);
    // Assets are embedded and cacheable; they carry the security headers too.
    let css = http(&web, "GET", "/assets/app.css", "", "").await;
    assert_eq!(css.status, 200);
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert_safe(&css, &[], "css");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_raised_while_the_flags_page_is_open_arrives_as_an_event() {
    let (t, web) = start().await;
    let viewer = t.keys.viewer();
    let cookie = sign_in(&web, &viewer).await;
    let page = http(&web, "GET", "/p/64/flags", &cookie, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<table id=\"flags\""));
    assert!(page.body.contains("/assets/flags.js?v="));

    let mut stream = TcpStream::connect(web.addr).await.unwrap();
    stream
        .write_all(
            format!(
                "GET /p/64/flags/events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
                web.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.contains("text/event-stream"), "{seen}");

    // A vague report (no narrative, one figure) raises a VAGUE flag.
    let mut report = police_report("web-vague", vec![obs("vneid.l2.activated", HA_DONG, 109.0)]);
    report.narrative = None;
    report.period = period("2025-03-03", "2025-03-09");
    let receipt = t
        .ingest()
        .await
        .submit_report(authed(report, &t.keys.reporter(Agency::Police)))
        .await
        .unwrap()
        .into_inner();
    assert!(!receipt.flags.is_empty(), "the report raised a flag");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains("event: flag") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("a flag event within 15 s")
            .unwrap();
        assert!(n > 0, "stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains(&receipt.flags[0].name), "{seen}");
    assert!(!seen.contains(&viewer));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_national_token_sees_provinces_ranked_and_opens_any_province() {
    let (t, web) = start().await;
    let reporter = t.keys.reporter(Agency::Police);
    t.ingest()
        .await
        .submit_report(authed(
            police_report(
                "web-national",
                vec![obs("vneid.l2.activated", HA_DONG, 109.0)],
            ),
            &reporter,
        ))
        .await
        .unwrap();
    let national = t.keys.token(Agency::Taskforce, "VN", Role::TaskforceViewer);
    let cookie = sign_in(&web, &national).await;
    let home = http(&web, "GET", "/", &cookie, "").await;
    assert_eq!(home.header("location"), Some("/country"));
    let country = http(&web, "GET", "/country?as_of=2025-03-22", &cookie, "").await;
    assert_eq!(country.status, 200, "{}", country.body);
    assert!(country.body.contains("Tỉnh Gia Lai"));
    assert!(country.body.contains("<td class=\"num value\">109</td>"));
    assert_safe(&country, &[&national], "country");
    let province = http(&web, "GET", "/p/64?as_of=2025-03-22", &cookie, "").await;
    assert_eq!(province.status, 200, "{}", province.body);
    assert!(province.body.contains("<span class=\"value\">109</span>"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_page_shows_receipt_narrative_observations_and_what_each_revision_changed() {
    let (t, web) = start().await;
    let reporter = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;
    let first = ingest
        .submit_report(authed(
            police_report(
                "web-rev-1",
                vec![
                    obs("vneid.l2.activated", HA_DONG, 109.0),
                    obs("residents.permanent", HA_DONG, 5_908.0),
                ],
            ),
            &reporter,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut revised = police_report(
        "web-rev-2",
        vec![
            obs("vneid.l2.activated", HA_DONG, 1_250.0),
            obs("residents.permanent", HA_DONG, 5_908.0),
        ],
    );
    revised.narrative.as_mut().unwrap().proposals = "Bổ sung 2 tổ lưu động tại Đak Đoa.".into();
    let second = ingest
        .submit_report(authed(revised, &reporter))
        .await
        .unwrap()
        .into_inner();
    let viewer = t.keys.viewer();
    let cookie = sign_in(&web, &viewer).await;
    let id = second.report.strip_prefix("reports/").unwrap();

    // What the API says about the report.
    let report = ingest
        .get_report(authed(
            GetReportRequest {
                name: second.report.clone(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let receipt = report.receipt.clone().unwrap();

    let page = http(&web, "GET", &format!("/p/64/reports/{id}"), &cookie, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_safe(&page, &[&viewer], "report");
    let html = &page.body;
    for (class, value) in [
        ("revision", "2".to_owned()),
        ("sha256 mono", receipt.payload_sha256.clone()),
        (
            "received",
            format::opt_timestamp(Lang::Vi, receipt.receive_time.as_ref()),
        ),
        (
            "deadline",
            format::opt_timestamp(Lang::Vi, receipt.deadline.as_ref()),
        ),
        (
            "specificity",
            format!("{}/100", receipt.specificity_score.unwrap()),
        ),
        ("submitted-by", report.submitted_by.clone()),
    ] {
        assert!(
            html.contains(&format!("<dd class=\"{class}\">{value}</dd>")),
            "{class} {value}"
        );
    }
    assert!(html.contains("Bổ sung 2 tổ lưu động tại Đak Đoa."));
    for o in &report.observations {
        let row = format!(
            "<tr data-indicator=\"{}\" data-locality=\"{}\">",
            o.indicator_code, o.locality_code
        );
        let at = html.find(&row).expect("a row per observation");
        let cells = &html[at..at + html[at..].find("</tr>").unwrap()];
        assert!(
            cells.contains(&format!(
                "<td class=\"num value\">{}</td>",
                format::figure(Lang::Vi, o.value)
            )),
            "{cells}"
        );
    }
    // Both revisions, the first one linked, and what the second changed.
    let first_id = first.report.strip_prefix("reports/").unwrap();
    assert!(html.contains(&format!("<a href=\"/p/64/reports/{first_id}\">1</a>")));
    assert!(
        html.contains("<span class=\"before\">109</span> → <span class=\"after\">1.250</span>")
    );
    assert_eq!(
        html.matches("<span class=\"before\">").count(),
        1,
        "one change"
    );
    assert!(html.contains("Xã Hà Đông"));

    // The observations as CSV, as the API gives them.
    let csv = http(
        &web,
        "GET",
        &format!("/p/64/reports/{id}/observations.csv"),
        &cookie,
        "",
    )
    .await;
    assert_eq!(csv.status, 200);
    let mut lines = csv.body.lines();
    assert_eq!(lines.next(), Some("indicator_code,locality_code,value"));
    assert_eq!(lines.count(), report.observations.len());
    assert!(
        csv.body
            .contains(&format!("vneid.l2.activated,{HA_DONG},1250.0"))
    );

    // The compliance row links to the reports behind it, and they to the report.
    let compliance = http(
        &web,
        "GET",
        "/p/64/compliance?from=2025-03-01&to=2025-03-22",
        &cookie,
        "",
    )
    .await;
    let href = "/p/64/reports?agency=police&#38;obligation=police-weekly-identity&#38;from=2025-03-01&#38;to=2025-03-22";
    assert!(compliance.body.contains(href), "{}", compliance.body);
    let reports = http(&web, "GET", &href.replace("&#38;", "&"), &cookie, "").await;
    assert_eq!(reports.status, 200, "{}", reports.body);
    assert_eq!(reports.body.matches("<tr data-name=").count(), 2);
    assert!(
        reports
            .body
            .contains(&format!("href=\"/p/64/reports/{id}\""))
    );

    // Another province's session: the aggregator's PERMISSION_DENIED as a 403 page.
    let other = t
        .keys
        .token(Agency::Taskforce, BINH_DINH, Role::TaskforceViewer);
    let other_cookie = sign_in(&web, &other).await;
    for path in [
        format!("/p/64/reports/{id}"),
        format!("/p/64/reports/{id}/observations.csv"),
        "/p/64/reports".to_owned(),
    ] {
        let denied = http(&web, "GET", &path, &other_cookie, "").await;
        assert_eq!(denied.status, 403, "{path}: {}", denied.body);
        assert!(denied.body.contains("Không có quyền xem trang này"));
        assert_safe(&denied, &[&other], &path);
    }
    // Under its own province the report is not found; a number that is not one is a 400.
    let missing = http(
        &web,
        "GET",
        &format!("/p/52/reports/{id}"),
        &other_cookie,
        "",
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let bad = http(&web, "GET", "/p/64/reports/abc", &cookie, "").await;
    assert_eq!(bad.status, 400);
}
