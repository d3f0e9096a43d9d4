//! User errors: something the person at the keyboard can fix. `main` prints them as one line
//! (`Lỗi: …` / `Error: …`, never a backtrace) and exits 2; anything else is unexpected and exits 1.

use std::fmt;
use std::path::Path;

use crate::lang::tr;

/// A refusal the user can act on: what went wrong with which subject, and what to do next.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// A [`UserError`] as an `anyhow::Error`.
pub fn user(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// `Err(user(…))` with the text in the output language.
#[macro_export]
macro_rules! bail_user {
    (vi: $($vi:expr),+ ; en: $($en:expr),+ $(;)?) => {
        return Err($crate::error::user($crate::lang::tr(format!($($vi),+), format!($($en),+))))
    };
}

/// An I/O error about a file the user named: the path, and the problem in the output language.
pub fn file(path: &Path, e: &std::io::Error) -> anyhow::Error {
    let shown = path.display();
    let problem = match e.kind() {
        std::io::ErrorKind::NotFound => tr("không tồn tại", "does not exist").to_owned(),
        std::io::ErrorKind::PermissionDenied => {
            tr("không có quyền đọc", "is not readable (permission denied)").to_owned()
        }
        std::io::ErrorKind::IsADirectory => tr(
            "là một thư mục, không phải tệp",
            "is a directory, not a file",
        )
        .to_owned(),
        _ => e.to_string(),
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    user(tr(
        format!(
            "tệp {shown} {problem} (đường dẫn đầy đủ: {})",
            absolute.display()
        ),
        format!("file {shown} {problem} (full path: {})", absolute.display()),
    ))
}

/// How the error ends the process.
pub enum Outcome {
    /// stdout was closed by the reader (`p06 flags | head`): nothing to say.
    Quiet,
    User(String),
    Unexpected(String),
}

pub fn classify(e: &anyhow::Error) -> Outcome {
    for cause in e.chain() {
        let kind = if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            Some(io.kind())
        } else if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            json.io_error_kind()
        } else if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            match csv.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            }
        } else {
            None
        };
        if kind == Some(std::io::ErrorKind::BrokenPipe) {
            return Outcome::Quiet;
        }
    }
    if e.chain().any(|c| c.downcast_ref::<UserError>().is_some()) {
        return Outcome::User(format!("{e:#}"));
    }
    Outcome::Unexpected(format!("{e:#}"))
}

/// Prints the error the way its kind calls for and returns the exit code (0, 2 or 1).
pub fn report(e: &anyhow::Error) -> i32 {
    let label = tr("Lỗi", "Error");
    match classify(e) {
        Outcome::Quiet => 0,
        Outcome::User(text) => {
            eprintln!("{label}: {text}");
            2
        }
        Outcome::Unexpected(text) => {
            eprintln!("{label}: {text}");
            1
        }
    }
}
