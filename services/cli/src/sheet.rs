//! Workbooks and CSV files into the exchange: the agency's or the targets' table read by
//! `p06-workbook` (rows with their cells), the localities checked against the catalog over gRPC,
//! and every problem printed with its cell before anything is sent.

use std::path::Path;

use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{ListLocalitiesRequest, LocalityLevel};
use p06_workbook::{Grid, Problem, Workbook};

use crate::client::Connection;
use crate::error::{file as file_error, user};
use crate::lang::tr;
use crate::rpc;

pub use p06_submission::{
    IGNORED, info, info_date, info_text, key_column, resolve_codes, violations_at_cells,
};

/// The file, opened: its sheets, or one clear error naming it.
pub fn open(path: &Path) -> anyhow::Result<(Vec<u8>, Workbook)> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, &e))?;
    let book = p06_workbook::open(&bytes, &path.to_string_lossy()).map_err(|e| {
        user(tr(
            format!("{}: {}", path.display(), e.vi()),
            format!("{}: {e}", path.display()),
        ))
    })?;
    Ok((bytes, book))
}

/// The data sheet: `--sheet NAME`, or the first sheet.
pub fn data_sheet<'a>(
    path: &Path,
    book: &'a Workbook,
    name: Option<&str>,
) -> anyhow::Result<&'a Grid> {
    match name {
        Some(name) => book.sheet(name).ok_or_else(|| {
            let names = book.names().join(", ");
            user(tr(
                format!(
                    "{}: không có trang tính {name:?}; các trang: {names}",
                    path.display()
                ),
                format!(
                    "{}: no sheet {name:?}; the sheets are: {names}",
                    path.display()
                ),
            ))
        }),
        None => book
            .sheets
            .first()
            .ok_or_else(|| user(format!("{}: no sheets", path.display()))),
    }
}

/// The units a report of `province` at `level` may name (codes of the connection's edition).
pub async fn localities(
    connection: &Connection,
    province: &str,
    level: LocalityLevel,
) -> anyhow::Result<Vec<p06_proto::aggregation::Locality>> {
    let mut client = CatalogServiceClient::new(connection.channel(&connection.server).await?);
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_localities(connection.request(ListLocalitiesRequest {
                edition: connection.edition.clone(),
                parent_code: province.to_owned(),
                level: level as i32,
                page_size: 1_000,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(connection.refused(rpc::LIST_LOCALITIES, Some(province)))?
            .into_inner();
        all.extend(page.localities);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

/// One user error listing every problem, in order of the cells, and that nothing was sent.
pub fn problems_error(path: &Path, problems: Vec<Problem>) -> anyhow::Error {
    let problems = p06_submission::in_cell_order(problems);
    let n = problems.len();
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  {}", tr(p.vi(), p.en())))
        .collect();
    user(tr(
        format!(
            "{}: {n} lỗi, chưa gửi gì (sửa rồi nộp lại):\n{}",
            path.display(),
            lines.join("\n")
        ),
        format!(
            "{}: {n} problem{}, nothing was submitted (fix them and submit again):\n{}",
            path.display(),
            if n == 1 { "" } else { "s" },
            lines.join("\n")
        ),
    ))
}

/// A progress spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
