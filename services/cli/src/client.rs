//! Connecting to the services, and turning gRPC errors into plain words that say what to do next.

use base64::Engine as _;
use p06_auth::table::{Access, access_for, authorize};
use p06_auth::{Agency, Claims, Principal, Role};
use p06_kit::status::field_violations;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::error::user;
use crate::lang::tr;

/// Where the command-line talks to, and as whom.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The aggregator's URL, e.g. http://127.0.0.1:50051.
    #[arg(
        long,
        env = "P06_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true,
        value_name = "URL"
    )]
    pub server: String,
    /// Bearer token (see `p06 token`).
    #[arg(
        long,
        env = "P06_TOKEN",
        global = true,
        hide_env_values = true,
        value_name = "JWT"
    )]
    pub token: Option<String>,
    /// Locality edition of the codes given: 2023, 2024 or 2025 (default: the edition in force
    /// today).
    #[arg(long, default_value_t = edition_in_force_today(), global = true, value_name = "EDITION")]
    pub edition: String,
}

/// The edition of the administrative units in force today in Vietnam: the default edition of every
/// command, token and the demo (`p06_domain::edition`).
pub fn edition_in_force_today() -> String {
    let today = p06_domain::schedule::local_date(
        chrono::Utc::now(),
        p06_domain::schedule::DEFAULT_TIME_ZONE,
    );
    p06_domain::edition::edition_in_force(today).to_string()
}

impl Connection {
    pub async fn channel(&self, url: &str) -> anyhow::Result<Channel> {
        if url.starts_with("https://") {
            // TLS with the CA from P06_TLS_CA / P06_TLS_DIR (p06_kit::tls).
            let endpoint = p06_kit::tls::endpoint(url).map_err(|e| user(e.to_string()))?;
            return endpoint.connect().await.map_err(|e| {
                let reason = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
                user(format!("{url}: {reason}"))
            });
        }
        let endpoint = Channel::from_shared(url.to_owned()).map_err(|_| {
            user(tr(
                format!("địa chỉ máy chủ {url:?} không hợp lệ; ví dụ: http://127.0.0.1:50051"),
                format!("server address {url:?} is not a URL; e.g. http://127.0.0.1:50051"),
            ))
        })?;
        endpoint.connect().await.map_err(|e| {
            let reason = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
            user(tr(
                format!(
                    "không kết nối được {url} ({reason}); hãy chạy `{} up`, hoặc chỉ máy chủ khác bằng --server / P06_SERVER",
                    program()
                ),
                format!(
                    "cannot reach {url} ({reason}); start `{} up`, or name another server with --server / P06_SERVER",
                    program()
                ),
            ))
        })
    }

    pub fn request<T>(&self, message: T) -> anyhow::Result<Request<T>> {
        let token = self.token.as_deref().ok_or_else(|| {
            user(tr(
                format!(
                    "chưa có token: truyền --token hoặc đặt P06_TOKEN; tạo bằng: {} token --agency taskforce --province <mã tỉnh> --role taskforce-viewer",
                    program()
                ),
                format!(
                    "no token: pass --token or set P06_TOKEN; mint one with: {} token --agency taskforce --province <province code> --role taskforce-viewer",
                    program()
                ),
            ))
        })?;
        let mut request = Request::new(message);
        let value = format!("Bearer {}", token.trim()).parse().map_err(|_| {
            user(tr(
                "token chứa ký tự không hợp lệ (xuống dòng?); sao chép lại đầu ra của `p06 token`",
                "the token contains characters a header cannot carry (a line break?); copy the output of `p06 token` again",
            ))
        })?;
        request.metadata_mut().insert("authorization", value);
        Ok(request)
    }

    /// Turns a refusal of the RPC `path` into words; `province` is the province code the command
    /// was about (for the `p06 token` command line it suggests).
    pub fn refused<'a>(
        &'a self,
        path: &'static str,
        province: Option<&'a str>,
    ) -> impl FnOnce(Status) -> anyhow::Error + 'a {
        move |status| explain(status, path, self, province)
    }

    /// The claims of the token in use, read without checking its signature (only for hints).
    pub fn claims(&self) -> Option<Claims> {
        let token = self.token.as_deref()?.trim();
        let payload = token.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The binary as the user invoked it, for command lines in hints: `cargo run -p p06 --` under
/// `cargo run`, else the program path as typed (`p06`, `./target/debug/p06`).
pub fn program() -> String {
    if std::env::var_os("CARGO").is_some()
        && std::env::var("CARGO_PKG_NAME").as_deref() == Ok("p06")
        && std::env::var_os("CARGO_MANIFEST_DIR").is_some()
    {
        return "cargo run -p p06 --".into();
    }
    std::env::args()
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "p06".into())
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(tr(" hoặc ", " or "))
}

