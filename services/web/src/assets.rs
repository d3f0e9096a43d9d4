//! Every asset of the page, compiled into the binary (government networks are often closed: no
//! CDN, no external font). URLs carry a hash of the content, so browsers may keep them a year.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use sha2::{Digest as _, Sha256};

pub const CSS: &str = include_str!("../assets/app.css");
pub const FLAGS_JS: &str = include_str!("../assets/flags.js");
pub const FAVICON: &str = include_str!("../assets/favicon.svg");

struct Asset {
    name: &'static str,
    body: &'static str,
    content_type: &'static str,
    url: String,
}

fn asset(name: &'static str, body: &'static str, content_type: &'static str) -> Asset {
    let hash = hex::encode(&Sha256::digest(body.as_bytes())[..6]);
    Asset {
        name,
        body,
        content_type,
        url: format!("/assets/{name}?v={hash}"),
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        asset("app.css", CSS, "text/css; charset=utf-8"),
        asset("flags.js", FLAGS_JS, "text/javascript; charset=utf-8"),
        asset("favicon.svg", FAVICON, "image/svg+xml"),
    ]
});

pub fn css_url() -> &'static str {
    &ASSETS[0].url
}

pub fn flags_js_url() -> &'static str {
    &ASSETS[1].url
}

pub fn favicon_url() -> &'static str {
    &ASSETS[2].url
}

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /favicon.ico` (browsers ask for it whatever the page links).
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_urls_change_with_their_content() {
        assert!(css_url().starts_with("/assets/app.css?v="));
        assert_eq!(css_url().len(), "/assets/app.css?v=".len() + 12);
        assert_ne!(css_url(), flags_js_url());
    }

    #[test]
    fn the_script_runs_nothing_inline_and_fetches_nothing_foreign() {
        assert!(!FLAGS_JS.contains("http://") && !FLAGS_JS.contains("https://"));
        assert!(!CSS.contains("http://") && !CSS.contains("https://") && !CSS.contains("@import"));
    }
}
