//! `p06 keys generate`: a production signing key pair and the JWKS the services trust.
//!
//! The private key goes to the identity provider that signs P06 tokens (never to a P06 service,
//! never into the repository); the JWKS becomes the `p06-jwt-keys` secret the services mount.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use p06_auth::keygen;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Generate an Ed25519 key pair and a JWKS; print the kubectl command that creates the secret.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory to write `<kid>.key.pem` (private, mode 0600), `<kid>.pub.pem` and `jwks.json`;
    /// created if missing. Keep it outside the repository.
    #[arg(long)]
    out: PathBuf,
    /// Key id the identity provider puts in the tokens' `kid` header; default `p06-<date>-<random>`.
    #[arg(long)]
    kid: Option<String>,
    /// Rotation: the JWKS in force; the new key is added to its keys in `<out>/jwks.json`.
    #[arg(long, value_name = "JWKS")]
    add_to: Option<PathBuf>,
    /// Kubernetes namespace of the printed command.
    #[arg(long, default_value = "p06")]
    namespace: String,
}

pub fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate(args) => generate(args),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let kid = args.kid.unwrap_or_else(keygen::default_kid);
    let key = keygen::generate_ed25519(&kid)?;
    let existing = match &args.add_to {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("read the JWKS {}", path.display()))?)
        }
        None => None,
    };
    let jwks = keygen::jwks_with(existing.as_deref(), &key.jwk)?;

    std::fs::create_dir_all(&args.out).with_context(|| format!("create {}", args.out.display()))?;
    let private_path = args.out.join(format!("{kid}.key.pem"));
    let public_path = args.out.join(format!("{kid}.pub.pem"));
    let jwks_path = args.out.join("jwks.json");
    let replaces_input = args
        .add_to
        .as_deref()
        .is_some_and(|p| same_file(p, &jwks_path));
    if jwks_path.exists() && !replaces_input {
        bail!(
            "{} exists: pass --add-to {} to add the new key to it, or choose another --out",
            jwks_path.display(),
            jwks_path.display()
        );
    }
    for path in [&private_path, &public_path] {
        if path.exists() {
            bail!("{} exists: choose another --kid or --out", path.display());
        }
    }
    keygen::write_private_key(&private_path, &key.private_pem)
        .with_context(|| format!("write {}", private_path.display()))?;
    std::fs::write(&public_path, &key.public_pem)
        .with_context(|| format!("write {}", public_path.display()))?;
    // Write then rename, so a service reading the file never sees half of it.
    let tmp = args.out.join(".jwks.json.tmp");
    std::fs::write(&tmp, &jwks).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, &jwks_path).with_context(|| format!("write {}", jwks_path.display()))?;

    let ns = &args.namespace;
    let jwks_arg = jwks_path.display();
    println!("kid:         {kid}");
    println!(
        "private key: {}  (for the identity provider that signs P06 tokens only; never give it to a P06 service or commit it)",
        private_path.display()
    );
    println!("public key:  {}", public_path.display());
    println!("JWKS:        {jwks_arg}  (what the services trust)");
    println!();
    println!("Create the secret the services mount (first installation):");
    println!(
        "  kubectl create secret generic p06-jwt-keys --from-file=jwks.json={jwks_arg} -n {ns}"
    );
    println!("Replace it (rotation; the services reload it within P06_JWT_RELOAD_SECS):");
    println!(
        "  kubectl create secret generic p06-jwt-keys --from-file=jwks.json={jwks_arg} -n {ns} --dry-run=client -o yaml | kubectl apply -f -"
    );
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