/// What a PERMISSION_DENIED means for this RPC and this token, with the `p06 token` to use.
fn permission_hint(path: &str, conn: &Connection, province: Option<&str>) -> String {
    let claims = conn.claims();
    let province = province
        .map(str::to_owned)
        .or_else(|| claims.as_ref().map(|c| c.province.clone()))
        .unwrap_or_else(|| tr("<mã tỉnh>", "<province code>").to_owned());
    let edition = &conn.edition;
    let prog = program();
    let principal = claims.clone().map(Principal::from);
    let current = claims.as_ref().map_or_else(String::new, |c| {
        let roles: Vec<&str> = c.roles.iter().map(|r| r.as_str()).collect();
        tr(
            format!(
                " Token đang dùng: cơ quan {}, vai trò {}, tỉnh {}/{}.",
                c.agency,
                roles.join(", "),
                c.edition,
                c.province
            ),
            format!(
                " The token in use: agency {}, role {}, province {}/{}.",
                c.agency,
                roles.join(", "),
                c.edition,
                c.province
            ),
        )
    });
    let Some(access) = access_for(path) else {
        return current;
    };
    if let Some(p) = &principal
        && authorize(p, access).is_ok()
    {
        // The role fits: the refusal is about the data (another province or agency).
        return tr(
            format!(
                "token có đúng vai trò nhưng không được phép với dữ liệu này (một token chỉ đọc và ghi tỉnh của nó, và chỉ nộp chỉ tiêu của cơ quan mình).{current} Tạo token cho tỉnh {edition}/{province}: {prog} token --agency {} --province {province} --edition {edition} --role {}",
                p.agency, p.roles[0]
            ),
            format!(
                "the token has the right role but may not touch this data (a token reads and writes its own province only, and reports its own agency's indicators only).{current} Mint one for province {edition}/{province}: {prog} token --agency {} --province {province} --edition {edition} --role {}",
                p.agency, p.roles[0]
            ),
        );
    }
    match access {
        Access::Roles(roles) => {
            let agency = if roles
                .iter()
                .all(|r| matches!(r, Role::TaskforceViewer | Role::TaskforceAdmin))
            {
                "taskforce".to_owned()
            } else {
                claims
                    .as_ref()
                    .map_or("taskforce".to_owned(), |c| c.agency.to_string())
            };
            tr(
                format!(
                    "cần token vai trò {}.{current} Tạo bằng: {prog} token --agency {agency} --province {province} --edition {edition} --role {}",
                    roles_text(roles),
                    roles[0]
                ),
                format!(
                    "this needs a token with role {}.{current} Mint one with: {prog} token --agency {agency} --province {province} --edition {edition} --role {}",
                    roles_text(roles),
                    roles[0]
                ),
            )
        }
        Access::Reporting(agencies) => {
            let agency = claims
                .as_ref()
                .map(|c| c.agency)
                .filter(|a| agencies.contains(a))
                .unwrap_or(agencies[0]);
            let names: Vec<&str> = agencies.iter().map(|a| Agency::as_str(*a)).collect();
            tr(
                format!(
                    "cần token vai trò reporter của cơ quan {}.{current} Tạo bằng: {prog} token --agency {agency} --province {province} --edition {edition} --role reporter",
                    names.join(tr(" hoặc ", " or "))
                ),
                format!(
                    "this needs a reporter token of agency {}.{current} Mint one with: {prog} token --agency {agency} --province {province} --edition {edition} --role reporter",
                    names.join(" or ")
                ),
            )
        }
        Access::Public | Access::Authenticated => current,
    }
}

