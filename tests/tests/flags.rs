//! Flags read by pages and fed to watchers (issue 21): `ListFlags` pages by key (every flag once,
//! newest first, filters in SQL) while flags are being raised; `WatchFlags` delivers a flag raised
//! by this aggregator at commit and one raised by another process through the cursor read, each
//! within a second; the caps on open streams answer RESOURCE_EXHAUSTED naming the cap; the
//! shutdown hook ends streams; retention moves old resolved flags to the archive and leaves the
//! rest. Runs on SQLite, and on PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use p06_aggregator::store::Store;
use p06_aggregator::store::compliance::NewFlag;
use p06_auth::{Agency, Grant, Role};
use p06_domain::clock::Clock as _;
use p06_domain::locality::Edition;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{Flag, ListFlagsRequest, WatchFlagsRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::Streaming;
use tonic::transport::Channel;

fn province_id(t: &TestAggregator) -> i64 {
    t.aggregator
        .state
        .catalog
        .province(Edition::E2024, GIA_LAI)
        .expect("Gia Lai")
        .id
}

const KINDS: [&str; 3] = ["LATE", "VAGUE", "TREND_JUMP"];
const AGENCIES: [&str; 2] = ["police", "health"];

/// The `n`-th test flag of a province: kinds and agencies vary with `n`.
fn flag(province_id: i64, n: usize) -> NewFlag {
    NewFlag {
        kind: KINDS[n % 3].into(),
        agency: AGENCIES[n % 2].into(),
        obligation: "police-weekly-identity".into(),
        province_id,
        period_start: date("2025-03-10"),
        period_end: date("2025-03-16"),
        report_id: None,
        indicator_code: None,
        locality_id: None,
        message: format!("test flag {n}"),
        details: None,
        dedupe_key: format!("test|{province_id}|{n}"),
    }
}

async fn seed(t: &TestAggregator, from: usize, to: usize, raised_at: DateTime<Utc>) {
    let pid = province_id(t);
    let flags: Vec<_> = (from..to).map(|n| (flag(pid, n), raised_at)).collect();
    let stored = t
        .aggregator
        .state
        .store
        .bulk_insert_flags(&flags, "test", raised_at)
        .await
        .unwrap();
    assert_eq!(stored as usize, to - from);
}

/// The ids of every flag in the hot table.
async fn flag_ids(t: &TestAggregator) -> Vec<i64> {
    use sea_orm::ConnectionTrait;
    let db = t.aggregator.state.store.connection();
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT id FROM flag".to_owned(),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<i64>("", "id").unwrap())
    .collect()
}

async fn client(t: &TestAggregator) -> TaskForceServiceClient<Channel> {
    TaskForceServiceClient::new(t.channel().await)
}

fn list(kind: &str, state: &str, agency: &str, page_size: i32, token: &str) -> ListFlagsRequest {
    ListFlagsRequest {
        province: province(GIA_LAI),
        kind: kind.into(),
        state: state.into(),
        agency: agency.into(),
        page_size,
        page_token: token.into(),
        archived: false,
    }
}

fn id_of(f: &Flag) -> i64 {
    f.name
        .trim_start_matches("flags/")
        .parse()
        .expect("flags/{id}")
}

/// Every page of a listing: the flags' ids in the order they came.
async fn all_pages(
    tf: &mut TaskForceServiceClient<Channel>,
    token: &str,
    mut request: ListFlagsRequest,
) -> Vec<Flag> {
    let mut out = Vec::new();
    loop {
        let page = tf
            .list_flags(authed(request.clone(), token))
            .await
            .unwrap()
            .into_inner();
        assert!(page.flags.len() <= request.page_size.max(1) as usize);
        out.extend(page.flags);
        if page.next_page_token.is_empty() {
            return out;
        }
        request.page_token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_flags_pages_every_flag_once_newest_first_while_flags_are_raised() {
    let t = TestAggregator::start().await;
    let pid = province_id(&t);
    seed(&t, 0, 1_234, t.clock.now()).await;
    let seeded = flag_ids(&t).await;
    let viewer = t.keys.viewer();
    let mut tf = client(&t).await;

    // Flags keep being raised while the listing is paged through.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (state, stop, now) = (t.aggregator.state.clone(), stop.clone(), t.clock.now());
        tokio::spawn(async move {
            let mut n = 100_000;
            while !stop.load(Ordering::Relaxed) {
                state.store.raise(&flag(pid, n), "test", now).await.unwrap();
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            n - 100_000
        })
    };
    let flags = all_pages(&mut tf, &viewer, list("", "", "", 50, "")).await;
    stop.store(true, Ordering::Relaxed);
    let raised_meanwhile = writer.await.unwrap();
    assert!(
        raised_meanwhile > 0,
        "the writer raised flags during the listing"
    );

    let ids: Vec<i64> = flags.iter().map(id_of).collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no flag twice"
    );
    let seen: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(seeded.len(), 1_234);
    assert!(
        seeded.iter().all(|id| seen.contains(id)),
        "every flag that existed when paging began is listed"
    );
    // Flags raised meanwhile are listed at most once (those raised before the first page).
    assert!(flags.len() <= 1_234 + raised_meanwhile);

    // Filters apply in the query: each page holds only matching flags, and every match is listed.
    for (kind, state, agency) in [
        ("VAGUE", "", ""),
        ("", "", "health"),
        ("LATE", "OPEN", "police"),
    ] {
        let listed = all_pages(&mut tf, &viewer, list(kind, state, agency, 7, "")).await;
        assert!(
            listed.iter().all(|f| (kind.is_empty() || f.kind == kind)
                && (agency.is_empty() || f.agency == agency))
        );
        let mut condition = format!("province_id = {pid}");
        for (column, value) in [("kind", kind), ("state", state), ("agency", agency)] {
            if !value.is_empty() {
                condition.push_str(&format!(" AND {column} = '{value}'"));
            }
        }
        assert_eq!(
            listed.len() as i64,
            t.count_where("flag", &condition).await,
            "{kind}/{state}/{agency}"
        );
    }

    // A token of another listing, or not a token, is refused.
    let status = tf
        .list_flags(authed(list("", "", "", 10, "flags.10"), &viewer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let mut archived = list("", "", "", 10, &format!("flags:{}", ids[0]));
    archived.archived = true;
    let status = tf.list_flags(authed(archived, &viewer)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

async fn watch(
    tf: &mut TaskForceServiceClient<Channel>,
    token: &str,
    kind: &str,
    include_open: bool,
) -> Result<Streaming<Flag>, tonic::Status> {
    tf.watch_flags(authed(
        WatchFlagsRequest {
            province: province(GIA_LAI),
            kind: kind.into(),
            include_open,
            after: String::new(),
        },
        token,
    ))
    .await
    .map(|r| r.into_inner())
}

async fn next(stream: &mut Streaming<Flag>, within: Duration) -> Flag {
    tokio::time::timeout(within, stream.message())
        .await
        .expect("a flag in time")
        .expect("no error")
        .expect("the stream is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raised_flag_reaches_open_streams_within_a_second() {
    let t = TestAggregator::start_with(|c| c.flags.flag_cursor_ms = 200).await;
    let pid = province_id(&t);
    seed(&t, 0, 3, t.clock.now()).await;
    let viewer = t.keys.viewer();
    let mut tf = client(&t).await;

    // With include_open the open flags come first, oldest first.
    let mut with_open = watch(&mut tf, &viewer, "", true).await.unwrap();
    let first: Vec<String> = [
        next(&mut with_open, Duration::from_secs(5)).await,
        next(&mut with_open, Duration::from_secs(5)).await,
        next(&mut with_open, Duration::from_secs(5)).await,
    ]
    .iter()
    .map(|f| f.message.clone())
    .collect();
    assert_eq!(first, ["test flag 0", "test flag 1", "test flag 2"]);
    let mut late = watch(&mut tf, &viewer, "LATE", false).await.unwrap();

    // Raised by this aggregator (a late report): delivered at commit.
    let started = Instant::now();
    t.ingest()
        .await
        .submit_report(authed(
            police_report("late", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap();
    let late_flag = next(&mut late, Duration::from_secs(1)).await;
    assert_eq!(
        (late_flag.kind.as_str(), late_flag.obligation.as_str()),
        ("LATE", "police-weekly-identity")
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // The unfiltered stream sees it too (and the report's other flags), each once.
    let mut names = HashSet::new();
    while let Ok(Ok(Some(f))) =
        tokio::time::timeout(Duration::from_millis(300), with_open.message()).await
    {
        assert!(names.insert(f.name), "no flag twice");
    }
    assert!(names.contains(&late_flag.name));

    // Raised by another process on the same database: the cursor read brings it.
    let other = Store::connect(&t.db.url).await.unwrap();
    let started = Instant::now();
    let mut raised = flag(pid, 7);
    raised.kind = "LATE".into();
    let id = other
        .raise(&raised, "other-replica", t.clock.now())
        .await
        .unwrap()
        .expect("raised");
    let delivered = next(&mut late, Duration::from_secs(1)).await;
    assert_eq!(delivered.name, format!("flags/{id}"));
    assert!(started.elapsed() < Duration::from_secs(1));
    other.close().await;

    // The shutdown hook ends every stream with UNAVAILABLE, and refuses new ones.
    t.aggregator.state.flag_feed.end_streams();
    let status = tokio::time::timeout(Duration::from_secs(2), late.message())
        .await
        .expect("the stream ends")
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);
    let status = watch(&mut tf, &viewer, "", false).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_streams_are_capped_per_token_subject_and_per_process() {
    let t = TestAggregator::start_with(|c| {
        c.flags.watch_streams_per_subject = 2;
        c.flags.watch_streams_max = 3;
    })
    .await;
    let token_of = |subject: &str| {
        t.keys
            .dev
            .mint(
                &Grant::new(Agency::Taskforce, EDITION, GIA_LAI, Role::TaskforceViewer)
                    .with_subject(subject),
            )
            .unwrap()
    };
    let (anh, binh, chi) = (token_of("anh"), token_of("binh"), token_of("chi"));
    let mut tf = client(&t).await;
    let first = watch(&mut tf, &anh, "", false).await.unwrap();
    let _second = watch(&mut tf, &anh, "", false).await.unwrap();
    let status = watch(&mut tf, &anh, "", false).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    assert!(
        status.message().contains("\"anh\"")
            && status.message().contains("--watch-streams-per-subject"),
        "{}",
        status.message()
    );
    let _third = watch(&mut tf, &binh, "", false).await.unwrap();
    let status = watch(&mut tf, &chi, "", false).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    assert!(
        status.message().contains("--watch-streams-max"),
        "{}",
        status.message()
    );
    assert_eq!(t.aggregator.state.flag_feed.open_streams(), 3);

    // A closed stream gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match watch(&mut tf, &chi, "", false).await {
            Ok(_) => break,
            Err(s) if s.code() == tonic::Code::ResourceExhausted && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(s) => panic!("the place was not given back: {s}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_moves_old_resolved_flags_to_the_archive_and_leaves_the_rest() {
    let t = TestAggregator::start_with(|c| c.flags.flag_retention_days = 90).await;
    let pid = province_id(&t);
    let now = t.clock.now();
    let long_ago = now - chrono::Duration::days(200);
    let store = &t.aggregator.state.store;
    // 0..40 raised long ago; 0..25 resolved long ago, 25..30 resolved recently, 30..40 open.
    seed(&t, 0, 40, long_ago).await;
    for n in 0..30 {
        let when = if n < 25 {
            long_ago + chrono::Duration::days(1)
        } else {
            now - chrono::Duration::days(3)
        };
        store
            .resolve(&flag(pid, n).dedupe_key, "test", "reported", when)
            .await
            .unwrap()
            .expect("an open flag to resolve");
    }
    let moved = p06_aggregator::compliance::archive_flags(&t.aggregator.state, now)
        .await
        .unwrap();
    assert_eq!(moved, 25);
    assert_eq!(t.count("flag_archive").await, 25);
    assert_eq!(t.count_where("flag", "state = 'OPEN'").await, 10);
    assert_eq!(t.count_where("flag", "state = 'RESOLVED'").await, 5);
    assert_eq!(
        t.count_where("audit_log", "action = 'FLAG_ARCHIVED'").await,
        25
    );
    // A second run finds nothing more to move.
    assert_eq!(
        p06_aggregator::compliance::archive_flags(&t.aggregator.state, now)
            .await
            .unwrap(),
        0
    );

    // The archive is listed for audit, under the flags' original names.
    let mut tf = client(&t).await;
    let mut request = list("", "", "", 10, "");
    request.archived = true;
    let archived = all_pages(&mut tf, &t.keys.viewer(), request).await;
    assert_eq!(archived.len(), 25);
    assert!(archived.iter().all(|f| f.state == "RESOLVED"));
    let hot = all_pages(&mut tf, &t.keys.viewer(), list("", "", "", 10, "")).await;
    assert_eq!(hot.len(), 15);
    let hot_names: HashSet<_> = hot.iter().map(|f| f.name.clone()).collect();
    assert!(archived.iter().all(|f| !hot_names.contains(&f.name)));

    // An archived flag is history: raising it again does nothing.
    assert_eq!(store.raise(&flag(pid, 0), "test", now).await.unwrap(), None);
}

/// A page shows the open flags up to the newest it read; a flag raised before its live stream
/// connects is not lost: the stream resumes `after` that flag, sending the open flags raised since
/// (not those the page has, nor resolved ones), then the live ones. A malformed cursor is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_after_the_newest_flag_a_page_shows() {
    let t = TestAggregator::start().await;
    seed(&t, 0, 3, t.clock.now()).await;
    let viewer = t.keys.viewer();
    let mut tf = client(&t).await;
    // What the page showed: the open flags, newest first.
    let shown = tf
        .list_flags(authed(list("", "OPEN", "", 50, ""), &viewer))
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert_eq!(shown.len(), 3);
    let newest = shown.iter().map(id_of).max().unwrap();
    // Raised between the render and the stream: two, of which one is resolved at once.
    seed(&t, 3, 5, t.clock.now()).await;
    let resolved = flag(province_id(&t), 4).dedupe_key;
    t.aggregator
        .state
        .store
        .resolve(
            &resolved,
            "test",
            "resolved before the stream",
            t.clock.now(),
        )
        .await
        .unwrap()
        .expect("resolved");
    let mut stream = tf
        .watch_flags(authed(
            WatchFlagsRequest {
                province: province(GIA_LAI),
                kind: String::new(),
                include_open: false,
                after: format!("flags/{newest}"),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(first.message, "test flag 3");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), stream.message())
            .await
            .is_err(),
        "nothing else: the shown flags and the resolved one are not sent"
    );

    let status = tf
        .watch_flags(authed(
            WatchFlagsRequest {
                province: province(GIA_LAI),
                after: "report/12".into(),
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("after"), "{}", status.message());
}
