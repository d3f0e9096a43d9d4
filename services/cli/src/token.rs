//! `p06 token`: mints a development token with the key `p06 up` generated in its data directory.

use std::path::{Path, PathBuf};

use p06_auth::{Agency, DevKeys, Grant, Role};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 token --agency taskforce --province 52 --role taskforce-viewer\n  p06 token --agency police --province 52 --role reporter --ttl 30m\n  p06 token --agency taskforce --province 64 --edition 2024 --role taskforce-viewer\n  export P06_TOKEN=$(p06 token --agency taskforce --province 52 --role taskforce-admin)\n\nThe key is the one `p06 up` created in its data directory: run this from the same directory, or\npass the same --data-dir / P06_DATA_DIR."
)]
pub struct TokenArgs {
    /// Who the token speaks for: police, health, justice or taskforce.
    #[arg(long, value_name = "AGENCY")]
    agency: Agency,
    /// Province code the token is scoped to, e.g. 52 (VN: the whole country, task force only).
    #[arg(long, value_name = "CODE")]
    province: String,
    /// Locality edition of the province code: 2023, 2024 or 2025 (default: the edition in force
    /// today).
    #[arg(long, default_value_t = crate::client::edition_in_force_today(), value_name = "EDITION")]
    edition: String,
    /// reporter, taskforce-viewer, taskforce-admin or service (repeatable).
    #[arg(long = "role", required = true, value_name = "ROLE")]
    roles: Vec<Role>,
    /// Lifetime, e.g. 30m, 8h, 2d.
    #[arg(long, default_value = "8h", value_parser = parse_ttl, value_name = "DURATION")]
    ttl: chrono::Duration,
    /// Subject (who the token speaks for); defaults to "<agency>-<role>".
    #[arg(long, value_name = "NAME")]
    subject: Option<String>,
    /// The data directory of `p06 up`, which holds the signing key, e.g. .p06.
    #[arg(long, env = "P06_DATA_DIR", default_value = ".p06", value_name = "DIR")]
    data_dir: PathBuf,
}

fn parse_ttl(text: &str) -> Result<chrono::Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}: use e.g. 30m, 8h, 2d"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" | "" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("bad duration unit in {text:?}: s, m, h or d")),
    }
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let keys = existing_dev_keys(&args.data_dir)?;
    let mut grant = Grant::new(args.agency, &args.edition, &args.province, args.roles[0]);
    grant.roles = args.roles;
    grant.ttl = args.ttl;
    if let Some(subject) = args.subject {
        grant.subject = subject;
    }
    // What the grant cannot be (a role the agency may not hold, a lifetime ≤ 0) is the user's.
    let token = keys
        .mint(&grant)
        .map_err(|e| crate::error::user(e.to_string()))?;
    crate::out!("{token}");
    Ok(())
}

/// The development keys `p06 up` created in `data_dir`; never creates one (a key made here would
/// sign tokens that no running service trusts).
pub fn existing_dev_keys(data_dir: &Path) -> anyhow::Result<DevKeys> {
    let private = data_dir.join(p06_auth::dev::PRIVATE_FILE);
    if !private.exists() {
        let shown = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let prog = crate::client::program();
        return Err(crate::error::user(crate::lang::tr(
            format!(
                "không có khóa ký token trong thư mục dữ liệu {} (--data-dir / P06_DATA_DIR): chỉ `{prog} up` tạo khóa. Chạy lệnh này trong thư mục nơi chạy `{prog} up`, hoặc truyền --data-dir <thư mục dữ liệu của nó>",
                shown.display()
            ),
            format!(
                "no signing key in the data directory {} (--data-dir / P06_DATA_DIR): only `{prog} up` creates it. Run this from the directory `{prog} up` runs in, or pass --data-dir <its data directory>",
                shown.display()
            ),
        )));
    }
    dev_keys(data_dir)
}

/// The development keys of a data directory, created on first use.
pub fn dev_keys(data_dir: &Path) -> anyhow::Result<DevKeys> {
    Ok(DevKeys::load_or_create(data_dir)?)
}

/// A development token for one agency, province and role.
pub fn token(
    keys: &DevKeys,
    agency: Agency,
    edition: &str,
    province: &str,
    role: Role,
) -> anyhow::Result<String> {
    Ok(keys.mint(&Grant::new(agency, edition, province, role))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_parse_with_units() {
        assert_eq!(parse_ttl("30m").unwrap(), chrono::Duration::minutes(30));
        assert_eq!(parse_ttl("8h").unwrap(), chrono::Duration::hours(8));
        assert!(parse_ttl("8y").is_err());
    }
}