/// What an UNAUTHENTICATED means, and where the key that signs tokens lives.
fn token_hint(status: &Status, conn: &Connection) -> String {
    let message = status
        .message()
        .trim_start_matches("invalid credentials: ")
        .to_owned();
    let said = match message.as_str() {
        "invalid signature" => tr("chữ ký không hợp lệ", "invalid signature"),
        "unknown signing key" => tr("khóa ký không xác định", "unknown signing key"),
        "token expired" => tr("token đã hết hạn", "token expired"),
        "missing bearer token" => tr("thiếu token", "missing bearer token"),
        _ => message.as_str(),
    };
    let prog = program();
    if message.contains("invalid signature") || message.contains("unknown signing key") {
        return tr(
            format!(
                "máy chủ {} không nhận token: {said}. Token được ký bằng một khóa khác với khóa máy chủ tin cậy — `{prog} token` ký bằng khóa trong thư mục dữ liệu của `{prog} up` (--data-dir / P06_DATA_DIR, mặc định .p06 trong thư mục nơi chạy `{prog} up`). Tạo lại token với cùng --data-dir mà `{prog} up` đang dùng.",
                conn.server
            ),
            format!(
                "the server {} does not accept the token: {said}. It was signed with a key the server does not trust — `{prog} token` signs with the key in the data directory of `{prog} up` (--data-dir / P06_DATA_DIR, default .p06 in the directory `{prog} up` runs in). Mint it again with the --data-dir of the running `{prog} up`.",
                conn.server
            ),
        );
    }
    if message.contains("expired") {
        return tr(
            format!(
                "token đã hết hạn; tạo token mới bằng `{prog} token …` (--ttl chọn thời hạn, ví dụ 8h)"
            ),
            format!(
                "the token has expired; mint a new one with `{prog} token …` (--ttl sets its lifetime, e.g. 8h)"
            ),
        );
    }
    tr(
        format!(
            "máy chủ {} không nhận token: {message}. Tạo token bằng `{prog} token --help`",
            conn.server
        ),
        format!(
            "the server {} does not accept the token: {message}. See `{prog} token --help`",
            conn.server
        ),
    )
}

/// A server refusal in plain words: the server's message once, each field violation on its own
/// line, and for permission and token problems what to do next.
pub fn explain(
    status: Status,
    path: &str,
    conn: &Connection,
    province: Option<&str>,
) -> anyhow::Error {
    let violations = field_violations(&status);
    let method = path.rsplit('/').next().unwrap_or(path);
    let text = match status.code() {
        Code::PermissionDenied => {
            format!(
                "{}: {}",
                tr("không được phép gọi", "not permitted to call"),
                method
            ) + " — "
                + &permission_hint(path, conn, province)
        }
        Code::Unauthenticated => token_hint(&status, conn),
        Code::Unavailable => tr(
            format!(
                "máy chủ {} không sẵn sàng ({}); thử lại, hoặc kiểm tra `{} up`",
                conn.server,
                status.message(),
                program()
            ),
            format!(
                "the server {} is unavailable ({}); retry, or check `{} up`",
                conn.server,
                status.message(),
                program()
            ),
        ),
        code => {
            let mut text = match violations.as_slice() {
                // The message of a single violation is that violation: say it once.
                [(field, description)]
                    if status.message().contains(description.as_str())
                        || status.message().is_empty() =>
                {
                    format!("{field}: {description}")
                }
                _ => status.message().to_owned(),
            };
            let said_once = violations.len() == 1 && text.contains(&violations[0].1);
            if !said_once {
                for (field, description) in &violations {
                    text.push_str(&format!("\n  - {field}: {description}"));
                }
            }
            let prefix = match code {
                Code::InvalidArgument => {
                    tr("máy chủ từ chối yêu cầu", "the server refused the request")
                }
                Code::NotFound => tr("không tìm thấy", "not found"),
                Code::FailedPrecondition => tr("không thực hiện được", "cannot be done"),
                Code::AlreadyExists => tr("đã tồn tại", "already exists"),
                _ => tr("lỗi máy chủ", "server error"),
            };
            if matches!(code, Code::Internal | Code::Unknown | Code::DataLoss) {
                return anyhow::anyhow!("{prefix} ({method}): {text}");
            }
            format!("{prefix} ({method}): {text}")
        }
    };
    user(text)
}

#[cfg(test)]
mod tests {
    /// Every RPC the command line calls is in the auth table, so its refusals can name the role.
    #[test]
    fn every_called_rpc_is_in_the_auth_table() {
        for path in crate::rpc::ALL {
            assert!(p06_auth::table::access_for(path).is_some(), "{path}");
        }
    }
}
