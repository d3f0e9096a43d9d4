//! Sign-in (a pasted token, or a one-time development link), sign-out, the language switch.
//!
//! A token is accepted only after the aggregator has accepted it (one cheap call): a forged or
//! expired token never becomes a session. Every form that changes state carries a CSRF token:
//! the session's synchronizer token once signed in, before that a double-submit cookie.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use p06_proto::aggregation::ListIndicatorsRequest;
use serde::Deserialize;
use tonic::Code;

use crate::claims::{Claims, ClaimsError};
use crate::ctx::{AppState, Chrome, lang_of, render};
use crate::format::Lang;
use crate::i18n;
use crate::security::{self, LANG_COOKIE, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::session::random_token;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    message: String,
    next: String,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

/// The home of a signed-in browser, the sign-in page otherwise.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = security::cookie(&headers, SESSION_COOKIE)
        .and_then(|id| state.sessions.get(id, chrono::Utc::now()));
    match session {
        Some(s) => Redirect::to(&s.claims.home()).into_response(),
        None => Redirect::to("/signin").into_response(),
    }
}

/// `GET /signin`.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: http::Uri,
    Query(q): Query<SignInQuery>,
) -> Response {
    let lang = lang_of(uri.query(), &headers);
    let next = security::local_path(q.next.as_deref().unwrap_or("/"));
    page(&state, &headers, lang, StatusCode::OK, "", &next, &uri)
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    code: StatusCode,
    message: &str,
    next: &str,
    uri: &http::Uri,
) -> Response {
    let existing = security::cookie(headers, PRE_SESSION_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_owned);
    let csrf = existing.clone().unwrap_or_else(random_token);
    let back = uri
        .path_and_query()
        .map_or_else(|| "/signin".to_owned(), |p| p.as_str().to_owned());
    let chrome = Chrome::anonymous(lang, i18n::texts(lang).sign_in, csrf.clone(), back);
    let mut response = render(
        code,
        &SignInPage {
            chrome,
            message: message.to_owned(),
            next: next.to_owned(),
        },
    );
    if existing.is_none() {
        let secure = state.secure_cookies.applies(headers);
        response.headers_mut().append(
            header::SET_COOKIE,
            security::set_cookie(PRE_SESSION_COOKIE, &csrf, 3_600 * 12, secure),
        );
    }
    response
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    token: String,
}

/// `POST /signin`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: http::Uri,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = lang_of(None, &headers);
    let t = i18n::texts(lang);
    let next = security::local_path(&form.next);
    if !security::csrf_ok(
        &headers,
        security::cookie(&headers, PRE_SESSION_COOKIE),
        &form.csrf,
    ) {
        return page(
            &state,
            &headers,
            lang,
            StatusCode::FORBIDDEN,
            t.csrf_refused,
            &next,
            &uri,
        );
    }
    match start_session(&state, &headers, form.token.trim(), &next).await {
        Ok(response) => response,
        Err((status, message)) => page(&state, &headers, lang, status, message(t), &next, &uri),
    }
}

type Refusal = fn(&'static i18n::Texts) -> &'static str;

/// Checks `token` (claims, then the aggregator) and starts a session landing on `next`. A refusal
/// carries its HTTP status: 401 when the token is the problem, 503 when the aggregator could not
/// answer (unreachable, overloaded, rate-limited), so that a busy server never reads as a bad token.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    next: &str,
) -> Result<Response, (StatusCode, Refusal)> {
    let now = chrono::Utc::now();
    let claims = Claims::for_session(token, now).map_err(|e| -> (StatusCode, Refusal) {
        let refusal: Refusal = match e {
            ClaimsError::Shape | ClaimsError::Unreadable => |t| t.signin_bad_token,
            ClaimsError::Expired => |t| t.signin_expired,
            ClaimsError::NotTaskForce => |t| t.signin_not_task_force,
        };
        (StatusCode::UNAUTHORIZED, refusal)
    })?;
    // The aggregator decides whether the token is genuine.
    let probe = state
        .api
        .catalog()
        .list_indicators(state.api.request(
            token,
            ListIndicatorsRequest {
                agency: String::new(),
                page_size: 1,
                page_token: String::new(),
            },
        ))
        .await;
    if let Err(status) = probe {
        return Err(match status.code() {
            Code::Unauthenticated | Code::PermissionDenied => {
                (StatusCode::UNAUTHORIZED, |t| t.signin_refused)
            }
            _ => {
                tracing::warn!(code = ?status.code(), message = status.message(), "sign-in: the aggregator did not answer");
                (StatusCode::SERVICE_UNAVAILABLE, |t| t.error_unavailable)
            }
        });
    }
    let max_age = (claims.expires() - now).num_seconds();
    let home = claims.home();
    let landing = if next == "/" { home } else { next.to_owned() };
    let subject = claims.sub.clone();
    let id = state.sessions.create(token.to_owned(), claims, now);
    tracing::info!(subject, "signed in");
    let secure = state.secure_cookies.applies(headers);
    let mut response = Redirect::to(&landing).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        security::set_cookie(SESSION_COOKIE, &id, max_age, secure),
    );
    Ok(response)
}

