//! Headless Chromium driven through chromedriver (WebDriver on loopback), and what the tests ask
//! of it: open a path, read the DOM, wait for a condition, press keys, save screenshots at desktop
//! and phone widths.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Set to `1` to skip the browser tests on purpose (a machine without Chromium).
pub const SKIP_VAR: &str = "P06_SKIP_BROWSER_TESTS";

/// Desktop and phone viewports the screenshots are taken at.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// The two programs the tests need.
pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver, or says how to install them. `None` only when the tests are
/// skipped on purpose ([`SKIP_VAR`]); a machine without them fails, it never passes silently.
pub fn tools() -> Option<Tools> {
    if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") {
        eprintln!("browser tests skipped: {SKIP_VAR}=1");
        return None;
    }
    let chromium = program(
        "P06_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = program("P06_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Some(Tools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let mut missing = Vec::new();
            if chromium.is_none() {
                missing.push("chromium (or chromium-browser, google-chrome)");
            }
            if chromedriver.is_none() {
                missing.push("chromedriver");
            }
            panic!(
                "the browser tests need Chromium and chromedriver; not found on PATH: {}. Install \
                 them (Debian/Ubuntu, as root: `apt-get update && apt-get install -y chromium \
                 chromium-driver`; .ci/run does this), or point P06_CHROMIUM / P06_CHROMEDRIVER \
                 at them, or set {SKIP_VAR}=1 to skip these tests on purpose",
                missing.join(", ")
            )
        }
    }
}

/// A program named by `var`, or the first of `names` on the PATH.
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "{var}={} is not a file", path.display());
        return Some(path);
    }
    let paths = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A chromedriver process on an ephemeral loopback port; killed when dropped.
pub struct Driver {
    child: Child,
    log: PathBuf,
    pub url: String,
}

