//! CatalogService: the seeded localities of three editions, the crosswalk, indicators and targets.

use p06_auth::{Agency, Role};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{
    ListEditionsRequest, ListIndicatorsRequest, ListLocalitiesRequest, ListLocalityMappingsRequest,
    ListTargetsRequest, Locality, LocalityLevel, Target, UpsertTargetsRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;

async fn all_localities(
    t: &TestAggregator,
    edition: &str,
    parent: &str,
    level: LocalityLevel,
) -> Vec<Locality> {
    let token = t.keys.viewer();
    let mut client = t.catalog().await;
    let mut out = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_localities(authed(
                ListLocalitiesRequest {
                    edition: edition.into(),
                    parent_code: parent.into(),
                    level: level as i32,
                    page_size: 500,
                    page_token,
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        out.extend(page.localities);
        if page.next_page_token.is_empty() {
            return out;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn editions_carry_their_interval_and_the_one_in_force_today() {
    let t = TestAggregator::start().await;
    let editions = t
        .catalog()
        .await
        .list_editions(authed(ListEditionsRequest {}, &t.keys.viewer()))
        .await
        .unwrap()
        .into_inner()
        .editions;
    let date =
        |d: &Option<p06_proto::common::CalendarDate>| p06_kit::convert::date_from_proto(d.as_ref());
    // What the catalog serves is what the domain rule enforces.
    let builtin = p06_domain::edition::builtin();
    assert_eq!(editions.len(), builtin.len());
    for (served, rule) in editions.iter().zip(builtin) {
        assert_eq!(served.edition, rule.edition.as_str());
        assert_eq!(date(&served.valid_from), rule.valid_from);
        assert_eq!(date(&served.valid_until), rule.valid_until);
        assert_eq!(served.tiers, i32::from(rule.tiers));
        assert!(!served.name_vi.is_empty() && !served.name_en.is_empty());
    }
    // The tests' clock stands on 22 March 2025: edition 2024 is in force.
    let in_force: Vec<&str> = editions
        .iter()
        .filter(|e| e.in_force)
        .map(|e| e.edition.as_str())
        .collect();
    assert_eq!(in_force, ["2024"]);
    t.clock.set(
        chrono::DateTime::parse_from_rfc3339("2025-07-01T00:00:00+07:00")
            .unwrap()
            .into(),
    );
    let editions = t
        .catalog()
        .await
        .list_editions(authed(ListEditionsRequest {}, &t.keys.viewer()))
        .await
        .unwrap()
        .into_inner()
        .editions;
    assert!(editions.iter().any(|e| e.edition == "2025" && e.in_force));
}

#[tokio::test]
async fn every_province_of_every_edition_is_seeded_with_its_units() {
    let t = TestAggregator::start().await;
    for (edition, provinces, districts, communes) in [
        ("2023", 63, 705, 10_599),
        ("2024", 63, 696, 10_035),
        ("2025", 34, 0, 3_321),
    ] {
        assert_eq!(
            all_localities(&t, edition, "", LocalityLevel::Province)
                .await
                .len(),
            provinces,
            "{edition}"
        );
        assert_eq!(
            all_localities(&t, edition, "", LocalityLevel::District)
                .await
                .len(),
            districts,
            "{edition}"
        );
        assert_eq!(
            all_localities(&t, edition, "", LocalityLevel::Commune)
                .await
                .len(),
            communes,
            "{edition}"
        );
    }
}

#[tokio::test]
async fn gia_lai_has_its_real_districts_and_communes() {
    let t = TestAggregator::start().await;
    let districts = all_localities(&t, "2024", GIA_LAI, LocalityLevel::District).await;
    assert_eq!(districts.len(), 17);
    let dak_doa = districts.iter().find(|d| d.code == DAK_DOA).unwrap();
    assert_eq!(dak_doa.name, "Huyện Đak Đoa");
    let communes = all_localities(&t, "2024", DAK_DOA, LocalityLevel::Commune).await;
    assert_eq!(communes.len(), 17);
    let ha_dong = communes.iter().find(|c| c.code == HA_DONG).unwrap();
    assert_eq!(
        (
            ha_dong.name.as_str(),
            ha_dong.parent_code.as_str(),
            ha_dong.province_code.as_str()
        ),
        ("Xã Hà Đông", DAK_DOA, GIA_LAI)
    );
    assert_eq!(
        all_localities(&t, "2024", GIA_LAI, LocalityLevel::Commune)
            .await
            .len(),
        218
    );
    assert_eq!(
        all_localities(&t, "2023", GIA_LAI, LocalityLevel::Commune)
            .await
            .len(),
        220
    );
}

#[tokio::test]
async fn reused_codes_are_told_apart_by_edition_and_the_crosswalk_maps_forward() {
    let t = TestAggregator::start().await;
    let name_of =
        |list: Vec<Locality>, code: &str| list.into_iter().find(|l| l.code == code).unwrap().name;
    assert_eq!(
        name_of(
            all_localities(&t, "2024", "", LocalityLevel::Province).await,
            "52"
        ),
        "Tỉnh Bình Định"
    );
    assert_eq!(
        name_of(
            all_localities(&t, "2025", "", LocalityLevel::Province).await,
            "52"
        ),
        "Tỉnh Gia Lai"
    );

    let mappings = t
        .catalog()
        .await
        .list_locality_mappings(authed(
            ListLocalityMappingsRequest {
                locality: Some(LocalityRef {
                    edition: "2024".into(),
                    code: HA_DONG.into(),
                }),
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner()
        .mappings;
    assert!(!mappings.is_empty());
    for m in &mappings {
        let to = m.to.as_ref().unwrap();
        assert_eq!(
            (to.edition.as_str(), to.province_code.as_str()),
            ("2025", "52"),
            "new Gia Lai is 52"
        );
    }
}

#[tokio::test]
async fn indicators_page_through_the_catalog() {
    let t = TestAggregator::start().await;
    let mut client = t.catalog().await;
    let token = t.keys.reporter(Agency::Justice);
    let first = client
        .list_indicators(authed(
            ListIndicatorsRequest {
                agency: String::new(),
                page_size: 10,
                page_token: String::new(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.indicators.len(), 10);
    let rest = client
        .list_indicators(authed(
            ListIndicatorsRequest {
                agency: String::new(),
                page_size: 1000,
                page_token: first.next_page_token,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.indicators.len() + rest.indicators.len(), 24);
    assert!(rest.next_page_token.is_empty());
    let justice = client
        .list_indicators(authed(
            ListIndicatorsRequest {
                agency: "justice".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        justice.indicators.iter().all(|i| i.agency == "justice") && justice.indicators.len() == 5
    );
}

fn target(locality: &str, value: f64) -> Target {
    Target {
        indicator_code: "vneid.l2.activated".into(),
        locality: Some(LocalityRef {
            edition: EDITION.into(),
            code: locality.into(),
        }),
        due_date: Some(date_to_proto(date("2025-03-31"))),
        value,
        update_time: None,
    }
}

#[tokio::test]
async fn targets_are_upserted_in_batches_idempotently() {
    let t = TestAggregator::start().await;
    let admin = t.keys.admin();
    let mut client = t.catalog().await;
    let upsert = |request_id: &str, targets: Vec<Target>| UpsertTargetsRequest {
        request_id: request_id.into(),
        targets,
    };
    let created = client
        .upsert_targets(authed(
            upsert(
                "t-1",
                vec![target(HA_DONG, 2_068.0), target(DAK_DOA, 40_000.0)],
            ),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((created.created_count, created.updated_count), (2, 0));
    let replay = client
        .upsert_targets(authed(
            upsert(
                "t-1",
                vec![target(HA_DONG, 2_068.0), target(DAK_DOA, 40_000.0)],
            ),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((replay.created_count, replay.updated_count), (2, 0));
    let updated = client
        .upsert_targets(authed(
            upsert("t-2", vec![target(HA_DONG, 2_100.0)]),
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.created_count, updated.updated_count), (0, 1));

    let listed = client
        .list_targets(authed(
            ListTargetsRequest {
                province: province(GIA_LAI),
                indicator_code: String::new(),
                page_size: 1,
                page_token: String::new(),
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.targets.len(), 1);
    assert!(!listed.next_page_token.is_empty());
    let ha_dong = listed
        .targets
        .iter()
        .chain(
            client
                .list_targets(authed(
                    ListTargetsRequest {
                        province: province(GIA_LAI),
                        indicator_code: String::new(),
                        page_size: 10,
                        page_token: listed.next_page_token.clone(),
                    },
                    &t.keys.viewer(),
                ))
                .await
                .unwrap()
                .into_inner()
                .targets
                .iter(),
        )
        .find(|t| t.locality.as_ref().unwrap().code == HA_DONG)
        .cloned()
        .unwrap();
    assert_eq!(ha_dong.value, 2_100.0);

    // Bad targets: every problem named, nothing written.
    let bad = vec![
        target("99999", 1.0),
        Target {
            value: -1.0,
            ..target(HA_DONG, 0.0)
        },
        target(HA_DONG, 1.0),
    ];
    let status = client
        .upsert_targets(authed(upsert("t-3", bad), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = p06_kit::status::field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        fields,
        ["targets[0].locality", "targets[1].value", "targets[2]"]
    );
    assert_eq!(t.count("target").await, 2);

    // Only an admin of the province sets targets.
    let status = client
        .upsert_targets(authed(
            upsert("t-4", vec![target(HA_DONG, 1.0)]),
            &t.keys.viewer(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let other_admin = t
        .keys
        .token(Agency::Taskforce, BINH_DINH, Role::TaskforceAdmin);
    let status = client
        .upsert_targets(authed(
            upsert("t-5", vec![target(HA_DONG, 1.0)]),
            &other_admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}
