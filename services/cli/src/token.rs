//! `p06 token`: mints a development token with the key `p06 up` generated in its data directory.

use std::path::{Path, PathBuf};

use p06_auth::{Agency, DevKeys, Grant, Role};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// police, health, justice or taskforce.
    #[arg(long)]
    agency: Agency,
    /// Province code the token is scoped to, e.g. 64.
    #[arg(long)]
    province: String,
    /// Locality edition of the province code: 2023, 2024 or 2025.
    #[arg(long, default_value = "2024")]
    edition: String,
    /// reporter, taskforce-viewer, taskforce-admin or service (repeatable).
    #[arg(long = "role", required = true)]
    roles: Vec<Role>,
    /// Lifetime, e.g. 30m, 8h, 2d.
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    ttl: chrono::Duration,
    /// Subject (who the token speaks for); defaults to "<agency>-<role>".
    #[arg(long)]
    subject: Option<String>,
    #[arg(long, env = "P06_DATA_DIR", default_value = ".p06")]
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
    let keys = dev_keys(&args.data_dir)?;
    let mut grant = Grant::new(args.agency, &args.edition, &args.province, args.roles[0]);
    grant.roles = args.roles;
    grant.ttl = args.ttl;
    if let Some(subject) = args.subject {
        grant.subject = subject;
    }
    println!("{}", keys.mint(&grant)?);
    Ok(())
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
