//! The task force's web page in a real browser (headless Chromium through chromedriver), against
//! the real aggregator, agency services and `p06-web`, with demo-like data: sign in through the
//! form, open every page, compare the figures the page shows with the gRPC API's, watch a flag
//! arrive on the open Flags page without a reload, reach the navigation by keyboard, sign out, and
//! open the national page. Screenshots of every page at desktop (1280 px) and phone (390 px)
//! widths go to `target/screenshots/`.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install -y chromium chromium-driver`);
//! fails with that advice without them, unless `P06_SKIP_BROWSER_TESTS=1`.

mod demo;
mod driver;
mod pages;
mod read;
mod report;

use std::time::Instant;

use p06_auth::{Agency, Role};
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ListLocalityProgressRequest, LocalityLevel, ProgressOrder, RevisionMode,
};
use p06_proto::common::LocalityRef;
use p06_proto::police::SubmitIdentityReportRequest;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_tests::fixtures::{EDITION, GIA_LAI};
use p06_tests::services::{TestAggregator, authed, start_agency};
use p06_web::{Web, WebConfig};
use serde::Deserialize;

use crate::driver::{Browser, Driver};
use crate::pages::{AS_OF, COMPARE_TO, INDICATOR, Session};
use crate::read::{same, same_percent};

#[tokio::test(flavor = "multi_thread")]
async fn the_task_force_uses_every_page_in_a_browser() {
    let Some(tools) = driver::tools() else {
        return;
    };
    let started = Instant::now();
    let shots = driver::screenshot_dir();
    if let Ok(old) = std::fs::read_dir(&shots) {
        for f in old.flatten() {
            if f.path().extension().is_some_and(|e| e == "png") {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let health = start_agency(&t.keys, t.running.url(), Agency::Health).await;
    let justice = start_agency(&t.keys, t.running.url(), Agency::Justice).await;
    let loaded = demo::load(
        &t,
        &demo::Agencies {
            police: police.url(),
            health: health.url(),
            justice: justice.url(),
        },
    )
    .await;
    eprintln!("demo data loaded in {:?}", started.elapsed());
    let web = Web::new(&WebConfig::for_aggregator(t.running.url()))
        .unwrap()
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let driver = Driver::start(&tools, scratch.path());
    let browser = Browser::open(&tools, &driver, web.url(), shots.clone()).await;
    let mut s = Session {
        b: browser,
        api: TaskForceServiceClient::new(t.channel().await),
        ingest: t.ingest().await,
        token: t.keys.viewer(),
    };

    // No session: the sign-in page, which comes back to the page asked for.
    let asked = format!("/p/64?as_of={AS_OF}&compare_to={COMPARE_TO}");
    s.b.goto(&asked).await;
    pages::sign_in(&mut s, Some("signin")).await;
    assert_eq!(s.b.here().await, asked);

    pages::overview(&mut s, GIA_LAI).await;
    s.b.screenshots("overview").await;
    keyboard(&s).await;
    english_and_back(&s).await;

    let (district, below) = pages::districts(&mut s).await;
    s.b.screenshots("districts").await;
    pages::district_communes(&mut s, &district, below).await;
    s.b.screenshots("district-communes").await;
    pages::communes(&mut s).await;
    s.b.screenshots("communes-search").await;

    let (justice_flags, police_reports) = pages::compliance(&mut s).await;
    s.b.screenshots("compliance").await;
    s.b.click(&format!("#compliance a[href='{justice_flags}']"))
        .await;
    let (shown, api) = pages::flag_names(&mut s, "justice-weekly").await;
    assert!(
        !api.is_empty(),
        "justice's late and vague reports are flagged"
    );
    assert_eq!(shown, api, "the flags behind the justice row");

    // Flags: the open ones, then one raised while the page is open appears without a reload.
    s.b.click("nav.nav a[href='/p/64/flags']").await;
    let (shown, api) = pages::flag_names(&mut s, "").await;
    assert_eq!(shown, api, "the open flags");
    pages::wait_until_live(&s).await;
    let page = s.b.page_id().await;
    let raised = raise_flags(&t, &police.url(), &loaded.communes[1]).await;
    pages::wait_for_flag_rows(&s, &raised, page).await;
    s.b.screenshots("flags-live").await;

    // A report: the one behind the new flag, then the corrected one behind the police row.
    s.b.click(&format!("#flags tr[data-name='{}'] a", raised[0]))
        .await;
    report::report(&mut s).await;
    s.b.screenshots("report-new").await;
    s.b.goto(&police_reports).await;
    let corrected = report::reports(&mut s, "police-weekly-identity").await;
    s.b.screenshots("reports").await;
    s.b.click(&format!("#reports a[href='{corrected}']")).await;
    report::report(&mut s).await;
    s.b.screenshots("report-revised").await;

    // Sign out: back to sign-in, and the pages ask for it again.
    s.b.click("form[action='/signout'] button[type=submit]")
        .await;
    assert!(
        s.b.here().await.starts_with("/signin"),
        "{}",
        s.b.here().await
    );
    s.b.goto("/p/64/communes").await;
    assert!(
        s.b.here().await.starts_with("/signin?next="),
        "{}",
        s.b.here().await
    );

    // A national token: the provinces ranked, and any province of its edition.
    s.token = t.keys.token(Agency::Taskforce, "VN", Role::TaskforceViewer);
    s.b.goto("/").await;
    pages::sign_in(&mut s, None).await;
    assert!(
        s.b.here().await.starts_with("/country"),
        "{}",
        s.b.here().await
    );
    country(&mut s).await;
    s.b.screenshots("country").await;
    s.b.click(&format!("#provinces tr[data-code='{GIA_LAI}'] th a"))
        .await;
    pages::overview(&mut s, GIA_LAI).await;

    // A police reporter: the upload page only; a wrong workbook's problems by cell, then a
    // receipt for a right one.
    s.b.click("form[action='/signout'] button[type=submit]")
        .await;
    s.token = t.keys.reporter(Agency::Police);
    s.b.goto("/").await;
    pages::sign_in(&mut s, None).await;
    assert_eq!(s.b.here().await, "/upload");
    upload(&mut s, scratch.path()).await;

    let taken = s.b.screenshots_taken().to_vec();
    s.b.close().await;
    for png in &taken {
        let bytes = std::fs::read(png).expect("screenshot saved");
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", png.display());
    }
    eprintln!(
        "browser test done in {:?}; {} screenshots in {}",
        started.elapsed(),
        taken.len(),
        shots.display()
    );
}

/// A hand-made workbook of police figures for Gia Lai's week of 10 March 2025: a data sheet of
/// `rows` (commune code, level-2 accounts activated as typed) and an information sheet naming
/// the obligation and the period, as the template's does.
fn workbook(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let data = book.add_worksheet();
    data.write_string(0, 0, "Mã xã").unwrap();
    data.write_string(0, 1, "vneid.l2.activated").unwrap();
    for (i, (code, activated)) in rows.iter().enumerate() {
        data.write_string(1 + i as u32, 0, *code).unwrap();
        data.write_string(1 + i as u32, 1, *activated).unwrap();
    }
    let info = book.add_worksheet();
    info.set_name("Thuyết minh").unwrap();
    for (r, (label, value, key)) in [
        ("Nghĩa vụ báo cáo", "police-weekly-identity", "obligation"),
        ("Từ ngày", "10/03/2025", "period_start"),
        ("Đến ngày", "16/03/2025", "period_end"),
    ]
    .iter()
    .enumerate()
    {
        info.write_string(r as u32, 0, *label).unwrap();
        info.write_string(r as u32, 1, *value).unwrap();
        info.write_string(r as u32, 2, *key).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// The reporter's upload page: a wrong workbook lists every problem with its cell; a right one
/// answers with a receipt whose report holds the figure.
async fn upload(s: &mut Session, dir: &std::path::Path) {
    use std::time::Duration;
    s.b.screenshots("upload").await;
    let bad = dir.join("tuan-sai.xlsx");
    std::fs::write(&bad, workbook(&[("23680", "12a"), ("99999", "5")])).unwrap();
    s.b.choose_file("#upload-form input[type=file]", &bad).await;
    s.b.click("#upload-form > button[type=submit]").await;
    s.b.wait_for(
        "the problems",
        "return !!document.querySelector('#problems');",
        Duration::from_secs(10),
    )
    .await;
    let rows: Vec<(String, String)> =
        s.b.eval(
            "return [...document.querySelectorAll('#problems tbody tr')]\
               .map(r => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]);",
            vec![],
        )
        .await;
    assert_eq!(
        rows,
        [
            (
                "Sheet1!B2".to_owned(),
                "\"12a\" không phải là số".to_owned()
            ),
            (
                "Sheet1!A3".to_owned(),
                "xã 99999 không thuộc tỉnh 64".to_owned()
            ),
        ]
    );
    s.b.screenshots("upload-errors").await;
    let good = dir.join("tuan-dung.xlsx");
    std::fs::write(&good, workbook(&[("23680", "109")])).unwrap();
    s.b.choose_file("#upload-form input[type=file]", &good)
        .await;
    s.b.click("#upload-form > button[type=submit]").await;
    s.b.wait_for(
        "the receipt",
        "return !!document.querySelector('#upload-receipt');",
        Duration::from_secs(10),
    )
    .await;
    let name = s.b.text("#upload-receipt .report-name").await.unwrap();
    let report = s
        .ingest
        .get_report(authed(
            p06_proto::aggregation::GetReportRequest { name: name.clone() },
            &s.token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.observations.len(), 1, "{name}");
    assert_eq!(report.observations[0].value, 109.0);
    s.b.screenshots("upload-receipt").await;
}

/// From the top of the page, Tab reaches the skip link first, then every link of the main
/// navigation, each with a visible focus ring.
async fn keyboard(s: &Session) {
    let nav: Vec<String> = s
        .b
        .eval(
            "return Array.from(document.querySelectorAll('nav.nav a')).map(a => a.getAttribute('href'));",
            vec![],
        )
        .await;
    assert!(nav.len() >= 5, "{nav:?}");
    let _: bool = s
        .b
        .eval(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true;",
            vec![],
        )
        .await;
    #[derive(Deserialize, Debug)]
    struct Focused {
        href: Option<String>,
        class: String,
        outline: String,
        left: f64,
    }
    let mut reached = Vec::new();
    for press in 0..20 {
        s.b.tab().await;
        let f: Focused =
            s.b.eval(
                "const e = document.activeElement; const st = getComputedStyle(e); \
                 return { href: e.getAttribute('href'), class: e.className || '', \
                   outline: st.outlineStyle, left: e.getBoundingClientRect().left };",
                vec![],
            )
            .await;
        if press == 0 {
            assert_eq!(
                f.class, "skip",
                "the first Tab reaches the skip link: {f:?}"
            );
            assert!(f.left >= 0.0, "the focused skip link is on screen: {f:?}");
        }
        if let Some(href) = &f.href
            && nav.contains(href)
        {
            assert_ne!(f.outline, "none", "{href}: a visible focus ring");
            reached.push(href.clone());
        }
        if reached.len() == nav.len() {
            break;
        }
    }
    assert_eq!(reached, nav, "every navigation link, in order, by Tab");
}

/// The language switch shows the page in English and back in Vietnamese, on the same page.
async fn english_and_back(s: &Session) {
    let here = s.b.here().await;
    s.b.click("form[action='/lang'] button[type=submit]").await;
    let lang: String =
        s.b.eval("return document.documentElement.lang;", vec![])
            .await;
    assert_eq!(lang, "en");
    assert_eq!(
        s.b.text("nav.nav a[aria-current=page]").await.as_deref(),
        Some("Overview")
    );
    assert_eq!(s.b.here().await, here, "the same page");
    s.b.click("form[action='/lang'] button[type=submit]").await;
    assert_eq!(
        s.b.text("nav.nav a[aria-current=page]").await.as_deref(),
        Some("Tổng quan")
    );
}

/// A police report for an old week (one commune, no narrative): late and vague. Returns the names
/// of the flags it raised.
async fn raise_flags(t: &TestAggregator, police: &str, commune: &str) -> Vec<String> {
    let mut client = PoliceReportingServiceClient::connect(police.to_owned())
        .await
        .unwrap();
    let receipt = client
        .submit_identity_report(authed(
            SubmitIdentityReportRequest {
                request_id: "browser-live-flag".into(),
                obligation: "police-weekly-identity".into(),
                province: Some(LocalityRef {
                    edition: EDITION.into(),
                    code: GIA_LAI.into(),
                }),
                period: demo::week_period(demo::day("2025-02-10")),
                localities: vec![demo::identity(commune, 0)],
                narrative: None,
                mode: RevisionMode::Replace.into(),
            },
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .expect("the report is stored")
        .into_inner();
    let kinds: Vec<&str> = receipt.flags.iter().map(|f| f.kind.as_str()).collect();
    assert!(
        kinds.contains(&"LATE") && kinds.contains(&"VAGUE"),
        "{kinds:?}"
    );
    receipt.flags.into_iter().map(|f| f.name).collect()
}

/// The provinces ranked as of [`AS_OF`], compared with `ListLocalityProgress` at province level.
async fn country(s: &mut Session) {
    s.b.set_value("input[name=as_of]", AS_OF).await;
    s.b.click("form.filters button[type=submit]").await;
    let api = s
        .api
        .list_locality_progress(authed(
            ListLocalityProgressRequest {
                indicator_code: INDICATOR.into(),
                parent: Some(LocalityRef {
                    edition: EDITION.into(),
                    code: "VN".into(),
                }),
                level: LocalityLevel::Province as i32,
                order: ProgressOrder::PercentAsc as i32,
                as_of: Some(p06_kit::convert::date_to_proto(demo::day(AS_OF))),
                page_size: 1_000,
                ..Default::default()
            },
            &s.token,
        ))
        .await
        .expect("ListLocalityProgress")
        .into_inner()
        .rows;
    #[derive(Deserialize)]
    struct Row {
        code: String,
        name: String,
        value: String,
        pct: String,
    }
    let rows: Vec<Row> =
        s.b.eval(
            "return Array.from(document.querySelectorAll('#provinces tbody tr')).map(r => ({ \
               code: r.dataset.code, name: r.querySelector('th').innerText.trim(), \
               value: r.querySelector('.value').innerText.trim(), \
               pct: r.querySelector('.pct').childNodes[0].textContent.trim() }));",
            vec![],
        )
        .await;
    assert_eq!(
        rows.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        api.iter()
            .map(|r| r.locality.as_ref().unwrap().code.as_str())
            .collect::<Vec<_>>(),
        "the API's provinces in its order"
    );
    assert!(rows.len() >= 63, "every province of edition {EDITION}");
    for (r, p) in rows.iter().zip(&api) {
        let what = format!("country {}", r.code);
        assert_eq!(r.name, p.locality.as_ref().unwrap().name, "{what}");
        same(&what, &r.value, p.value);
        same_percent(&what, &r.pct, p.percent_of_target);
    }
    assert!(
        api.iter()
            .any(|p| p.locality.as_ref().unwrap().code == GIA_LAI && p.value.is_some()),
        "Gia Lai has figures"
    );
}
