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
    let content_type = "application/x-www-form-urlencoded";
    http_bytes(web, method, path, cookie, content_type, form.as_bytes())
        .await
        .0
}

/// One HTTP/1.1 exchange with a body of any type; the reply's body also as bytes.
async fn http_bytes(
    web: &RunningWeb,
    method: &str,
    path: &str,
    cookie: &str,
    content_type: &str,
    body: &[u8],
) -> (Reply, Vec<u8>) {
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
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse(&raw)
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(raw: &[u8]) -> (Reply, Vec<u8>) {
    let split = find_bytes(raw, b"\r\n\r\n").expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
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
        body.to_vec()
    };
    (
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        },
        body,
    )
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find_bytes(body, b"\r\n") {
        let size = String::from_utf8_lossy(&body[..line_end]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let rest = &body[line_end + 2..];
        out.extend_from_slice(&rest[..n]);
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
async fn forged_and_expired_tokens_do_not_sign_in() {
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
    for (token, words) in [
        (forged.as_str(), "không chấp nhận"),
        (expired.as_str(), "hết hạn"),
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

/// Opens the Server-Sent Events stream at `path` with the session `cookie`.
async fn open_events(web: &RunningWeb, path: &str, cookie: &str) -> TcpStream {
    let mut stream = TcpStream::connect(web.addr).await.unwrap();
    stream
        .write_all(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
                web.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    stream
}

/// Reads `stream` into `seen` until it holds `needle`, within 15 s (`what` names the wait).
async fn read_until(stream: &mut TcpStream, seen: &mut String, needle: &str, what: &str) {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !seen.contains(needle) {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{what}: not within 15 s: {seen}"))
            .unwrap();
        assert!(n > 0, "stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// A vague police report (no narrative, one figure) for the week `start`..`end`: it raises a
/// VAGUE flag, whose name is returned.
async fn raise_vague_flag(t: &TestAggregator, request_id: &str, start: &str, end: &str) -> String {
    let mut report = police_report(request_id, vec![obs("vneid.l2.activated", HA_DONG, 109.0)]);
    report.narrative = None;
    report.period = period(start, end);
    let receipt = t
        .ingest()
        .await
        .submit_report(authed(report, &t.keys.reporter(Agency::Police)))
        .await
        .unwrap()
        .into_inner();
    assert!(!receipt.flags.is_empty(), "the report raised a flag");
    receipt.flags[0].name.clone()
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

    let mut stream = open_events(&web, "/p/64/flags/events", &cookie).await;
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, "\r\n\r\n", "the stream's headers").await;
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.contains("text/event-stream"), "{seen}");

    let raised = raise_vague_flag(&t, "web-vague", "2025-03-03", "2025-03-09").await;
    read_until(&mut stream, &mut seen, "event: flag", "a flag event").await;
    assert!(seen.contains(&raised), "{seen}");
    assert!(!seen.contains(&viewer));

    // A flag raised after the page was rendered but before its stream connected still arrives:
    // the page's stream resumes after the newest flag it shows.
    let page = http(&web, "GET", "/p/64/flags", &cookie, "").await;
    let events = page
        .body
        .split("data-events=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the table names its events")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(events.contains("after=flags"), "{events}");
    let raised = raise_vague_flag(&t, "web-vague-2", "2025-02-24", "2025-03-02").await;
    let mut stream = open_events(&web, &events, &cookie).await;
    let mut seen = String::new();
    read_until(
        &mut stream,
        &mut seen,
        &raised,
        &format!("{raised}, raised before the stream ({events})"),
    )
    .await;
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

/// HTML text with askama's escapes undone, to compare with plain strings.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

const BOUNDARY: &str = "----p06TestBoundary7MA4YWxkTrZu0gW";

/// A multipart form as a browser posts it: `fields`, then the file.
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(
    web: &RunningWeb,
    cookie: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    file: &[u8],
) -> Reply {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = multipart(fields, file_name, file);
    http_bytes(web, "POST", "/upload", cookie, &content_type, &body)
        .await
        .0
}

/// A reporter downloads the template, uploads it filled wrong (every cell's error listed, nothing
/// stored), then right (a receipt, the figures stored); the totals row is checked or ignored as
/// asked; CSRF, other agencies and provinces are refused; the task force has no upload.
#[tokio::test(flavor = "multi_thread")]
async fn a_reporter_uploads_a_workbook_and_gets_a_receipt_or_every_cell_error() {
    use p06_tests::workbook::{column_of, resave, row_of};
    use p06_workbook::{Cell, CellRef};

    let (t, web) = start().await;
    let reporter = t.keys.reporter(Agency::Police);
    let cookie = sign_in(&web, &reporter).await;
    let home = http(&web, "GET", "/", &cookie, "").await;
    assert_eq!(home.header("location"), Some("/upload"));
    let page = http(&web, "GET", "/upload", &cookie, "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_safe(&page, &[&reporter], "upload page");
    assert!(page.body.contains("id=\"upload-form\""));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("value=\"police-weekly-identity\""));
    assert!(
        !page.body.contains("health-weekly"),
        "only the police obligations"
    );
    let csrf = form_field(&page.body, "csrf");

    // The template: the workbook `p06 template` writes, one locked row per commune.
    let (reply, bytes) = http_bytes(
        &web,
        "GET",
        "/upload/template.xlsx?obligation=police-weekly-identity&day=2025-03-12",
        &cookie,
        "",
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(
        reply
            .header("content-disposition")
            .unwrap()
            .contains("police-weekly-identity-2025-03-10.xlsx")
    );
    let book = p06_workbook::open(&bytes, "mau.xlsx").unwrap();
    let grid = &book.sheets[0];
    assert_eq!(grid.sheet, "Số liệu");
    let communes = (5..grid.height())
        .filter(|r| !grid.cell(*r, 0).is_empty())
        .count();
    assert_eq!(communes, 218, "every commune of Gia Lai");
    let activated = column_of(grid, 4, "vneid.l2.activated");
    let residents = column_of(grid, 4, "residents.permanent");
    let ha_dong = row_of(grid, HA_DONG);
    let at = |r: u32, c: u32| CellRef::new("Số liệu", r, c).to_string();

    // Wrong: a text in a count, a commune twice, a commune of no province. Nothing is stored.
    let before = t.report_count().await;
    let bad = resave(&book, |sheet, r, c| match (sheet, r, c) {
        ("Số liệu", r, c) if r == ha_dong && c == activated => Some(Cell::Text("12a".into())),
        ("Số liệu", r, 0) if r == ha_dong + 1 => Some(Cell::Text(HA_DONG.into())),
        ("Số liệu", r, 0) if r == ha_dong + 2 => Some(Cell::Text("99999".into())),
        _ => None,
    });
    let reply = upload(
        &web,
        &cookie,
        &[("csrf", &csrf), ("totals", "check")],
        "tuan-11.xlsx",
        &bad,
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_safe(&reply, &[&reporter], "upload problems");
    let body = unescape(&reply.body);
    assert!(body.contains("tuan-11.xlsx: 3 lỗi, chưa gửi gì"), "{body}");
    for (cell, text) in [
        (
            at(ha_dong, activated),
            "\"12a\" không phải là số".to_owned(),
        ),
        (
            at(ha_dong + 1, 0),
            format!(
                "xã {HA_DONG} xuất hiện hai lần (lần đầu ở A{})",
                ha_dong + 1
            ),
        ),
        (
            at(ha_dong + 2, 0),
            "xã 99999 không thuộc tỉnh 64".to_owned(),
        ),
    ] {
        let row = format!("<td class=\"cell\">{cell}</td><td class=\"problem\">{text}</td>");
        assert!(body.contains(&row), "{row}\n{body}");
    }
    assert_eq!(t.report_count().await, before, "nothing was stored");
    // The same in English.
    let english = http_bytes(
        &web,
        "POST",
        "/upload?lang=en",
        &cookie,
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &multipart(&[("csrf", &csrf)], "tuan-11.xlsx", &bad),
    )
    .await
    .0;
    assert!(
        unescape(&english.body).contains(&format!(
            "{}</td><td class=\"problem\">\"12a\" is not a number",
            at(ha_dong, activated)
        )),
        "{}",
        english.body
    );

    // A hand-made sheet that names no obligation: its cells are checked all the same.
    let mut anonymous = rust_xlsxwriter::Workbook::new();
    let sheet = anonymous.add_worksheet();
    sheet.write_string(0, 0, "Mã xã").unwrap();
    sheet.write_string(0, 1, "vneid.l2.activated").unwrap();
    sheet.write_string(1, 0, HA_DONG).unwrap();
    sheet.write_string(1, 1, "mười").unwrap();
    let anonymous = anonymous.save_to_buffer().unwrap();
    let reply = upload(&web, &cookie, &[("csrf", &csrf)], "tay.xlsx", &anonymous).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let body = unescape(&reply.body);
    assert!(
        body.contains("bảng tính không ghi nghĩa vụ báo cáo"),
        "{body}"
    );
    assert!(
        body.contains(
            "<td class=\"cell\">Sheet1!B2</td><td class=\"problem\">\"mười\" không phải là số</td>"
        ),
        "{body}"
    );
    // Too large: refused before it is read whole.
    // The page answers before the body ends and closes the connection, so the answer is read
    // while the body is still being written (a write into the closed connection may fail).
    let huge = multipart(&[("csrf", &csrf)], "lon.csv", &vec![b'x'; 11 * 1024 * 1024]);
    let stream = TcpStream::connect(web.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /upload HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        web.addr,
        huge.len()
    );
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&huge).await;
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = read.read(&mut buf).await {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    writer.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(t.report_count().await, before, "nothing was stored");

    // CSRF: the upload form without its token is refused and stores nothing.
    let good = resave(&book, |sheet, r, c| match (sheet, r, c) {
        ("Số liệu", r, c) if r == ha_dong && c == activated => Some(Cell::Number(109.0)),
        ("Số liệu", r, c) if r == ha_dong && c == residents => Some(Cell::Text("5.908".into())),
        ("Số liệu", r, c) if r == ha_dong + 1 && c == activated => Some(Cell::Number(1_000.0)),
        // The narrative sheet's "Kết quả" cell.
        ("Thuyết minh", 8, 1) => Some(Cell::Text("Đạt 5,3 % chỉ tiêu".into())),
        _ => None,
    });
    for token in ["", "nope"] {
        let refused = upload(&web, &cookie, &[("csrf", token)], "tuan-11.xlsx", &good).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(t.report_count().await, before, "nothing was stored");
    }

    // Right: the receipt, and the aggregator holds what was filled.
    let reply = upload(
        &web,
        &cookie,
        &[("csrf", &csrf), ("totals", "check")],
        "tuan-11.xlsx",
        &good,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_safe(&reply, &[&reporter], "upload receipt");
    assert!(
        reply.body.contains("id=\"upload-receipt\""),
        "{}",
        reply.body
    );
    assert!(
        !reply.body.contains("id=\"report-link\""),
        "a reporter cannot open the task force's report page"
    );
    assert_eq!(t.report_count().await, before + 1);
    let name_start = reply.body.find("reports/").expect("the report's name");
    let name: String = reply.body[name_start..]
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    let report = t
        .ingest()
        .await
        .get_report(authed(GetReportRequest { name: name.clone() }, &reporter))
        .await
        .unwrap()
        .into_inner();
    let mut figures: Vec<(String, String, f64)> = report
        .observations
        .iter()
        .map(|o| (o.indicator_code.clone(), o.locality_code.clone(), o.value))
        .collect();
    figures.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let second = match grid.cell(ha_dong + 1, 0) {
        Cell::Text(code) => code.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        figures,
        [
            (
                "residents.permanent".to_owned(),
                HA_DONG.to_owned(),
                5_908.0
            ),
            ("vneid.l2.activated".to_owned(), HA_DONG.to_owned(), 109.0),
            ("vneid.l2.activated".to_owned(), second, 1_000.0),
        ]
    );
    assert!(report.receipt.unwrap().revision == 1 && report.obligation == "police-weekly-identity");

    // A hand-made sheet with a totals row that does not add up: named at its cell when
    // checked; passed over (never a commune) when ignored. The form names the obligation.
    let mut hand = rust_xlsxwriter::Workbook::new();
    let s = hand.add_worksheet();
    s.write_string(0, 0, "BÁO CÁO TUẦN 11").unwrap();
    for (c, h) in ["Mã xã", "Tên xã", "vneid.l2.activated"].iter().enumerate() {
        s.write_string(2, c as u16, *h).unwrap();
    }
    s.write_string(3, 0, HA_DONG).unwrap();
    s.write_number(3, 2, 120.0).unwrap();
    s.write_string(4, 1, "Tổng cộng").unwrap();
    s.write_number(4, 2, 999.0).unwrap();
    let hand = hand.save_to_buffer().unwrap();
    let form = |totals| {
        [
            ("csrf", csrf.as_str()),
            ("totals", totals),
            ("obligation", "police-weekly-identity"),
            ("day", "2025-03-12"),
        ]
    };
    let reply = upload(&web, &cookie, &form("check"), "tay.xlsx", &hand).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        unescape(&reply.body).contains("<td class=\"cell\">Sheet1!C5</td><td class=\"problem\">dòng tổng cộng ghi 999 nhưng tổng các dòng là 120</td>"),
        "{}",
        reply.body
    );
    assert_eq!(t.report_count().await, before + 1);
    let reply = upload(&web, &cookie, &form("ignore"), "tay.xlsx", &hand).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"upload-receipt\""),
        "{}",
        reply.body
    );
    assert_eq!(t.report_count().await, before + 2);
    let latest = reply.body[reply.body.find("reports/").unwrap()..]
        .chars()
        .take_while(|c| *c != '<')
        .collect::<String>();
    let report = t
        .ingest()
        .await
        .get_report(authed(GetReportRequest { name: latest }, &reporter))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.observations.len(), 1, "the totals row is no commune");
    assert_eq!(report.observations[0].locality_code, HA_DONG);

    // Another agency's workbook (a health reporter with the police template) and another
    // province's reporter: the aggregator refuses, a 403 page; nothing stored.
    for token in [
        t.keys.reporter(Agency::Health),
        t.keys.token(Agency::Police, BINH_DINH, Role::Reporter),
    ] {
        let other = sign_in(&web, &token).await;
        let page = http(&web, "GET", "/upload", &other, "").await;
        let csrf = form_field(&page.body, "csrf");
        let reply = upload(&web, &other, &[("csrf", &csrf)], "tuan-11.xlsx", &good).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(reply.body.contains("Không có quyền"), "{}", reply.body);
        assert_safe(&reply, &[&token], "refused upload");
    }
    assert_eq!(t.report_count().await, before + 2);

    // The task force sees no upload and cannot use it.
    let viewer = sign_in(&web, &t.keys.viewer()).await;
    let overview = http(&web, "GET", "/p/64", &viewer, "").await;
    assert_eq!(overview.status, 200);
    assert!(
        !overview.body.contains("/upload"),
        "no upload link for the task force"
    );
    let refused = http(&web, "GET", "/upload", &viewer, "").await;
    assert_eq!(refused.status, 403);
    let refused = http(
        &web,
        "GET",
        "/upload/template.xlsx?obligation=police-weekly-identity",
        &viewer,
        "",
    )
    .await;
    assert_eq!(refused.status, 403);
}

/// Every table that downloads as CSV also downloads as a workbook with the same rows: typed
/// cells, the page's language above the stable field names, read back equal to the CSV and to
/// the gRPC answer.
#[tokio::test(flavor = "multi_thread")]
async fn every_csv_table_also_downloads_as_xlsx_with_the_same_rows() {
    use p06_workbook::Cell;

    let (t, web) = start().await;
    let reporter = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;
    let stored = ingest
        .submit_report(authed(
            police_report(
                "web-xlsx-1",
                vec![
                    obs("vneid.l2.activated", HA_DONG, 109.0),
                    obs("residents.permanent", HA_DONG, 5_908.0),
                    obs("vneid.l2.activated", "23695", 1_000.0),
                ],
            ),
            &reporter,
        ))
        .await
        .expect("report stored")
        .into_inner();
    let viewer = t.keys.viewer();
    let cookie = sign_in(&web, &viewer).await;

    // The communes' ranking: CSV, workbook and ListLocalityProgress agree row by row.
    let query = "?indicator=vneid.l2.activated&as_of=2025-03-22";
    let csv = http(
        &web,
        "GET",
        &format!("/p/64/communes.csv{query}"),
        &cookie,
        "",
    )
    .await;
    let (reply, bytes) = http_bytes(
        &web,
        "GET",
        &format!("/p/64/communes.xlsx{query}"),
        &cookie,
        "",
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_safe(&reply, &[&viewer], "xlsx");
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(
        reply
            .header("content-disposition")
            .unwrap()
            .contains("communes-64-vneid.l2.activated.xlsx")
    );
    let book = p06_workbook::open(&bytes, "communes.xlsx").unwrap();
    let grid = &book.sheets[0];
    let mut lines = csv.body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    // Row 3: Vietnamese headers; row 4: the stable field names, the CSV's header.
    let keys: Vec<String> = (0..header.len() as u32)
        .map(|c| grid.cell(3, c).shown())
        .collect();
    assert_eq!(keys, header);
    assert_eq!(grid.cell(2, 4), &Cell::Text("Giá trị".into()));
    let csv_rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(grid.height() - 4, csv_rows.len() as u32, "the same rows");
    let mut api = TaskForceServiceClient::new(t.channel().await);
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
    assert_eq!(progress.rows.len(), csv_rows.len());
    let value_col = header.iter().position(|h| *h == "value").unwrap() as u32;
    let code_col = header.iter().position(|h| *h == "code").unwrap() as u32;
    let as_of_col = header.iter().position(|h| *h == "as_of").unwrap() as u32;
    for (i, (row, api_row)) in csv_rows.iter().zip(&progress.rows).enumerate() {
        let r = 4 + i as u32;
        let code = &api_row.locality.as_ref().unwrap().code;
        assert_eq!(grid.cell(r, code_col).shown(), *code);
        assert_eq!(row[code_col as usize], code);
        match api_row.value {
            Some(v) => {
                assert_eq!(grid.cell(r, value_col), &Cell::Number(v), "{code}");
                assert_eq!(row[value_col as usize].parse::<f64>().unwrap(), v);
            }
            None => {
                assert_eq!(
                    grid.cell(r, value_col),
                    &Cell::Empty,
                    "not reported is blank, never 0"
                );
                assert_eq!(row[value_col as usize], "");
            }
        }
        if api_row.as_of.is_some() {
            assert!(
                matches!(grid.cell(r, as_of_col), Cell::Date(_)),
                "dates as dates"
            );
        }
    }
    assert!(progress.rows.iter().any(|r| r.value == Some(109.0)));

    // Every other table: a workbook whose second header row is the CSV's header, the same
    // number of rows, in English when asked.
    let id = stored.report.strip_prefix("reports/").unwrap();
    for path in [
        "/p/64/status.csv?as_of=2025-03-22".to_owned(),
        "/p/64/districts.csv?indicator=vneid.l2.activated&as_of=2025-03-22".to_owned(),
        "/p/64/compliance.csv?from=2025-02-20&to=2025-03-22".to_owned(),
        "/p/64/flags.csv".to_owned(),
        "/p/64/reports.csv?from=2025-02-20&to=2025-03-22".to_owned(),
        format!("/p/64/reports/{id}/observations.csv"),
    ] {
        let csv = http(&web, "GET", &path, &cookie, "").await;
        assert_eq!(csv.status, 200, "{path}: {}", csv.body);
        let xlsx_path = path.replacen(".csv", ".xlsx", 1);
        let (reply, bytes) = http_bytes(&web, "GET", &xlsx_path, &cookie, "", b"").await;
        assert_eq!(reply.status, 200, "{xlsx_path}: {}", reply.body);
        let book = p06_workbook::open(&bytes, "t.xlsx").unwrap();
        let grid = &book.sheets[0];
        let header: Vec<&str> = csv.body.lines().next().unwrap().split(',').collect();
        let keys: Vec<String> = (0..header.len() as u32)
            .map(|c| grid.cell(3, c).shown())
            .collect();
        assert_eq!(keys, header, "{xlsx_path}");
        // The CSV read as a sheet (quoted commas and line breaks kept in their cells).
        let csv_rows = p06_workbook::open(csv.body.as_bytes(), "t.csv")
            .unwrap()
            .sheets[0]
            .height();
        assert_eq!(grid.height().saturating_sub(4), csv_rows - 1, "{xlsx_path}");
    }
    // The page links them, and English headers when the page is English.
    let communes = http(&web, "GET", &format!("/p/64/communes{query}"), &cookie, "").await;
    assert!(
        unescape(&communes.body).contains(&format!("href=\"/p/64/communes.xlsx{query}\"")),
        "{}",
        communes.body
    );
    let (_, bytes) = http_bytes(
        &web,
        "GET",
        &format!("/p/64/communes.xlsx{query}&lang=en"),
        &cookie,
        "",
        b"",
    )
    .await;
    let book = p06_workbook::open(&bytes, "en.xlsx").unwrap();
    assert_eq!(book.sheets[0].cell(2, 4), &Cell::Text("Value".into()));
}
