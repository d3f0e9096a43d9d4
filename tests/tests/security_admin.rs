//! Administered objects belong to their province (issue 18, point 2): obligations' settings,
//! targets and period locks. Attacks against the running aggregator; each refusal asserts the exact
//! status code and that nothing changed (every obligation setting, target, lock and audit record).
//! SQLite always; PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use p06_auth::{Agency, Role};
use p06_domain::locality::{Edition, Level};
use p06_domain::obligation::ObligationSpec;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::{
    ListObligationsRequest, ListTargetsRequest, LockPeriodRequest, PeriodLock, Target,
    UnlockPeriodRequest, UpsertObligationRequest, UpsertTargetsRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Hà Nội in edition 2024: the attacker province of the issue.
const HA_NOI: &str = "01";
const POLICE_WEEKLY: &str = "police-weekly-identity";

/// Everything an admin call could change.
#[derive(Debug, PartialEq)]
struct Administered {
    obligations: Vec<(i64, ObligationSpec)>,
    obligation_codes: i64,
    targets: i64,
    active_locks: i64,
    audit: i64,
    reports: i64,
}

async fn administered(t: &TestAggregator) -> Administered {
    Administered {
        obligations: t
            .aggregator
            .state
            .store
            .obligation_bindings()
            .await
            .unwrap(),
        obligation_codes: t.count("obligation").await,
        targets: t.count("target").await,
        active_locks: t.count_where("period_lock", "unlocked_at IS NULL").await,
        audit: t.count("audit_log").await,
        reports: t.report_count().await,
    }
}

fn admin_of(t: &TestAggregator, province: &str) -> String {
    t.keys
        .token(Agency::Taskforce, province, Role::TaskforceAdmin)
}

fn viewer_of(t: &TestAggregator, province: &str) -> String {
    t.keys
        .token(Agency::Taskforce, province, Role::TaskforceViewer)
}

/// The national task force's token (read-only by design), here even with the admin role.
fn national_admin(t: &TestAggregator) -> String {
    admin_of(t, "VN")
}

async fn admin(t: &TestAggregator) -> AdminServiceClient<Channel> {
    AdminServiceClient::new(t.channel().await)
}

async fn list_obligations(t: &TestAggregator, token: &str) -> Vec<ObligationSpec> {
    let page = admin(t)
        .await
        .list_obligations(authed(
            ListObligationsRequest {
                page_size: 1_000,
                page_token: String::new(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(page.next_page_token.is_empty());
    page.obligations
        .iter()
        .map(|o| serde_json::from_str(&o.spec_json).unwrap())
        .collect()
}

async fn upsert_obligation(
    t: &TestAggregator,
    token: &str,
    spec: &serde_json::Value,
) -> Result<ObligationSpec, tonic::Status> {
    admin(t)
        .await
        .upsert_obligation(authed(
            UpsertObligationRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                spec_json: spec.to_string(),
            },
            token,
        ))
        .await
        .map(|r| serde_json::from_str(&r.into_inner().spec_json).unwrap())
}

/// Gia Lai's police weekly obligation as JSON, bound to `provinces`.
async fn police_weekly(t: &TestAggregator, provinces: &[&str]) -> serde_json::Value {
    let spec = list_obligations(t, &admin_of(t, GIA_LAI))
        .await
        .into_iter()
        .find(|o| o.code == POLICE_WEEKLY)
        .expect("Gia Lai has the police weekly obligation");
    let mut json = serde_json::to_value(spec).unwrap();
    json["provinces"] = serde_json::json!(provinces);
    json
}

/// A commune of a province of edition 2024.
fn commune_of(t: &TestAggregator, province: &str) -> String {
    let catalog = &t.aggregator.state.catalog;
    let p = catalog.province(Edition::E2024, province).unwrap();
    catalog
        .in_province(p.id)
        .find(|l| l.level == Level::Commune)
        .unwrap()
        .code
        .clone()
}

/// A police report of `province` for the week of 10–16 March 2025, by its own reporter.
async fn police_submits(
    t: &TestAggregator,
    province_code: &str,
    request_id: &str,
) -> Result<i32, tonic::Status> {
    let mut request = police_report(
        request_id,
        vec![obs(
            "vneid.l2.activated",
            &commune_of(t, province_code),
            100.0,
        )],
    );
    request.province = province(province_code);
    let token = t.keys.token(Agency::Police, province_code, Role::Reporter);
    t.ingest()
        .await
        .submit_report(authed(request, &token))
        .await
        .map(|r| r.into_inner().revision)
}

fn assert_denied_naming(status: &tonic::Status, names: &[&str]) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    for name in names {
        assert!(status.message().contains(name), "{status:?} names {name}");
    }
}

#[tokio::test]
async fn another_provinces_admin_cannot_change_its_obligation() {
    let t = TestAggregator::start().await;
    let before = administered(&t).await;
    let gia_lai_before = list_obligations(&t, &admin_of(&t, GIA_LAI)).await;
    let ha_noi = admin_of(&t, HA_NOI);

    // Naming Gia Lai, alone or next to its own province, with other settings or the same.
    for provinces in [
        &[&*format!("{EDITION}/{GIA_LAI}")][..],
        &[
            &*format!("{EDITION}/{HA_NOI}"),
            &*format!("{EDITION}/{GIA_LAI}"),
        ],
    ] {
        let mut spec = police_weekly(&t, provinces).await;
        spec["deadline"]["days"] = serde_json::json!(0);
        let status = upsert_obligation(&t, &ha_noi, &spec).await.unwrap_err();
        assert_denied_naming(&status, &["2024/64", "2024/01"]);
        let status = upsert_obligation(&t, &ha_noi, &police_weekly(&t, provinces).await)
            .await
            .unwrap_err();
        assert_denied_naming(&status, &["2024/64"]);
        assert_eq!(administered(&t).await, before);
    }

    // The call: Hà Nội's admin sets the code for Hà Nội. It gets Hà Nội's own settings of
    // it; Gia Lai's stay as they were and its police keep reporting.
    let mut spec = police_weekly(&t, &["2024/01"]).await;
    spec["indicators"] = serde_json::json!(["vneid.l2.activated"]);
    spec["deadline"]["days"] = serde_json::json!(5);
    let set = upsert_obligation(&t, &ha_noi, &spec).await.unwrap();
    assert_eq!(set.provinces, ["2024/01"]);
    assert_eq!(
        list_obligations(&t, &admin_of(&t, GIA_LAI)).await,
        gia_lai_before
    );
    assert_eq!(police_submits(&t, GIA_LAI, "gia-lai-1").await.unwrap(), 1);
    // Hà Nội's police report under Hà Nội's settings (one indicator required there).
    assert_eq!(police_submits(&t, HA_NOI, "ha-noi-1").await.unwrap(), 1);
    let ha_noi_list = list_obligations(&t, &ha_noi).await;
    assert_eq!(ha_noi_list.len(), 1);
    assert_eq!(ha_noi_list[0].deadline.days, 5);

    // A code keeps its agency everywhere: Hà Nội cannot make it a health obligation.
    let before = administered(&t).await;
    let mut as_health = police_weekly(&t, &["2024/01"]).await;
    as_health["agency"] = serde_json::json!("health");
    as_health["indicators"] = serde_json::json!(["bhyt.cards.integrated"]);
    let status = upsert_obligation(&t, &ha_noi, &as_health)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        "agency"
    );
    assert_eq!(administered(&t).await, before);
}

#[tokio::test]
async fn an_empty_provinces_list_is_invalid() {
    let t = TestAggregator::start().await;
    let before = administered(&t).await;
    let status = upsert_obligation(&t, &admin_of(&t, GIA_LAI), &police_weekly(&t, &[]).await)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "provinces");
    assert!(
        violations[0].description.contains("2024/64"),
        "{violations:?}"
    );
    assert_eq!(administered(&t).await, before);
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

async fn upsert_targets(
    t: &TestAggregator,
    token: &str,
    targets: Vec<Target>,
) -> Result<(), tonic::Status> {
    t.catalog()
        .await
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                targets,
            },
            token,
        ))
        .await
        .map(|_| ())
}

