//! What every response carries (security headers, no caching of figures), the request log line
//! (method, route template, status, time — never a query string, cookie or form field), cookies,
//! and the CSRF check of state-changing forms.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderValue};

/// No inline script or style anywhere: every script and stylesheet is a file of this service.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub const SESSION_COOKIE: &str = "p06_session";
/// Double-submit token of the forms shown before sign-in (the sign-in form itself).
pub const PRE_SESSION_COOKIE: &str = "p06_csrf";
pub const LANG_COOKIE: &str = "p06_lang";

/// Adds the security headers to every response and logs it.
pub async fn headers_and_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Figures are for the signed-in user only: no shared or back-button cache keeps them.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let status = response.status().as_u16();
    let millis = started.elapsed().as_secs_f64() * 1_000.0;
    if status >= 500 {
        tracing::warn!(%method, route, status, millis, "web request");
    } else {
        tracing::info!(%method, route, status, millis, "web request");
    }
    response
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether cookies get the `Secure` attribute: always, never, or when the request came over
/// HTTPS (a TLS-terminating proxy says so in `X-Forwarded-Proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecureCookies {
    Auto,
    Always,
    Never,
}

impl SecureCookies {
    pub fn applies(self, headers: &HeaderMap) -> bool {
        match self {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")),
        }
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age_secs.max(0)
    ))
    .expect("cookie values are URL-safe base64 or fixed words")
}

/// Whether a form post comes from this site: its token equals the expected one and, when the
/// browser names the page it came from (`Origin`), that page is on this host.
///
/// Our own `Referrer-Policy: no-referrer` makes browsers send `Origin: null` with every form
/// post, even from this site's pages (Fetch standard, "append a request `Origin` header"); then
/// `Sec-Fetch-Site`, when the browser sends it, must say `same-origin`, and the token decides.
pub fn csrf_ok(headers: &HeaderMap, expected: Option<&str>, submitted: &str) -> bool {
    let Some(expected) = expected else {
        return false;
    };
    if expected.is_empty() || !crate::session::same_secret(expected, submitted) {
        return false;
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => headers
            .get("sec-fetch-site")
            .is_none_or(|site| site.as_bytes() == b"same-origin"),
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_host = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .unwrap_or("");
            !host.is_empty() && origin_host == host
        }
    }
}

/// A path on this site to go to after sign-in; anything else (another site, `//x`) is `/`.
pub fn local_path(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok { next.to_owned() } else { "/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; p06_session=xyz"), ("cookie", "b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_strict() {
        let v = set_cookie(SESSION_COOKIE, "abc", 60, true);
        assert_eq!(
            v.to_str().unwrap(),
            "p06_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert!(SecureCookies::Auto.applies(&h));
        assert!(!SecureCookies::Auto.applies(&HeaderMap::new()));
    }

    #[test]
    fn csrf_needs_the_token_and_a_same_site_origin() {
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        let other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
        ]);
        assert!(csrf_ok(&same, Some("tok"), "tok"));
        assert!(csrf_ok(&HeaderMap::new(), Some("tok"), "tok"));
        assert!(!csrf_ok(&same, Some("tok"), "tik"));
        assert!(!csrf_ok(&same, None, "tok"));
        assert!(!csrf_ok(&same, Some(""), ""));
        assert!(!csrf_ok(&other, Some("tok"), "tok"));
        // What Chromium sends from this site's own form under `Referrer-Policy: no-referrer`.
        let null_same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        let null_other = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(csrf_ok(&null_same, Some("tok"), "tok"));
        assert!(!csrf_ok(&null_same, Some("tok"), "tik"));
        assert!(!csrf_ok(&null_other, Some("tok"), "tok"));
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path("/p/64?as_of=2025-03-23"),
            "/p/64?as_of=2025-03-23"
        );
        assert_eq!(local_path("//evil.example"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil"), "/");
    }
}
