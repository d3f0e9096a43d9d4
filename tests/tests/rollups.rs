//! Maintained roll-ups: what ingest keeps incrementally equals a rebuild from the stored figures,
//! through revisions that drop communes, backfills and district-level reports of the same
//! indicator, and with one province's reports in flight at once; and the country's view (national
//! task force) is the sum of its provinces.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_aggregator::store::queries::TotalsRequest;
use p06_aggregator::store::{BulkReport, TargetUpsert};
use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_auth::{Agency, Role};
use p06_domain::locality::{Edition, Level, Locality};
use p06_domain::report::CatalogView;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ConsolidatedStatus, GetConsolidatedStatusRequest, LocalityLevel, SubmitReportRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;
use tonic::transport::Channel;

const KON_TUM: &str = "62";

fn communes(t: &TestAggregator, province: &str) -> Vec<Locality> {
    let catalog = &t.aggregator.state.catalog;
    let p = catalog.province(Edition::E2024, province).unwrap();
    let mut all: Vec<Locality> = catalog
        .in_province(p.id)
        .filter(|l| l.level == Level::Commune)
        .cloned()
        .collect();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all
}

fn weekly(request: &str, week: (&str, &str), rows: Vec<(&str, &str, f64)>) -> SubmitReportRequest {
    let mut r = police_report(
        request,
        rows.into_iter().map(|(i, l, v)| obs(i, l, v)).collect(),
    );
    r.period = period(week.0, week.1);
    r
}

