//! History across the reform back to 2023 (issue 24, part 3): reports in the units of edition 2023
//! of old Gia Lai (64) and old Bình Định (52), asked of the 2025 province Gia Lai (52) and of the
//! 2025 country as of a date in 2023. A 2023 commune is carried through the 2024 commune of the
//! same code, then by the 2024 → 2025 crosswalk; one that edition 2024 no longer has (Tân Sơn and
//! Kông Pla of Gia Lai, Thị Nại of Bình Định, absorbed in 2023–2024 mergers) is left out and
//! counted in `uncarried_units`. The edition-2023 answers stay as they were. Runs on SQLite, and
//! on PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use p06_kit::convert::date_from_proto;
use p06_proto::aggregation::LocalityLevel;
use p06_tests::fixtures::*;
use p06_tests::reform::*;
use p06_tests::services::TestAggregator;

/// A Saturday after the reported week of 5–11 June 2023.
const AS_OF: &str = "2023-06-17";
const WEEK: (&str, &str) = ("2023-06-05", "2023-06-11");
/// (commune, activated, residents) of old Gia Lai in 2023 units: Hà Đông and Đăk Sơmei (both
/// kept in 2024, then merged into 2025 Đak Sơmei 23683), Tân Sơn and Kông Pla (not in 2024).
const GIA_LAI_2023: [(&str, f64, f64); 4] = [
    (HA_DONG, 90.0, 5_800.0),
    ("23683", 250.0, 3_900.0),
    ("23593", 40.0, 2_500.0),
    ("23671", 60.0, 3_100.0),
];
/// Old Bình Định in 2023 units: An Toàn, An Hòa, An Nghĩa (split in 2025, An Hòa by default)
/// and Thị Nại (not in 2024).
const BINH_DINH_2023: [(&str, f64, f64); 4] = [
    ("21622", 70.0, 1_900.0),
    ("21628", 180.0, 5_900.0),
    ("21634", 65.0, 1_450.0),
    ("21568", 400.0, 9_000.0),
];
/// Communes of 2023 with no 2024 unit of their code.
const GONE: [&str; 3] = ["23593", "23671", "21568"];

fn continuing(figures: &[(&str, f64, f64)]) -> (f64, f64) {
    figures
        .iter()
        .filter(|(code, _, _)| !GONE.contains(code))
        .fold((0.0, 0.0), |(a, r), (_, v, d)| (a + v, r + d))
}