/// `GET /signin/once/{code}`: the development link `p06 up` prints.
pub async fn once(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: http::Uri,
    Path(code): Path<String>,
) -> Response {
    let lang = lang_of(None, &headers);
    let t = i18n::texts(lang);
    let Some((token, next)) = state.sessions.redeem(&code) else {
        let uri: http::Uri = "/signin".parse().expect("static URI");
        return page(
            &state,
            &headers,
            lang,
            StatusCode::UNAUTHORIZED,
            t.signin_link_used,
            "/",
            &uri,
        );
    };
    match start_session(&state, &headers, &token, &security::local_path(&next)).await {
        Ok(response) => response,
        Err((status, message)) => page(&state, &headers, lang, status, message(t), "/", &uri),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: ends the session here (the token is forgotten) and in the browser.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let now = chrono::Utc::now();
    let id = security::cookie(&headers, SESSION_COOKIE);
    let session = id.and_then(|id| state.sessions.get(id, now));
    let expected = session.as_ref().map(|s| s.csrf.as_str());
    if !security::csrf_ok(&headers, expected, &form.csrf) {
        let t = i18n::texts(lang_of(None, &headers));
        return (StatusCode::FORBIDDEN, t.csrf_refused).into_response();
    }
    if let Some(id) = id {
        state.sessions.remove(id);
    }
    let secure = state.secure_cookies.applies(&headers);
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        security::set_cookie(SESSION_COOKIE, "", 0, secure),
    );
    response
}

#[derive(Deserialize)]
pub struct LangForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /lang`: remembers the language in a cookie and returns to the page.
pub async fn switch_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> Response {
    let now = chrono::Utc::now();
    let session =
        security::cookie(&headers, SESSION_COOKIE).and_then(|id| state.sessions.get(id, now));
    let expected = match &session {
        Some(s) => Some(s.csrf.as_str()),
        None => security::cookie(&headers, PRE_SESSION_COOKIE),
    };
    if !security::csrf_ok(&headers, expected, &form.csrf) {
        let t = i18n::texts(lang_of(None, &headers));
        return (StatusCode::FORBIDDEN, t.csrf_refused).into_response();
    }
    let lang = Lang::parse(&form.lang).unwrap_or_default();
    let secure = state.secure_cookies.applies(&headers);
    let mut response =
        Redirect::to(&without_lang(&security::local_path(&form.back))).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        security::set_cookie(LANG_COOKIE, lang.code(), 365 * 86_400, secure),
    );
    response
}

/// `path?query` without its `lang` parameter (which would override the cookie just set).
fn without_lang(path: &str) -> String {
    let Some((p, q)) = path.split_once('?') else {
        return path.to_owned();
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        return p.to_owned();
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("{p}?{query}")
}

/// `GET /healthz`: the process answers (the aggregator's health is its own probe's business).
pub async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        "ok",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::without_lang;

    #[test]
    fn the_language_parameter_is_dropped_from_the_way_back() {
        assert_eq!(
            without_lang("/p/64?lang=en&as_of=2025-03-23"),
            "/p/64?as_of=2025-03-23"
        );
        assert_eq!(without_lang("/p/64?lang=en"), "/p/64");
        assert_eq!(without_lang("/p/64"), "/p/64");
    }
}
