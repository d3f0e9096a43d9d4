//! What every page handler starts from: the shared state, the signed-in session (or a redirect to
//! sign-in), the language, and the page chrome (header, navigation, forms' CSRF token); and how a
//! refusal of the aggregator becomes a page.

use std::sync::Arc;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use tonic::{Code, Status};

use crate::api::Api;
use crate::assets;
use crate::claims::COUNTRY;
use crate::format::Lang;
use crate::i18n::{self, Texts};
use crate::security::{self, LANG_COOKIE, SESSION_COOKIE, SecureCookies};
use crate::session::{Session, Sessions};

/// Shared by every request.
pub struct Shared {
    pub api: Api,
    pub sessions: Sessions,
    pub secure_cookies: SecureCookies,
}

pub type AppState = Arc<Shared>;

/// The language of a request: `?lang=` first, then the language cookie, then Vietnamese.
pub fn lang_of(parts_query: Option<&str>, headers: &HeaderMap) -> Lang {
    let from_query = parts_query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    from_query
        .or_else(|| security::cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default()
}

/// A signed-in request.
pub struct Ctx {
    pub state: AppState,
    pub session: Arc<Session>,
    pub session_id: String,
    pub lang: Lang,
    /// Path and query of this request (where the language switch returns to).
    pub here: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let lang = lang_of(parts.uri.query(), &parts.headers);
        let now = chrono::Utc::now();
        let found = security::cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|id| state.sessions.get(id, now).map(|s| (id.to_owned(), s)));
        match found {
            Some((session_id, session)) => Ok(Ctx {
                state: state.clone(),
                session,
                session_id,
                lang,
                here,
            }),
            None => Err(to_sign_in(&here)),
        }
    }
}

/// 303 to the sign-in page, coming back to `here` afterwards.
pub fn to_sign_in(here: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/signin?next={next}")).into_response()
}

/// One link of the navigation.
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// Which page of a province is showing (for the navigation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Country,
    Overview,
    Districts,
    Communes,
    Compliance,
    Flags,
    Report,
    Upload,
    None,
}

/// The frame around every page.
pub struct Chrome {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub title: String,
    /// The province shown (for the header), empty when none.
    pub place: String,
    pub nav: Vec<NavItem>,
    /// Subject of the signed-in token, empty on the sign-in page.
    pub user: String,
    pub csrf: String,
    pub back: String,
    pub css: &'static str,
    pub favicon: &'static str,
    /// A script of this service to load (the flags page's live updates), empty for none.
    pub script: &'static str,
}

impl Chrome {
    /// The chrome of a page before sign-in.
    pub fn anonymous(lang: Lang, title: &str, csrf: String, back: String) -> Chrome {
        Chrome {
            t: i18n::texts(lang),
            lang: lang.code(),
            title: title.to_owned(),
            place: String::new(),
            nav: Vec::new(),
            user: String::new(),
            csrf,
            back,
            css: assets::css_url(),
            favicon: assets::favicon_url(),
            script: "",
        }
    }
}

