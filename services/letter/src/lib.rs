//! The task force's chase-up letter (công văn đôn đốc), for `p06 chase` and the web page:
//! [`gather`] reads the facts through the task-force gRPC API with the caller's credentials,
//! [`letter`] turns them into the letter's sentences (no gRPC, no file format), [`markdown`] and
//! [`docx`] render it.

pub mod docx;
pub mod gather;
pub mod letter;
pub mod markdown;

pub use gather::{Ask, Authorize, Failed, gather};
pub use letter::{Facts, Letter};
