//! Scenario 4, the task force's web page: the real `p06-web` (`p06_web::Web`, the code the
//! `p06-web` binary serves; here in the bench process, like the agency services) in front of the
//! query scenario's aggregator and loaded data set. One viewer signs in with a task-force token of
//! the largest province (the one-time link `p06 up` prints), then `--web-viewers` concurrent
//! viewers, sharing that session, load the province's overview, communes and compliance pages,
//! warm: a warm-up first, each page measured on its own, closed loop, over keep-alive HTTP/1.1
//! connections (one per viewer). Every answer must be 200 with the page's own table or cards.
//!
//! Page bytes: the HTML and every asset it references (`/assets/…`, loaded once by a browser and
//! then cached), measured once per page; the targets: p99 ≤ 50 ms, < 200 KB.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::Context as _;
use p06_web::{RunningWeb, Web, WebConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::figures::Week;
use crate::load::{self, Outcome, Plan};
use crate::rig::Rig;
use crate::world::Province;

/// The targets.
pub const TARGET_P99_US: u64 = 50_000;
pub const TARGET_PAGE_BYTES: u64 = 200 * 1024;

/// One page of the scenario.
pub struct Page {
    pub name: &'static str,
    pub path: String,
    /// Marks a complete page (its table or cards), not an error page with status 200.
    pub marker: &'static str,
    pub html_bytes: u64,
    pub asset_bytes: u64,
    pub outcome: Option<Outcome>,
}

/// The pages of the largest province as of the data set's last week.
pub fn pages(province: &Province, weeks: &[Week]) -> Vec<Page> {
    let code = &province.code;
    let (from, to) = (weeks[0].start, weeks[weeks.len() - 1].end);
    let page = |name, path: String, marker| Page {
        name,
        path,
        marker,
        html_bytes: 0,
        asset_bytes: 0,
        outcome: None,
    };
    vec![
        page(
            "overview",
            format!("/p/{code}?as_of={to}&compare_to={}", weeks[0].end),
            "class=\"card\"",
        ),
        page(
            "communes",
            format!("/p/{code}/communes?indicator=vneid.l2.activated&as_of={to}"),
            "<table id=\"communes\"",
        ),
        page(
            "compliance",
            format!("/p/{code}/compliance?from={from}&to={to}"),
            "<table id=\"compliance\"",
        ),
    ]
}

/// A keep-alive HTTP/1.1 connection to the web page.
struct Connection {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

/// Status, headers (lower-case names) and body of one answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Connection {
    fn new(addr: SocketAddr) -> Connection {
        Connection { addr, stream: None }
    }

    /// GET `path` with `cookie`; reconnects once when the server closed an idle connection.
    async fn get(&mut self, path: &str, cookie: &str) -> anyhow::Result<Answer> {
        match self.try_get(path, cookie).await {
            Ok(answer) => Ok(answer),
            Err(_) => {
                self.stream = None;
                self.try_get(path, cookie).await
            }
        }
    }

    async fn try_get(&mut self, path: &str, cookie: &str) -> anyhow::Result<Answer> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::new(stream));
        }
        let stream = self.stream.as_mut().expect("connected");
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        if !cookie.is_empty() {
            request.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        request.push_str("\r\n");
        stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("not an HTTP status line: {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                anyhow::bail!("connection closed in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let mut body = Vec::new();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let chunked = headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        if let Some(n) = length {
            body.resize(n, 0);
            stream.read_exact(&mut body).await?;
        } else if chunked {
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim(), 16)
                    .with_context(|| format!("bad chunk size {line:?}"))?;
                let mut chunk = vec![0; n + 2];
                stream.read_exact(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// Starts the web page in front of the rig's aggregator and signs in with `token` through the
/// one-time link; returns the running page and the session cookie.
pub async fn start(rig: &Rig, token: &str) -> anyhow::Result<(RunningWeb, String)> {
    let web = Web::new(&WebConfig::for_aggregator(rig.aggregator.url()))?
        .spawn(([127, 0, 0, 1], 0).into())
        .await?;
    let link = web.one_time_link(token, "/");
    let path = link.strip_prefix(&web.url()).unwrap_or(&link).to_owned();
    let answer = Connection::new(web.addr).get(&path, "").await?;
    let cookie = answer
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with("p06_session="))
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "signing in to the web page: {} {}",
                answer.status,
                answer.header("location").unwrap_or_default()
            )
        })?;
    Ok((web, cookie))
}