impl Ctx {
    pub fn t(&self) -> &'static Texts {
        i18n::texts(self.lang)
    }

    pub fn token(&self) -> &str {
        self.session.token()
    }

    pub fn api(&self) -> &Api {
        &self.state.api
    }

    pub fn edition(&self) -> &str {
        &self.session.claims.edition
    }

    /// The chrome of a page about `province` (its code; empty for pages about no province).
    pub fn chrome(&self, title: &str, place: &str, province: &str, section: Section) -> Chrome {
        let t = self.t();
        let mut nav = Vec::new();
        // A reporter's page is the upload; the task force's pages are not theirs to read.
        if self.session.claims.reporting_agency().is_some() {
            nav.push(NavItem {
                href: "/upload".into(),
                label: t.nav_upload,
                current: section == Section::Upload,
            });
        } else if self.session.claims.is_national() {
            nav.push(NavItem {
                href: "/country".into(),
                label: t.nav_country,
                current: section == Section::Country,
            });
        }
        if !province.is_empty()
            && province != COUNTRY
            && self.session.claims.reporting_agency().is_none()
        {
            let p = |s: &str| format!("/p/{province}{s}");
            nav.push(NavItem {
                href: p(""),
                label: t.nav_overview,
                current: section == Section::Overview,
            });
            if self.edition() != "2025" {
                nav.push(NavItem {
                    href: p("/districts"),
                    label: t.nav_districts,
                    current: section == Section::Districts,
                });
            }
            for (href, label, s) in [
                ("/communes", t.nav_communes, Section::Communes),
                ("/compliance", t.nav_compliance, Section::Compliance),
                ("/flags", t.nav_flags, Section::Flags),
            ] {
                nav.push(NavItem {
                    href: p(href),
                    label,
                    current: section == s,
                });
            }
        }
        Chrome {
            t,
            lang: self.lang.code(),
            title: title.to_owned(),
            place: place.to_owned(),
            nav,
            user: self.session.claims.sub.clone(),
            csrf: self.session.csrf.clone(),
            back: self.here.clone(),
            css: assets::css_url(),
            favicon: assets::favicon_url(),
            script: "",
        }
    }

    /// The province this session belongs to (`VN` for the national task force).
    pub fn home_province(&self) -> &str {
        &self.session.claims.province
    }

    /// A refusal or failure of the aggregator as a page: UNAUTHENTICATED ends the session and
    /// goes to sign-in; PERMISSION_DENIED is a 403 page; NOT_FOUND 404; INVALID_ARGUMENT 400 with
    /// the server's words; UNAVAILABLE and timeouts 503; anything else 500. Never a trace.
    pub fn fail(&self, status: Status) -> Response {
        if status.code() == Code::Unauthenticated {
            self.state.sessions.remove(&self.session_id);
            return to_sign_in(&self.here);
        }
        let home = self.session.claims.home();
        let province = if self.session.claims.reporting_agency().is_some() {
            ""
        } else {
            self.home_province()
        };
        let chrome = self.chrome("", "", province, Section::None);
        error_page(self.lang, chrome, &status, &home)
    }

    /// A page for a request the page itself finds wrong (a date that is not a date).
    pub fn bad_request(&self, what: &str) -> Response {
        self.fail(Status::invalid_argument(what.to_owned()))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    help: String,
    home: String,
}

/// The page for a failed call, with the status code it deserves.
pub fn error_page(lang: Lang, mut chrome: Chrome, status: &Status, home: &str) -> Response {
    let t = i18n::texts(lang);
    let (code, heading, help) = match status.code() {
        Code::PermissionDenied => (
            StatusCode::FORBIDDEN,
            t.error_forbidden,
            t.error_forbidden_help.to_owned(),
        ),
        Code::NotFound => (
            StatusCode::NOT_FOUND,
            t.error_not_found,
            status.message().to_owned(),
        ),
        Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => {
            let mut help = status.message().to_owned();
            for (field, description) in p06_kit::status::field_violations(status) {
                help.push_str(&format!(" — {field}: {description}"));
            }
            (StatusCode::BAD_REQUEST, t.error_bad_request, help)
        }
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted => {
            tracing::warn!(code = ?status.code(), "aggregator unavailable for a page");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                t.error_unavailable,
                t.error_unavailable_help.to_owned(),
            )
        }
        code => {
            tracing::error!(
                ?code,
                message = status.message(),
                "aggregator failed a page's call"
            );
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_internal,
                t.error_unavailable_help.to_owned(),
            )
        }
    };
    chrome.title = heading.to_owned();
    render(
        code,
        &ErrorPage {
            chrome,
            heading,
            help,
            home: home.to_owned(),
        },
    )
}

/// Renders a template as an HTML response.
pub fn render(code: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (code, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

pub fn ok(page: &impl Template) -> Response {
    render(StatusCode::OK, page)
}
