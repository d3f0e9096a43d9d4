//! JWT authentication and authorization for every P06 service.
//!
//! Validation policy (RFC 8725):
//! - algorithms are pinned by configuration (`P06_JWT_ALGORITHMS`); a token's `alg` must be one of
//!   them **and** belong to the family of the key its `kid` selects, so an HS256 token "signed" with
//!   an EC/Ed/RSA public key is refused (key confusion). HS256 is refused outright in production mode;
//! - `iss`, `aud`, `sub` and `exp` are required and checked, `nbf` is checked when present, with a
//!   leeway of `P06_JWT_LEEWAY_SECS` (default 30 s); `typ`, when present, must be `JWT`;
//! - keys come from PEM files and JWKS files (several at once), are selected by `kid`, and are
//!   reloaded when the files change (key rotation without restart). A token without `kid` is
//!   accepted only when exactly one key is loaded;
//! - authentication happens in a tower layer before any request body is read; failures are logged
//!   with the token id (`jti`), never the token.
//!
//! Then one table ([`table`]) maps every RPC to who may call it; handlers add the data-level checks
//! (own agency, own province).

pub mod claims;
pub mod config;
pub mod dev;
pub mod error;
pub mod keys;
pub mod layer;
pub mod table;
pub mod validate;

pub use claims::{Agency, Claims, Principal, Role};
pub use config::{AuthConfig, Mode};
pub use dev::{DevKeys, Grant, authenticator_for, mint_with_key};
pub use error::AuthError;
pub use layer::AuthLayer;
pub use validate::Authenticator;