impl Driver {
    pub fn start(tools: &Tools, dir: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join("chromedriver.log");
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", tools.chromedriver.display()));
        let mut driver = Driver {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited ({status}): {}", driver.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver does not listen on {addr} after 20 s: {}",
                driver.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session on the web page at `base`.
pub struct Browser {
    pub client: Client,
    pub base: String,
    shots: PathBuf,
    taken: Vec<PathBuf>,
}

impl Browser {
    /// A headless Chromium session (no sandbox: CI runs as root), at the desktop size.
    pub async fn open(tools: &Tools, driver: &Driver, base: String, shots: PathBuf) -> Browser {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=vi-VN",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "Chromium does not start through chromedriver: {e}\n{}",
                    driver.log_text()
                )
            });
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        let browser = Browser {
            client,
            base,
            shots,
            taken: Vec::new(),
        };
        browser.viewport(DESKTOP).await;
        browser
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path and query the browser shows.
    pub async fn here(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and reads what it returns.
    pub async fn eval<T: DeserializeOwned>(&self, script: &str, args: Vec<Value>) -> T {
        let value = self
            .client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("script answered {value}: {e}\n{script}"))
    }

    /// Waits until `script` returns true, at most `within`.
    pub async fn wait_for(&self, what: &str, script: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.eval::<bool>(script, vec![]).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {within:?} (at {})",
                self.here().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The visible text of the first element matching `selector`, or `None`.
    pub async fn text(&self, selector: &str) -> Option<String> {
        self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null;",
            vec![json!(selector)],
        )
        .await
    }

    /// Clicks the first element matching `selector` and waits for the page it leads to.
    pub async fn click(&self, selector: &str) {
        let before = self.page_id().await;
        self.find(selector)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
        self.wait_for(
            &format!("the page after clicking {selector}"),
            &format!(
                "return document.readyState === 'complete' && window.__p06_page !== {before};"
            ),
            Duration::from_secs(15),
        )
        .await;
    }

    /// Marks the loaded document with a number, so a reload (or a new page) is told apart.
    pub async fn page_id(&self) -> u64 {
        self.eval(
            "if (!window.__p06_page) { \
               window.__p06_page = Date.now() * 1000 + Math.floor(Math.random() * 1000); } \
             return window.__p06_page;",
            vec![],
        )
        .await
    }

    async fn find(&self, selector: &str) -> fantoccini::elements::Element {
        match self.client.find(fantoccini::Locator::Css(selector)).await {
            Ok(e) => e,
            Err(e) => panic!("{selector} on {}: {e}", self.here().await),
        }
    }

    /// Sets an input's value (typing into `type=date` depends on the browser's locale).
    pub async fn set_value(&self, selector: &str, value: &str) {
        let found: bool = self
            .eval(
                "const e = document.querySelector(arguments[0]); if (!e) { return false; } \
                 e.value = arguments[1]; return true;",
                vec![json!(selector), json!(value)],
            )
            .await;
        assert!(found, "no {selector} on {}", self.here().await);
    }

    /// Chooses the file at `path` in the file input matching `selector`.
    pub async fn choose_file(&self, selector: &str, path: &std::path::Path) {
        let input = self.find(selector).await;
        input
            .send_keys(&path.to_string_lossy())
            .await
            .expect("choose a file");
    }

    /// Types `text` into the input matching `selector`, after clearing it.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let input = self.find(selector).await;
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    /// Presses Tab once.
    pub async fn tab(&self) {
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Tab.into(),
            })
            .then(KeyAction::Up {
                value: Key::Tab.into(),
            });
        self.client.perform_actions(keys).await.expect("press Tab");
    }

    /// Resizes the window so that the page's viewport is `size` CSS pixels.
    async fn viewport(&self, size: (u32, u32)) {
        self.resize(size, true).await;
    }

    /// Resizes the window towards a viewport of `size`: exactly, or (`exact` false, for whole-page
    /// screenshots, where a very tall window is not always granted to the pixel) the width exactly
    /// and as much of the height as the browser gives.
    async fn resize(&self, (width, height): (u32, u32), exact: bool) {
        let mut window = (width, height);
        let mut seen = Vec::new();
        for _ in 0..5 {
            self.client
                .set_window_size(window.0, window.1)
                .await
                .expect("resize");
            // The page may see the new size a moment after the window has it (a loaded machine):
            // read until two readings agree.
            let mut last: Option<(i64, i64)> = None;
            let (w, h) = loop {
                let now: (i64, i64) = self
                    .eval("return [window.innerWidth, window.innerHeight];", vec![])
                    .await;
                if last == Some(now) {
                    break now;
                }
                last = Some(now);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            };
            if (w, h) == (i64::from(width), i64::from(height))
                || (!exact && w == i64::from(width) && h >= i64::from(height))
            {
                return;
            }
            seen.push((w, h));
            window = (
                (i64::from(window.0) + i64::from(width) - w) as u32,
                (i64::from(window.1) + i64::from(height) - h) as u32,
            );
        }
        assert!(
            !exact && seen.last().is_some_and(|&(w, _)| w == i64::from(width)),
            "the viewport cannot be made {width}×{height} (it was {seen:?})"
        );
    }

    /// Saves `NN-name-desktop.png` and `NN-name-phone.png`, each of the whole page; at the phone's
    /// width the page must not scroll sideways (a wide table scrolls inside its own box).
    pub async fn screenshots(&mut self, name: &str) {
        let n = self.taken.len() / 2 + 1;
        for (label, size) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.viewport(size).await;
            let (scroll_width, full_height): (i64, i64) = self
                .eval(
                    "return [document.documentElement.scrollWidth, \
                     document.documentElement.scrollHeight];",
                    vec![],
                )
                .await;
            assert!(
                scroll_width <= i64::from(size.0),
                "{name} at {label} width {}: the page is {scroll_width} px wide (it scrolls \
                 sideways; offending elements: {:?})",
                size.0,
                self.wider_than(size.0).await
            );
            // The whole page: a viewport as tall as the document (bounded).
            let tall = full_height.clamp(i64::from(size.1), 8_000) as u32;
            self.resize((size.0, tall), false).await;
            let png = self.client.screenshot().await.expect("screenshot");
            let path = self.shots.join(format!("{n:02}-{name}-{label}.png"));
            std::fs::write(&path, png).expect("write screenshot");
            self.taken.push(path);
        }
        self.viewport(DESKTOP).await;
    }

    /// Elements whose right edge passes `width` (to name them when a page overflows).
    async fn wider_than(&self, width: u32) -> Vec<String> {
        self.eval(
            "const w = arguments[0]; const out = []; \
             const scrolls = e => { for (let a = e.parentElement; a; a = a.parentElement) { \
               if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) { \
                 return true; } } return false; }; \
             for (const e of document.querySelectorAll('body *')) { \
               const r = e.getBoundingClientRect(); \
               if (r.right > w + 1 && out.length < 8 && !scrolls(e)) { \
                 out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + \
                   (e.className && e.className.baseVal === undefined ? '.' + e.className : '') + \
                   ' ' + Math.round(r.right) + 'px'); } } \
             return out;",
            vec![json!(width)],
        )
        .await
    }

    pub fn screenshots_taken(&self) -> &[PathBuf] {
        &self.taken
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Where screenshots go: `screenshots/` in the target directory this test was built in (the
/// workspace's `target/`, or `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // <target>/<profile>/deps/browser-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test runs from a target directory");
    target.join("screenshots")
}
