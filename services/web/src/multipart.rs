//! `multipart/form-data` (RFC 7578) as a browser posts a form with a file: the parts of a body
//! already read into memory within the upload limit.
//!
//! Written here rather than through axum's `multipart` feature: that feature would change axum's
//! features for the whole workspace (tonic builds on axum), rebuilding every gRPC crate whenever
//! the web page is built with or without the rest. The format a browser sends is small and fixed.

/// One part of the form: a field, or a file with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Set for a file input (possibly empty when no file was chosen).
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MultipartError {
    #[error("the form is not multipart/form-data with a boundary")]
    NoBoundary,
    #[error("the form's body is not well-formed multipart/form-data")]
    Malformed,
    #[error("the form has too many parts")]
    TooManyParts,
}

/// Parts a page's form has at most (its fields and one file).
const MAX_PARTS: usize = 16;

/// The boundary of a `Content-Type: multipart/form-data; boundary=…` header value.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params_of(params)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// `; name="a"; filename="b c.xlsx"` → pairs, values unquoted (a `;` inside quotes is kept).
fn params_of(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ';' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(c) = chars.peek().copied() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.trim().is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(c) = chars.peek().copied() {
                    if c == ';' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
                value = value.trim().to_owned();
            }
        }
        out.push((key.trim().to_owned(), value));
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() || needle.is_empty() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The parts of `body`, split at `boundary`.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0).ok_or(MultipartError::Malformed)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        // After a delimiter: `--` closes the body, a line break starts a part.
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(MultipartError::Malformed);
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or(MultipartError::Malformed)?;
        let head =
            std::str::from_utf8(&body[at..head_end]).map_err(|_| MultipartError::Malformed)?;
        let data_start = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let data_end = find(body, &closing, data_start).ok_or(MultipartError::Malformed)?;
        let mut name = None;
        let mut filename = None;
        for line in head.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            let (kind, params) = value.split_once(';').unwrap_or((value, ""));
            if !kind.trim().eq_ignore_ascii_case("form-data") {
                return Err(MultipartError::Malformed);
            }
            for (k, v) in params_of(params) {
                if k.eq_ignore_ascii_case("name") {
                    name = Some(v);
                } else if k.eq_ignore_ascii_case("filename") {
                    filename = Some(v);
                }
            }
        }
        let name = name.ok_or(MultipartError::Malformed)?;
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        parts.push(Part {
            name,
            filename,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + closing.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_form_with_a_file_splits_into_its_parts() {
        let content_type = "multipart/form-data; boundary=----WebKitFormBoundaryAbC123";
        let b = boundary(content_type).unwrap();
        assert_eq!(b, "----WebKitFormBoundaryAbC123");
        let body = "------WebKitFormBoundaryAbC123\r\n\
            Content-Disposition: form-data; name=\"csrf\"\r\n\r\n\
            tok\r\n\
            ------WebKitFormBoundaryAbC123\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"tuần; 11.xlsx\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\
            PK\x03\x04\r\n--not-the-end\r\n\
            ------WebKitFormBoundaryAbC123--\r\n";
        let parts = parse(body.as_bytes(), &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].text(), "tok");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[1].filename.as_deref(), Some("tuần; 11.xlsx"));
        assert_eq!(parts[1].data, b"PK\x03\x04\r\n--not-the-end");
    }

    #[test]
    fn what_is_not_multipart_is_refused() {
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(
            boundary("multipart/form-data; boundary=\"q\""),
            Some("q".into())
        );
        assert_eq!(parse(b"nothing", "x"), Err(MultipartError::Malformed));
        assert_eq!(
            parse(
                b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
                "x"
            ),
            Err(MultipartError::Malformed)
        );
        assert_eq!(parse(b"--x--\r\n", "x"), Ok(Vec::new()));
        let many: String = (0..20)
            .map(|i| format!("--x\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n"))
            .collect::<String>()
            + "--x--";
        assert_eq!(
            parse(many.as_bytes(), "x"),
            Err(MultipartError::TooManyParts)
        );
    }
}