/// The bytes of `page` and of every asset it references (once each).
async fn measure_bytes(addr: SocketAddr, cookie: &str, page: &mut Page) -> anyhow::Result<()> {
    let mut connection = Connection::new(addr);
    let answer = connection.get(&page.path, cookie).await?;
    check(page, &answer)?;
    page.html_bytes = answer.body.len() as u64;
    let html = String::from_utf8_lossy(&answer.body);
    let mut assets: Vec<&str> = html
        .split("=\"/assets/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assets.sort_unstable();
    assets.dedup();
    page.asset_bytes = 0;
    for asset in assets {
        let path = format!(
            "/assets/{}",
            asset.replace("&amp;", "&").replace("&#38;", "&")
        );
        let answer = connection.get(&path, cookie).await?;
        if answer.status != 200 {
            anyhow::bail!("{path}: HTTP {}", answer.status);
        }
        page.asset_bytes += answer.body.len() as u64;
    }
    Ok(())
}

fn check(page: &Page, answer: &Answer) -> anyhow::Result<()> {
    if answer.status != 200 {
        anyhow::bail!(
            "{} {}: HTTP {} {}",
            page.name,
            page.path,
            answer.status,
            answer.header("location").unwrap_or_default()
        );
    }
    let body = String::from_utf8_lossy(&answer.body);
    if !body.contains(page.marker) {
        anyhow::bail!("{}: the page lacks {}", page.name, page.marker);
    }
    Ok(())
}

/// Measures every page: bytes once, then `plan.concurrency` viewers loading it.
pub async fn measure(
    rig: &Rig,
    web: &RunningWeb,
    cookie: &str,
    pages: &mut [Page],
    plan: Plan,
) -> anyhow::Result<()> {
    for page in pages.iter_mut() {
        measure_bytes(web.addr, cookie, page).await?;
        let connections: Arc<Vec<Mutex<Connection>>> = Arc::new(
            (0..plan.concurrency)
                .map(|_| Mutex::new(Connection::new(web.addr)))
                .collect(),
        );
        let (path, marker, name) = (page.path.clone(), page.marker, page.name);
        let cookie = cookie.to_owned();
        let outcome = load::drive(plan, &rig.meter, Arc::new(AtomicU64::new(0)), move |n| {
            let (connections, path, cookie) = (connections.clone(), path.clone(), cookie.clone());
            async move {
                // Sequence numbers spread over the viewers; each holds its connection while its
                // one request is in flight.
                let mut connection = connections[n as usize % connections.len()].lock().await;
                let answer = connection
                    .get(&path, &cookie)
                    .await
                    .map_err(|e| format!("{name}: {e:#}"))?;
                if answer.status != 200 {
                    return Err(format!("{name}: HTTP {}", answer.status));
                }
                if !answer
                    .body
                    .windows(marker.len())
                    .any(|w| w == marker.as_bytes())
                {
                    return Err(format!("{name}: the page lacks {marker}"));
                }
                Ok(answer.body.len() as u64)
            }
        })
        .await;
        page.outcome = Some(outcome);
    }
    Ok(())
}

impl Page {
    pub fn errors(&self) -> u64 {
        self.outcome.as_ref().map_or(0, |o| o.errors)
    }

    pub fn json(&self) -> Value {
        let mut out = match &self.outcome {
            Some(o) => o.json(self.name, "html_bytes"),
            None => json!({ "name": self.name }),
        };
        let total = self.html_bytes + self.asset_bytes;
        let p99 = self.outcome.as_ref().map_or(0, |o| o.quantile_us(0.99));
        out["path"] = json!(self.path);
        out["html_bytes"] = json!(self.html_bytes);
        out["asset_bytes"] = json!(self.asset_bytes);
        out["page_bytes_with_assets"] = json!(total);
        out["target_p99_us"] = json!(TARGET_P99_US);
        out["meets_p99_target"] = json!(self.outcome.is_some() && p99 <= TARGET_P99_US);
        out["target_page_bytes"] = json!(TARGET_PAGE_BYTES);
        out["meets_bytes_target"] = json!(total < TARGET_PAGE_BYTES);
        out
    }
}