fn lock_request(province_code: &str) -> LockPeriodRequest {
    LockPeriodRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        province: province(province_code),
        period: period("2025-03-10", "2025-03-16"),
        agency: "police".into(),
        obligation: String::new(),
        reason: "số liệu đã chốt".into(),
    }
}

async fn lock(
    t: &TestAggregator,
    token: &str,
    request: LockPeriodRequest,
) -> Result<PeriodLock, tonic::Status> {
    admin(t)
        .await
        .lock_period(authed(request, token))
        .await
        .map(|r| r.into_inner())
}

async fn unlock(
    t: &TestAggregator,
    token: &str,
    province_code: &str,
    name: &str,
) -> Result<PeriodLock, tonic::Status> {
    admin(t)
        .await
        .unlock_period(authed(
            UnlockPeriodRequest {
                request_id: uuid::Uuid::new_v4().to_string(),
                province: province(province_code),
                name: name.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn the_national_token_is_refused_every_admin_call() {
    let t = TestAggregator::start().await;
    let gia_lai_lock = lock(&t, &admin_of(&t, GIA_LAI), lock_request(GIA_LAI))
        .await
        .unwrap();
    let before = administered(&t).await;
    let national = national_admin(&t);
    let national_names = ["2024/VN", "read-only"];

    for provinces in [&[][..], &["2024/VN"], &["2024/64"]] {
        let status = upsert_obligation(&t, &national, &police_weekly(&t, provinces).await)
            .await
            .unwrap_err();
        assert_denied_naming(&status, &national_names);
    }
    let status = upsert_targets(&t, &national, vec![target(HA_DONG, 1.0)])
        .await
        .unwrap_err();
    assert_denied_naming(&status, &national_names);
    for province_code in [GIA_LAI, "VN"] {
        let status = lock(&t, &national, lock_request(province_code))
            .await
            .unwrap_err();
        assert_denied_naming(&status, &national_names);
        let status = unlock(&t, &national, province_code, &gia_lai_lock.name)
            .await
            .unwrap_err();
        assert_denied_naming(&status, &national_names);
    }
    assert_eq!(administered(&t).await, before);
    // Gia Lai's lock still holds.
    let status = police_submits(&t, GIA_LAI, "after").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn reads_show_only_the_callers_province_and_the_nation_its_edition() {
    let t = TestAggregator::start().await;
    // Hà Nội joins the police weekly duty with Gia Lai's settings; Bình Định with a later deadline.
    upsert_obligation(
        &t,
        &admin_of(&t, HA_NOI),
        &police_weekly(&t, &["2024/01"]).await,
    )
    .await
    .unwrap();
    let mut later = police_weekly(&t, &["2024/52"]).await;
    later["deadline"]["days"] = serde_json::json!(4);
    upsert_obligation(&t, &admin_of(&t, BINH_DINH), &later)
        .await
        .unwrap();

    let of = |specs: &[ObligationSpec]| -> Vec<(String, Vec<String>)> {
        specs
            .iter()
            .map(|s| (s.code.clone(), s.provinces.clone()))
            .collect()
    };
    let gia_lai = list_obligations(&t, &viewer_of(&t, GIA_LAI)).await;
    assert_eq!(gia_lai.len(), 4);
    assert!(
        gia_lai.iter().all(|s| s.provinces == ["2024/64"]),
        "{:?}",
        of(&gia_lai)
    );
    let binh_dinh = list_obligations(&t, &viewer_of(&t, BINH_DINH)).await;
    assert_eq!(
        of(&binh_dinh),
        [(POLICE_WEEKLY.to_owned(), vec!["2024/52".to_owned()])]
    );
    assert_eq!(binh_dinh[0].deadline.days, 4);
    assert!(list_obligations(&t, &viewer_of(&t, "02")).await.is_empty());

    // The nation sees every province of its edition, identical settings merged.
    let national = list_obligations(&t, &viewer_of(&t, "VN")).await;
    let police: Vec<_> = national
        .iter()
        .filter(|s| s.code == POLICE_WEEKLY)
        .collect();
    assert_eq!(police.len(), 2, "{:?}", of(&national));
    assert_eq!(police[0].provinces, ["2024/01", "2024/64"]);
    assert_eq!(police[1].provinces, ["2024/52"]);
    assert_eq!(national.len(), 5);
    let national_2025 = t
        .keys
        .dev
        .mint(&p06_auth::Grant::new(
            Agency::Taskforce,
            "2025",
            "VN",
            Role::TaskforceViewer,
        ))
        .unwrap();
    assert!(list_obligations(&t, &national_2025).await.is_empty());
    // A reporting agency reads only the obligations it must meet: its own, in its province.
    let police_reads = list_obligations(&t, &t.keys.reporter(Agency::Police)).await;
    assert!(!police_reads.is_empty());
    assert!(
        police_reads
            .iter()
            .all(|s| s.agency == "police" && s.provinces.iter().any(|p| p == "2024/64")),
        "{:?}",
        of(&police_reads)
    );

    // Targets: each province's own; the nation reads any province of its edition.
    let bd_commune = commune_of(&t, BINH_DINH);
    upsert_targets(&t, &admin_of(&t, GIA_LAI), vec![target(HA_DONG, 2_068.0)])
        .await
        .unwrap();
    upsert_targets(
        &t,
        &admin_of(&t, BINH_DINH),
        vec![target(&bd_commune, 900.0)],
    )
    .await
    .unwrap();
    let list = |token: String, province_code: &'static str| {
        let t = &t;
        async move {
            t.catalog()
                .await
                .list_targets(authed(
                    ListTargetsRequest {
                        province: province(province_code),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .map(|r| {
                    r.into_inner()
                        .targets
                        .into_iter()
                        .map(|t| (t.locality.unwrap().code, t.value))
                        .collect::<Vec<_>>()
                })
        }
    };
    assert_eq!(
        list(viewer_of(&t, GIA_LAI), GIA_LAI).await.unwrap(),
        [(HA_DONG.to_owned(), 2_068.0)]
    );
    assert_eq!(
        list(viewer_of(&t, GIA_LAI), BINH_DINH)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        list(viewer_of(&t, "VN"), BINH_DINH).await.unwrap(),
        [(bd_commune.clone(), 900.0)]
    );
    assert_eq!(
        list(national_2025.clone(), BINH_DINH)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // A target in another province is refused by name and writes nothing, not even the caller's
    // own targets of the same call.
    let before = administered(&t).await;
    let status = upsert_targets(
        &t,
        &admin_of(&t, BINH_DINH),
        vec![target(&bd_commune, 1.0), target(HA_DONG, 1.0)],
    )
    .await
    .unwrap_err();
    assert_denied_naming(&status, &["targets[1].locality", "2024/64", "2024/52"]);
    assert_eq!(administered(&t).await, before);
}

#[tokio::test]
async fn locks_belong_to_their_province() {
    let t = TestAggregator::start().await;
    let gia_lai = admin_of(&t, GIA_LAI);
    let binh_dinh = admin_of(&t, BINH_DINH);
    let held = lock(&t, &gia_lai, lock_request(GIA_LAI)).await.unwrap();
    let before = administered(&t).await;

    // Bình Định's admin locking or unlocking Gia Lai.
    let status = lock(&t, &binh_dinh, lock_request(GIA_LAI))
        .await
        .unwrap_err();
    assert_denied_naming(&status, &["2024/52", "2024/64"]);
    let status = unlock(&t, &binh_dinh, GIA_LAI, &held.name)
        .await
        .unwrap_err();
    assert_denied_naming(&status, &["2024/52", "2024/64"]);
    // Naming its own province with Gia Lai's lock: no such lock there.
    let status = unlock(&t, &binh_dinh, BINH_DINH, &held.name)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("2024/52"), "{status:?}");
    // A Gia Lai viewer.
    let status = unlock(&t, &viewer_of(&t, GIA_LAI), GIA_LAI, &held.name)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(administered(&t).await, before);
    let refused = police_submits(&t, GIA_LAI, "while-locked")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);

    // What a lock names must exist in the province.
    for (agency, obligation, field) in [
        ("army", "", "agency"),
        ("police", "no-such-obligation", "obligation"),
        ("health", POLICE_WEEKLY, "obligation"),
    ] {
        let status = lock(
            &t,
            &gia_lai,
            LockPeriodRequest {
                agency: agency.into(),
                obligation: obligation.into(),
                ..lock_request(GIA_LAI)
            },
        )
        .await
        .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(
            status.get_details_bad_request().unwrap().field_violations[0].field,
            field
        );
    }
    // Bình Định's own obligation does not make a Gia Lai lock on it valid.
    upsert_obligation(&t, &binh_dinh, &police_weekly(&t, &["2024/52"]).await)
        .await
        .unwrap();
    let before = administered(&t).await;
    let status = lock(
        &t,
        &binh_dinh,
        LockPeriodRequest {
            obligation: "justice-weekly".into(),
            agency: String::new(),
            ..lock_request(BINH_DINH)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(administered(&t).await, before);

    // Each admin's own administration goes through: Bình Định locks its week (Gia Lai's reports
    // are not affected by it), Gia Lai lifts its own lock.
    let bd_lock = lock(
        &t,
        &binh_dinh,
        LockPeriodRequest {
            obligation: POLICE_WEEKLY.into(),
            ..lock_request(BINH_DINH)
        },
    )
    .await
    .unwrap();
    assert_eq!(bd_lock.province.unwrap().code, BINH_DINH);
    assert_eq!(
        police_submits(&t, BINH_DINH, "bd")
            .await
            .unwrap_err()
            .code(),
        Code::FailedPrecondition
    );
    let lifted = unlock(&t, &gia_lai, GIA_LAI, &held.name).await.unwrap();
    assert!(lifted.unlock_time.is_some());
    assert_eq!(police_submits(&t, GIA_LAI, "after").await.unwrap(), 1);
    assert_eq!(
        t.count_where("period_lock", "unlocked_at IS NULL").await,
        1,
        "Bình Định's lock holds"
    );
}

#[tokio::test]
async fn an_upgraded_database_gives_each_bound_province_its_own_copy() {
    use p06_aggregator::compliance::{ComplianceConfig, DEFAULT_COMPLIANCE};
    use p06_migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    // A database as it was before obligations were per province: one global row binding two
    // provinces (and one province the catalog does not know, which binds nothing).
    let db = p06_tests::db::TestDb::fresh().await;
    let connection = sea_orm::Database::connect(&db.url).await.unwrap();
    // Back to just before migration 13 (and whatever came after it).
    let migrations = Migrator::migrations();
    let ours = migrations
        .iter()
        .position(|m| m.name() == "m20250101_000013_obligation_per_province")
        .unwrap();
    let steps = u32::try_from(migrations.len() - ours).unwrap();
    Migrator::down(&connection, Some(steps)).await.unwrap();
    let mut shared = ComplianceConfig::parse(DEFAULT_COMPLIANCE)
        .unwrap()
        .obligations
        .into_iter()
        .find(|o| o.code == POLICE_WEEKLY)
        .unwrap();
    shared.provinces = vec!["2024/64".into(), "2024/52".into(), "2024/99".into()];
    shared.deadline.days = 3;
    let backend = connection.get_database_backend();
    connection
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "INSERT INTO obligation (code, agency, spec, updated_at) \
                     VALUES ($1, 'police', $2, $3)"
                }
                _ => {
                    "INSERT INTO obligation (code, agency, spec, updated_at) \
                     VALUES (?, 'police', ?, ?)"
                }
            },
            [
                POLICE_WEEKLY.into(),
                serde_json::to_string(&shared).unwrap().into(),
                chrono::Utc::now().into(),
            ],
        ))
        .await
        .unwrap();
    Migrator::up(&connection, None).await.unwrap();
    connection.close().await.unwrap();

    let url = db.url.clone();
    let t = TestAggregator::start_on(db, &url).await;
    let copies = t
        .aggregator
        .state
        .store
        .obligation_bindings()
        .await
        .unwrap();
    let police: Vec<(&str, u32)> = copies
        .iter()
        .filter(|(_, s)| s.code == POLICE_WEEKLY)
        .map(|(_, s)| (s.provinces[0].as_str(), s.deadline.days))
        .collect();
    assert_eq!(police, [("2024/52", 3), ("2024/64", 3)]);
    // Both provinces keep reporting under the upgraded settings; each admin now changes only its
    // own copy.
    assert_eq!(police_submits(&t, GIA_LAI, "gl").await.unwrap(), 1);
    assert_eq!(police_submits(&t, BINH_DINH, "bd").await.unwrap(), 1);
    let mut earlier = police_weekly(&t, &["2024/52"]).await;
    earlier["deadline"]["days"] = serde_json::json!(1);
    upsert_obligation(&t, &admin_of(&t, BINH_DINH), &earlier)
        .await
        .unwrap();
    let gia_lai = list_obligations(&t, &admin_of(&t, GIA_LAI)).await;
    let gia_lai_police = gia_lai.iter().find(|s| s.code == POLICE_WEEKLY).unwrap();
    assert_eq!(gia_lai_police.deadline.days, 3);
}
