//! JWT authentication and authorization for every P06 service.
//!
//! # Validation policy (RFC 8725, "JWT Best Current Practices")
//! - **Algorithms are pinned by configuration** (`P06_JWT_ALGORITHMS`, default `EdDSA,ES256`). A
//!   token's `alg` must be one of them **and** fit the key its `kid` selects (same family, and the
//!   key's own `alg` when a JWKS pins it), so an HS256 token "signed" with an EC/Ed/RSA public key
//!   is refused (key confusion, §2.1/§3.1). `alg: none` does not even parse.
//! - **HS256/384/512 only in development**: production mode refuses them, and HMAC key files, at
//!   startup ([`AuthConfig::check`]).
//! - **Claims**: `exp`, `iss`, `aud` and `sub` are required, `iss` and `aud` must equal the
//!   configured issuer and audience (`aud` may be a list containing it), `nbf` is checked when
//!   present; then the P06 claims `agency`, `province`, `edition`, `roles` (non-empty) and `iat`
//!   must be present and well-formed (§3.9/§3.10): within their limits ([`claims::limits`]), free
//!   of control characters, and every role allowed for the token's agency ([`Role::fits`]:
//!   task-force roles only for the task force, reporter/service only for the three agencies).
//! - **Leeway** on `exp`/`nbf`: `P06_JWT_LEEWAY_SECS`, default **30 s**, at most 300 s.
//! - **Header**: `typ`, when present, must be `JWT` (§3.11); a `crit` header is refused; tokens over
//!   8 KiB are refused before parsing. `jku`/`x5u`/`jwk` headers are ignored: keys come only from
//!   local files.
//! - **Keys** are parsed and checked when loaded ([`key_check`]): production refuses to start (or
//!   to reload) with a malformed key, a key whose private half is published (RFC examples) or a
//!   placeholder kid, naming the file and kid; `p06 keys generate` makes real ones ([`keygen`]).
//! - **Streams** end with `UNAUTHENTICATED` when the caller's token expires ([`until_expiry`]).
//! - **Keys** come from PEM files and JWKS files, several at once ([`keys`]), and are selected by
//!   `kid`. An unknown `kid` is refused. **A token without `kid` is accepted only when exactly one
//!   key is loaded** (a single-key deployment); with several keys it is refused.
//! - **Rotation**: key files are polled (`P06_JWT_RELOAD_SECS`, default 30 s) and reloaded on
//!   change; a failed reload keeps the previous keys ([`keys::KeyStore`]).
//! - **Before the body**: authentication runs in a tower layer ([`AuthLayer`]) on the request
//!   headers, before any handler or decoder sees the body. Refusals are logged with the token id
//!   (`jti`), never with the token.
//!
//! Every token problem is `UNAUTHENTICATED`; a valid token without the right is
//! `PERMISSION_DENIED` ([`AuthError`], mapped in one place).
//!
//! # Authorization
//! One table ([`table::TABLE`]) maps every RPC to who may call it (deny by default); handlers add
//! the data-level checks with [`Principal::may_report_for`] and [`Principal::may_read_province`]
//! (own agency, own province — named by edition and code).
//!
//! # Wiring a service
//! ```ignore
//! let auth = p06_auth::authenticator_for(p06_auth::AuthConfig::from_env()?, &data_dir)?;
//! Server::builder()
//!     .layer(p06_auth::AuthLayer::new(auth))
//!     .add_service(IngestServiceServer::new(ingest))
//!     .serve(addr).await?;
//! // handler: let caller = request.extensions().get::<p06_auth::Principal>();
//! // agency → aggregator: p06_auth::forward_authorization(request.metadata(), &mut outgoing);
//! ```
//!
//! # Development
//! [`DevKeys::load_or_create`] makes an Ed25519 key pair in the data directory (private key 0600)
//! and mints tokens with [`DevKeys::mint`]; [`authenticator_for`] in development mode without
//! `P06_JWT_KEYS` trusts that key.

pub mod claims;
pub mod config;
pub mod dev;
pub mod error;
pub mod expiry;
pub mod key_check;
pub mod keygen;
pub mod keys;
pub mod layer;
pub mod table;
pub mod validate;
mod verified;

pub use claims::{Agency, Claims, Principal, Role};
pub use config::{AuthConfig, Mode};
pub use dev::{DevKeys, Grant, authenticator_for, mint_with_key};
pub use error::AuthError;
pub use expiry::until_expiry;
pub use keys::KeyStore;
pub use layer::{AuthLayer, forward_authorization};
pub use table::{Access, access_for, authorize, authorize_path};
pub use validate::Authenticator;