/// Every maintained total of a province's localities with units below them, and of the country,
/// and the province's figures in force, evaluated at several dates.
async fn totals(t: &TestAggregator, province: &str) -> Vec<String> {
    let state = &t.aggregator.state;
    let catalog = &state.catalog;
    let p = catalog.province(Edition::E2024, province).unwrap();
    let mut ids: Vec<i64> = catalog
        .in_province(p.id)
        .filter(|l| catalog.has_children(l.id))
        .map(|l| l.id)
        .collect();
    ids.push(Edition::E2024.country_id());
    ids.sort();
    let flows = vec!["civil_registration.online".to_owned()];
    let codes: Vec<String> = catalog
        .indicators()
        .iter()
        .map(|i| i.code.clone())
        .collect();
    let mut out = Vec::new();
    for day in [
        "2025-02-20",
        "2025-03-01",
        "2025-03-09",
        "2025-03-16",
        "2025-03-20",
        "2025-04-30",
    ] {
        let request = |flow_from: &str| TotalsRequest {
            localities: &ids,
            indicators: &codes,
            as_of: date(day),
            flow_from: date(flow_from),
            flows: &flows,
            flow_reports_of: &ids,
        };
        let rows = state
            .store
            .rollup_totals(catalog, &request("2025-01-01"))
            .await
            .unwrap();
        // From 1 January the totals come from yearly sums less later deltas; from any other day
        // by adding up the deltas. No period here starts on 31 December, so both must agree.
        let summed = state
            .store
            .rollup_totals(catalog, &request("2024-12-31"))
            .await
            .unwrap();
        assert_eq!(rows, summed, "as of {day}");
        let mut rows: Vec<String> = rows
            .into_iter()
            .filter(|(_, t)| t.units > 0)
            .map(|((id, code), t)| format!("{day} {id} {code} {t:?}"))
            .collect();
        rows.sort();
        out.extend(rows);
        // The figures in force that day, from the series' starts and the weeks before the day
        // (the starts are kept by each report and rebuilt with the roll-ups).
        let mut figures: Vec<String> = state
            .store
            .figures_in_force(p.id, date(day), None)
            .await
            .unwrap()
            .into_iter()
            .map(|f| format!("{day} in force {f:?}"))
            .collect();
        figures.sort();
        out.extend(figures);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_roll_ups_equal_a_rebuild_and_the_country_sums_its_provinces() {
    let t = TestAggregator::start().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let gia_lai = communes(&t, GIA_LAI);
    let mut ingest = t.ingest().await;
    let police = t.keys.reporter(Agency::Police);
    let week = ("2025-03-10", "2025-03-16");
    let later = ("2025-03-17", "2025-03-23");
    let earlier = ("2025-03-03", "2025-03-09");

    // Week of 10 March: every commune, with residents.
    t.clock.set(at("2025-03-18T03:00:00Z"));
    let rows: Vec<(&str, &str, f64)> = gia_lai
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            [
                ("vneid.l2.activated", c.code.as_str(), 100.0 + i as f64),
                ("residents.permanent", c.code.as_str(), 5_000.0 + i as f64),
            ]
        })
        .collect();
    ingest
        .submit_report(authed(weekly("w1", week, rows), &police))
        .await
        .unwrap();
    // A revision of that week that drops every third commune and raises the rest.
    let rows: Vec<(&str, &str, f64)> = gia_lai
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(i, c)| ("vneid.l2.activated", c.code.as_str(), 150.0 + i as f64))
        .collect();
    ingest
        .submit_report(authed(weekly("w1-rev", week, rows), &police))
        .await
        .unwrap();
    // The next week for half the communes; then a backfill of the week before the first.
    t.clock.set(at("2025-03-25T03:00:00Z"));
    let rows: Vec<(&str, &str, f64)> = gia_lai
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(i, c)| ("vneid.l2.activated", c.code.as_str(), 200.0 + i as f64))
        .collect();
    ingest
        .submit_report(authed(weekly("w2", later, rows), &police))
        .await
        .unwrap();
    let rows: Vec<(&str, &str, f64)> = gia_lai
        .iter()
        .take(40)
        .map(|c| ("vneid.l2.activated", c.code.as_str(), 50.0))
        .collect();
    ingest
        .submit_report(authed(weekly("w0", earlier, rows), &police))
        .await
        .unwrap();
    // The monthly district-level regime report of the same indicator (15 Feb – 14 Mar): its
    // figures count only before the communes' first figures.
    let districts: Vec<Locality> = {
        let catalog = &t.aggregator.state.catalog;
        let p = catalog.province(Edition::E2024, GIA_LAI).unwrap();
        catalog
            .in_province(p.id)
            .filter(|l| l.level == Level::District)
            .cloned()
            .collect()
    };
    let mut monthly = police_report(
        "m1",
        districts
            .iter()
            .map(|d| obs("vneid.l2.activated", &d.code, 1_000.0))
            .collect(),
    );
    monthly.obligation = "police-monthly-regime".into();
    monthly.period = period("2025-02-15", "2025-03-14");
    ingest
        .submit_report(authed(monthly, &police))
        .await
        .unwrap();

    let kept = totals(&t, GIA_LAI).await;
    assert!(kept.len() > 50, "roll-ups exist: {}", kept.len());
    let store = &t.aggregator.state.store;
    let catalog = &t.aggregator.state.catalog;
    let gia_lai_id = catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    store.rebuild_rollups(catalog, gia_lai_id).await.unwrap();
    let rebuilt = totals(&t, GIA_LAI).await;
    assert_eq!(kept, rebuilt, "incremental roll-ups equal a rebuild");

    // A district with communes reporting from 9 March on: its own figure (as of 14 March) is
    // replaced by theirs from 9 March, so as of 1 March nothing, as of 16 March the communes.
    let dak_doa = catalog.locality(Edition::E2024, DAK_DOA).unwrap();
    let totals_of = |day: &'static str| async move {
        store
            .rollup_totals(
                catalog,
                &TotalsRequest {
                    localities: &[dak_doa.id],
                    indicators: &["vneid.l2.activated".to_owned()],
                    as_of: date(day),
                    flow_from: date("2025-01-01"),
                    flows: &[],
                    flow_reports_of: &[],
                },
            )
            .await
            .unwrap()
            .remove(&(dak_doa.id, "vneid.l2.activated".to_owned()))
    };
    assert!(totals_of("2025-03-01").await.is_none());

    // Kon Tum loaded in bulk: the country is the sum of the two provinces.
    let kon_tum = communes(&t, KON_TUM);
    let kon_tum_id = catalog.province(Edition::E2024, KON_TUM).unwrap().id;
    let bulk: Vec<BulkReport> = [week, later]
        .iter()
        .enumerate()
        .map(|(w, (start, end))| BulkReport {
            agency: "police".into(),
            obligation: "police-weekly-identity".into(),
            province_id: kon_tum_id,
            period_start: date(start),
            period_end: date(end),
            received_at: at("2025-03-25T03:00:00Z"),
            observations: kon_tum
                .iter()
                .flat_map(|c| {
                    [
                        ("vneid.l2.activated".to_owned(), c.id, 10.0 * (w + 1) as f64),
                        ("residents.permanent".to_owned(), c.id, 1_000.0),
                    ]
                })
                .collect(),
        })
        .collect();
    let stored = store.bulk_import(catalog, kon_tum_id, &bulk).await.unwrap();
    assert_eq!(stored, 4 * kon_tum.len() as u64);
    store.rebuild_rollups(catalog, kon_tum_id).await.unwrap();

    let national = t.keys.token(Agency::Taskforce, "VN", Role::TaskforceViewer);
    let mut client = TaskForceServiceClient::new(t.channel().await);
    let status = |code: &str, token: &str| {
        let request = authed(
            GetConsolidatedStatusRequest {
                locality: Some(LocalityRef {
                    edition: EDITION.into(),
                    code: code.into(),
                }),
                as_of: Some(p06_kit::convert::date_to_proto(date("2025-03-30"))),
                indicator_codes: vec!["vneid.l2.activated".into()],
                ..Default::default()
            },
            token,
        );
        let mut client = client.clone();
        async move { client.get_consolidated_status(request).await }
    };
    let value = |s: &ConsolidatedStatus| s.indicators[0].value.unwrap();
    let country = status("VN", &national).await.unwrap().into_inner();
    let gl = status(GIA_LAI, &national).await.unwrap().into_inner();
    let kt = status(KON_TUM, &national).await.unwrap().into_inner();
    assert_eq!(value(&country), value(&gl) + value(&kt));
    assert_eq!(
        country.locality.as_ref().unwrap().level,
        LocalityLevel::Country as i32
    );
    // Kon Tum as of 30 March: its second week, 20 per commune.
    assert_eq!(value(&kt), 20.0 * kon_tum.len() as f64);
    // Gia Lai: each commune's latest figure on or before 30 March, computed here from the input.
    let expected_gl: f64 = gia_lai
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if i % 2 == 0 {
                200.0 + i as f64
            } else if i % 3 != 0 {
                150.0 + i as f64
            } else if i < 40 {
                50.0
            } else {
                0.0
            }
        })
        .sum();
    assert_eq!(value(&gl), expected_gl);
    let activated = &country.indicators[0];
    assert_eq!(
        activated.localities_expected as usize,
        catalog
            .descendants(Edition::E2024.country_id())
            .iter()
            .filter(|l| !catalog.has_children(l.id))
            .count()
    );
    assert_eq!(
        activated.localities_reporting,
        gl.indicators[0].localities_reporting + kt.indicators[0].localities_reporting
    );

    // A province's task force cannot read the country.
    let denied = status("VN", &t.keys.viewer()).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    client
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: Some(LocalityRef {
                    edition: EDITION.into(),
                    code: KON_TUM.into(),
                }),
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .expect_err("Gia Lai's token reads no other province");

    // The country's target sums are its provinces' too: one target per commune of each.
    let activated = || "vneid.l2.activated".to_owned();
    for (province, communes, value) in [(gia_lai_id, &gia_lai, 300.0), (kon_tum_id, &kon_tum, 40.0)]
    {
        let targets: Vec<TargetUpsert> = communes
            .iter()
            .map(|c| TargetUpsert {
                indicator_code: activated(),
                locality_id: c.id,
                due_date: date("2025-12-31"),
                value,
            })
            .collect();
        store
            .upsert_targets(
                catalog,
                province,
                &format!("targets-{province}"),
                &format!("payload-{province}"),
                &targets,
                at("2025-03-25T03:00:00Z"),
            )
            .await
            .unwrap();
    }
    let country_id = Edition::E2024.country_id();
    let sums = store
        .target_totals(
            catalog,
            &[gia_lai_id, kon_tum_id, country_id],
            date("2025-03-30"),
        )
        .await
        .unwrap();
    let (gl, kt) = (gia_lai.len(), kon_tum.len());
    assert_eq!(
        sums[&(gia_lai_id, activated())],
        (300.0 * gl as f64, gl as i64)
    );
    assert_eq!(
        sums[&(kon_tum_id, activated())],
        (40.0 * kt as f64, kt as i64)
    );
    assert_eq!(
        sums[&(country_id, activated())],
        (300.0 * gl as f64 + 40.0 * kt as f64, (gl + kt) as i64)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reports_of_one_province_keep_roll_ups_equal_to_a_rebuild() {
    let t = TestAggregator::start().await;
    t.clock
        .set("2025-04-01T03:00:00Z".parse::<DateTime<Utc>>().unwrap());
    let gia_lai = communes(&t, GIA_LAI);
    let police = t.keys.reporter(Agency::Police);
    // Eight consecutive weeks of one series, each for an overlapping set of communes, all in
    // flight at once: each one's roll-up deltas depend on the figures the others leave in force.
    let weeks: Vec<(String, String)> = (0..8)
        .map(|w| {
            let start = date("2025-02-03") + chrono::Duration::weeks(w);
            (
                start.to_string(),
                (start + chrono::Duration::days(6)).to_string(),
            )
        })
        .collect();
    let mut sending = tokio::task::JoinSet::new();
    for (w, (start, end)) in weeks.iter().enumerate() {
        let rows: Vec<(&str, &str, f64)> = gia_lai
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + w) % 3 != 0)
            .map(|(i, c)| {
                (
                    "vneid.l2.activated",
                    c.code.as_str(),
                    (100 * (w + 1) + i) as f64,
                )
            })
            .collect();
        let request = authed(weekly(&format!("week-{w}"), (start, end), rows), &police);
        let mut ingest = t.ingest().await;
        sending.spawn(async move { ingest.submit_report(request).await.map(|_| ()) });
    }
    while let Some(sent) = sending.join_next().await {
        sent.unwrap().unwrap();
    }

    let kept = totals(&t, GIA_LAI).await;
    assert!(kept.len() > 20, "roll-ups exist: {}", kept.len());
    let catalog = &t.aggregator.state.catalog;
    let gia_lai_id = catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    t.aggregator
        .state
        .store
        .rebuild_rollups(catalog, gia_lai_id)
        .await
        .unwrap();
    assert_eq!(
        kept,
        totals(&t, GIA_LAI).await,
        "concurrent writers serialised"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_writing_one_province_keep_roll_ups_and_the_history_exact() {
    let t = TestAggregator::start().await;
    // A second replica on the same database, with its own memory of the province's figures.
    let other = Aggregator::build_with_clock(
        &AggregatorConfig::for_database(t.db.url.clone()),
        Arc::new(t.clock.clone()),
    )
    .await
    .unwrap();
    let other_running = other
        .host(t.keys.authenticator.clone())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let other_channel = Channel::from_shared(other_running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut a = t.ingest().await;
    let mut b = IngestServiceClient::new(other_channel);
    let police = t.keys.reporter(Agency::Police);
    let gia_lai = communes(&t, GIA_LAI);
    let week = |w: i64| {
        let start = date("2025-03-03") + chrono::Duration::weeks(w);
        (
            start.to_string(),
            (start + chrono::Duration::days(6)).to_string(),
        )
    };
    let send = |client: &mut IngestServiceClient<Channel>,
                id: &str,
                w: i64,
                rows: Vec<(&str, &str, f64)>| {
        let (start, end) = week(w);
        let request = authed(weekly(id, (&start, &end), rows), &police);
        let mut client = client.clone();
        async move { client.submit_report(request).await.unwrap().into_inner() }
    };
    let activated = |keep: &dyn Fn(usize) -> bool, value: &dyn Fn(usize) -> f64| {
        gia_lai
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(i, c)| ("vneid.l2.activated", c.code.as_str(), value(i)))
            .collect::<Vec<_>>()
    };
    t.clock
        .set("2025-04-15T03:00:00Z".parse::<DateTime<Utc>>().unwrap());

    // A writes week 1; B week 2 (A's memory is now behind); A revises week 1, dropping every
    // third commune (it must read B's week again); B backfills week 0; A writes week 3.
    send(
        &mut a,
        "a-w1",
        1,
        activated(&|_| true, &|i| 100.0 + i as f64),
    )
    .await;
    send(
        &mut b,
        "b-w2",
        2,
        activated(&|i| i % 2 == 0, &|i| 200.0 + i as f64),
    )
    .await;
    send(
        &mut a,
        "a-w1-rev",
        1,
        activated(&|i| i % 3 != 0, &|i| 120.0 + i as f64),
    )
    .await;
    send(&mut b, "b-w0", 0, activated(&|i| i < 40, &|_| 50.0)).await;
    // Commune 0 falls from B's 200 of week 2 to 150: only a history that has B's week sees it.
    let receipt = send(
        &mut a,
        "a-w3",
        3,
        activated(&|i| i < 10, &|i| 150.0 + i as f64),
    )
    .await;
    let decreases: Vec<&str> = receipt
        .flags
        .iter()
        .filter(|f| f.kind == "STOCK_DECREASE")
        .map(|f| f.locality_code.as_str())
        .collect();
    assert!(
        decreases.contains(&gia_lai[0].code.as_str()),
        "week 3's 150 after B's 200: {decreases:?}"
    );
    // And B, behind A now, revises week 3.
    send(&mut b, "b-w3-rev", 3, activated(&|i| i < 5, &|_| 400.0)).await;

    let catalog = &t.aggregator.state.catalog;
    let gia_lai_id = catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    let store = &t.aggregator.state.store;
    let version = store.read_version(gia_lai_id).await.unwrap();
    assert_eq!(
        other.state.store.figure_memory().version_of(gia_lai_id),
        Some(version),
        "the last writer holds the province at its version"
    );
    assert!(
        store
            .figure_memory()
            .version_of(gia_lai_id)
            .is_some_and(|v| v < version),
        "the other replica's figures are behind"
    );
    let kept = totals(&t, GIA_LAI).await;
    assert!(kept.len() > 50, "roll-ups exist: {}", kept.len());
    store.rebuild_rollups(catalog, gia_lai_id).await.unwrap();
    assert_eq!(
        kept,
        totals(&t, GIA_LAI).await,
        "roll-ups written by both replicas equal a rebuild"
    );
}

/// The figures in force on every day, from the series' starts and the weeks before the day, equal
/// those of a model of the reports: through gaps longer than the first window of weeks read
/// (`store::in_force`), a series that starts late, a revision that drops a series' latest figure
/// and one that drops its first, a backfill; and again after the starts are rebuilt, after
/// migration 23 is undone and applied again, then 22 and 23, then 21 to 23. The series in
/// force each day (known-at's pairs) are those with a figure in force.
#[tokio::test(flavor = "multi_thread")]
async fn figures_in_force_on_every_day_follow_gaps_late_starts_drops_and_backfills() {
    use std::collections::BTreeMap;

    let t = TestAggregator::start().await;
    let communes = communes(&t, GIA_LAI);
    let communes: Vec<&str> = communes.iter().take(4).map(|c| c.code.as_str()).collect();
    let mut ingest = t.ingest().await;
    let police = t.keys.reporter(Agency::Police);
    let monday = date("2024-01-08");
    let week = |k: i64| {
        let start = monday + chrono::Duration::weeks(k);
        (start, start + chrono::Duration::days(6))
    };
    // (week, commune indices with their values); a week sent again is a revision of it.
    let reports: Vec<(i64, Vec<(usize, f64)>)> = vec![
        (0, vec![(0, 10.0), (1, 11.0)]),
        (1, vec![(0, 20.0), (1, 21.0)]),
        (12, vec![(0, 30.0), (1, 31.0)]),
        // 18 weeks later: past the first window and the second.
        (30, vec![(0, 40.0), (1, 41.0), (2, 42.0)]),
        // The latest week again without commune 0: its figure of week 12 is in force again.
        (30, vec![(1, 45.0), (2, 46.0)]),
        // The first week again without commune 1: its first figure is now week 1's.
        (0, vec![(0, 12.0)]),
        // A backfill between two weeks, and commune 3's only figure, long before its head.
        (5, vec![(1, 51.0), (3, 53.0)]),
    ];
    let mut model: BTreeMap<(usize, NaiveDate), f64> = BTreeMap::new();
    for (n, (k, rows)) in reports.iter().enumerate() {
        let (start, end) = week(*k);
        t.clock.set(
            (end + chrono::Duration::days(2))
                .and_hms_opt(3, 0, 0)
                .unwrap()
                .and_utc(),
        );
        model.retain(|(_, e), _| *e != end);
        model.extend(rows.iter().map(|(c, v)| ((*c, end), *v)));
        let rows = rows
            .iter()
            .map(|(c, v)| ("vneid.l2.activated", communes[*c], *v))
            .collect();
        let (s, e) = (start.to_string(), end.to_string());
        ingest
            .submit_report(authed(weekly(&format!("r{n}"), (&s, &e), rows), &police))
            .await
            .unwrap();
    }

    let catalog = &t.aggregator.state.catalog;
    let store = &t.aggregator.state.store;
    let province = catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    let ids: Vec<i64> = communes
        .iter()
        .map(|c| catalog.locality(Edition::E2024, c).unwrap().id)
        .collect();
    let codes = ["vneid.l2.activated".to_owned()];
    let (model, ids, codes) = (&model, &ids, &codes);
    let count = communes.len();
    let check = |when: &'static str| async move {
        for day in 0..(33 * 7) {
            let day = monday - chrono::Duration::days(3) + chrono::Duration::days(day);
            let mut expected: Vec<(i64, NaiveDate, f64)> = (0..count)
                .filter_map(|c| {
                    let (end, value) = model.range((c, NaiveDate::MIN)..=(c, day)).next_back()?;
                    Some((ids[c], end.1, *value))
                })
                .collect();
            expected.sort_by_key(|e| e.0);
            let mut found: Vec<(i64, NaiveDate, f64)> = store
                .figures_in_force(province, day, Some(codes))
                .await
                .unwrap()
                .into_iter()
                .filter(|f| ids.contains(&f.locality_id))
                .map(|f| (f.locality_id, f.period_end, f.value))
                .collect();
            found.sort_by_key(|e| e.0);
            assert_eq!(found, expected, "in force on {day}, {when}");
            let mut pairs: Vec<i64> = store
                .series_in_force(province, day, Some(codes))
                .await
                .unwrap()
                .into_iter()
                .map(|(_, locality)| locality)
                .filter(|l| ids.contains(l))
                .collect();
            pairs.sort();
            let with_figure: Vec<i64> = expected.iter().map(|e| e.0).collect();
            assert_eq!(pairs, with_figure, "series in force on {day}, {when}");
        }
    };
    check("as the reports left them").await;
    store.rebuild_rollups(catalog, province).await.unwrap();
    check("after a rebuild").await;

    // Migrations 21 (the heads) and 22 (the starts) build what they add from the stored figures
    // alone, and 23 copies SQLite's tables of figures into tables kept in their key's order:
    // undone and done again, the same figures are in force.
    // Migration 24 moves each revision's figures into one document and back: undone and done
    // again, every revision holds the same figures.
    let documents = t.stored_figures().await;
    assert!(!documents.is_empty());
    for (first, when) in [
        (
            "m20250101_000024_figures_per_revision",
            "after migration 24 again",
        ),
        (
            "m20250101_000023_sqlite_clustered_figures",
            "after migration 23 again",
        ),
        ("m20250101_000022_series_start", "after migration 22 again"),
        (
            "m20250101_000021_series_head",
            "after migrations 21 and 22 again",
        ),
    ] {
        use p06_migrations::{Migrator, MigratorTrait};
        use sea_orm::ConnectionTrait;
        let connection = sea_orm::Database::connect(&t.db.url).await.unwrap();
        let migrations = Migrator::migrations();
        let ours = migrations.iter().position(|m| m.name() == first).unwrap();
        let steps = u32::try_from(migrations.len() - ours).unwrap();
        Migrator::down(&connection, Some(steps)).await.unwrap();
        Migrator::up(&connection, None).await.unwrap();
        if connection.get_database_backend() == sea_orm::DbBackend::Sqlite {
            for table in ["latest_value", "series_start"] {
                let sql: String = connection
                    .query_one_raw(sea_orm::Statement::from_sql_and_values(
                        sea_orm::DbBackend::Sqlite,
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [table.into()],
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get("", "sql")
                    .unwrap();
                assert!(sql.ends_with("WITHOUT ROWID"), "{table}, {when}: {sql}");
            }
        }
        connection.close().await.unwrap();
        check(when).await;
        assert_eq!(t.stored_figures().await, documents, "{when}");
    }
}