/// Both old provinces' reports of 5–11 June 2023 in 2023 units, and targets on three 2023
/// communes (one of them Tân Sơn, not in 2024).
async fn reported_2023() -> TestAggregator {
    let t = TestAggregator::start().await;
    t.clock.set(at("2023-06-12T02:00:00Z"));
    for province in [GIA_LAI, BINH_DINH] {
        bind_police_weekly(&t, "2023", province).await;
    }
    for (province, figures) in [
        (GIA_LAI, &GIA_LAI_2023[..]),
        (BINH_DINH, &BINH_DINH_2023[..]),
    ] {
        submit(
            &t,
            report(&format!("2023-{province}"), "2023", province, WEEK, figures),
        )
        .await;
        let targets: &[(&str, f64)] = match province {
            GIA_LAI => &[(HA_DONG, 1_000.0), ("23593", 500.0)],
            _ => &[("21628", 800.0)],
        };
        set_targets(&t, "2023", province, "2023-12-31", targets).await;
    }
    t.clock.set(at("2023-06-17T03:00:00Z"));
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn the_2025_province_as_of_2023_sums_the_continuing_communes_and_counts_the_others() {
    let t = reported_2023().await;
    let old_gia_lai = status(&t, "2023", GIA_LAI, AS_OF).await;
    let old_binh_dinh = status(&t, "2023", BINH_DINH, AS_OF).await;
    let new = status(&t, "2025", NEW_GIA_LAI, AS_OF).await;

    // The edition-2023 answers: every commune of the old province, nothing carried or left out.
    assert_eq!(activated(&old_gia_lai).value, Some(440.0));
    assert_eq!(activated(&old_binh_dinh).value, Some(715.0));
    assert_eq!(activated(&old_gia_lai).target, Some(1_500.0));
    for s in [&old_gia_lai, &old_binh_dinh] {
        assert_eq!(s.carried_from_edition, 0);
        assert_eq!(activated(s).uncarried_units, 0);
        assert_eq!(activated(s).split_units, 0);
    }

    // 2025 Gia Lai as of a 2023 date: the continuing communes of both old provinces.
    let n = activated(&new);
    assert_eq!(new.carried_from_edition, 2023);
    let (a, r) = continuing(&GIA_LAI_2023);
    let (b, s) = continuing(&BINH_DINH_2023);
    assert_eq!(n.value, Some(a + b));
    assert_eq!(n.value, Some(655.0));
    assert_eq!(n.denominator_value, Some(r + s));
    // Tân Sơn, Kông Pla and Thị Nại reported and are left out; An Nghĩa is the split commune.
    assert_eq!(n.uncarried_units, 3);
    assert_eq!(n.split_units, 1);
    // Reporting: 2025 Đak Sơmei, An Toàn and An Hòa.
    assert_eq!(n.localities_reporting, 3);
    // The target: the carried communes' (Hà Đông 1,000, An Hòa 800), not Tân Sơn's 500.
    assert_eq!(n.target, Some(1_800.0));
    assert_eq!(
        date_from_proto(n.oldest_as_of.as_ref()),
        Some(date("2023-06-11"))
    );

    // The 2025 communes: merged ones add up, the split one goes to its default successor.
    let rows = progress(&t, "2025", NEW_GIA_LAI, LocalityLevel::Commune, AS_OF).await;
    assert_eq!(rows.carried_from_edition, 2023);
    let rows = rows.rows;
    assert_eq!(row(&rows, "23683").value, Some(340.0));
    assert_eq!(row(&rows, "23683").target, Some(1_000.0));
    assert_eq!(row(&rows, "21628").value, Some(245.0));
    assert_eq!(row(&rows, "21628").split_units, 1);
    assert_eq!(row(&rows, "21622").value, Some(70.0));
    assert_eq!(rows.iter().filter_map(|r| r.value).sum::<f64>(), 655.0);
    assert!(rows.iter().all(|r| r.uncarried_units == 0));

    // The 2023 answers are what they were before the 2025 province was asked; edition 2024 has
    // no report of a 2023 date and is not carried from 2023.
    assert_eq!(status(&t, "2023", GIA_LAI, AS_OF).await, old_gia_lai);
    assert_eq!(status(&t, "2023", BINH_DINH, AS_OF).await, old_binh_dinh);
    let in_2024 = status(&t, "2024", GIA_LAI, AS_OF).await;
    assert_eq!(in_2024.carried_from_edition, 0);
    assert_eq!(activated(&in_2024).value, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_2025_country_as_of_2023_counts_every_province_left_out_commune() {
    let t = reported_2023().await;
    let country = status(&t, "2025", COUNTRY, AS_OF).await;
    assert_eq!(country.carried_from_edition, 2023);
    let c = activated(&country);
    assert_eq!(c.value, Some(655.0));
    assert_eq!(c.uncarried_units, 3);
    assert_eq!(c.split_units, 1);
    assert_eq!(c.target, Some(1_800.0));
    // The province rows say it too.
    let listed = progress(&t, "2025", COUNTRY, LocalityLevel::Province, AS_OF).await;
    assert_eq!(listed.carried_from_edition, 2023);
    let gia_lai = row(&listed.rows, NEW_GIA_LAI);
    assert_eq!(gia_lai.value, Some(655.0));
    assert_eq!(gia_lai.uncarried_units, 3);
    // The 2023 country counts every commune as reported.
    let three_tier = status(&t, "2023", COUNTRY, AS_OF).await;
    assert_eq!(activated(&three_tier).value, Some(1_155.0));
    assert_eq!(activated(&three_tier).uncarried_units, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trend_of_the_2025_province_runs_back_to_2023() {
    let t = reported_2023().await;
    // A week of 2025 in 2024 units too: old Gia Lai's Hà Đông.
    t.clock.set(at("2025-03-17T02:00:00Z"));
    submit(
        &t,
        report(
            "2024-64",
            "2024",
            GIA_LAI,
            ("2025-03-10", "2025-03-16"),
            &[(HA_DONG, 109.0, 5_908.0)],
        ),
    )
    .await;
    let trend = activated_trend(&t, "2025-03-16", 3, 320).await;
    let points: Vec<(String, Option<f64>, i32, i32)> = trend
        .iter()
        .map(|p| {
            (
                date_from_proto(p.as_of.as_ref()).unwrap().to_string(),
                p.value,
                p.carried_from_edition,
                p.uncarried_units,
            )
        })
        .collect();
    // 2023-06-15 (carried from 2023, three communes left out), 2024-04-30 (edition 2024 in
    // force, nothing reported in it yet), 2025-03-16 (carried from 2024).
    assert_eq!(
        points,
        vec![
            ("2023-06-15".into(), Some(655.0), 2023, 3),
            ("2024-04-30".into(), None, 2024, 0),
            ("2025-03-16".into(), Some(109.0), 2024, 0),
        ]
    );
}
