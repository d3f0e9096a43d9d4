//! AIP-158 pagination: page sizes and opaque page tokens.

use crate::error::Error;

pub const DEFAULT_PAGE_SIZE: i32 = 200;
pub const MAX_PAGE_SIZE: i32 = 1_000;

/// The effective page size: 0 means the default, larger than the maximum is clamped (AIP-158).
pub fn page_size(requested: i32) -> Result<u64, Error> {
    match requested {
        n if n < 0 => Err(Error::invalid_field("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE as u64),
        n => Ok(n.min(MAX_PAGE_SIZE) as u64),
    }
}

/// Page tokens are an offset into the stable order of the listing, prefixed so that a token of one
/// listing is not mistaken for another's. Clients must treat them as opaque.
pub fn decode_token(listing: &str, token: &str) -> Result<u64, Error> {
    if token.is_empty() {
        return Ok(0);
    }
    token
        .strip_prefix(listing)
        .and_then(|rest| rest.strip_prefix('.'))
        // Offsets fit 32 bits: a forged token cannot overflow the arithmetic or the SQL OFFSET.
        .and_then(|n| n.parse::<u32>().ok())
        .map(u64::from)
        .ok_or_else(|| Error::invalid_field("page_token", "not a page token of this listing"))
}

/// Keyset page tokens: the listing's name and the sort key of the last row returned (listings
/// ordered by a unique id). A page read by key costs the same wherever it is in the listing.
pub fn decode_key_token(listing: &str, token: &str) -> Result<Option<i64>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    token
        .strip_prefix(listing)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|n| n.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| Error::invalid_field("page_token", "not a page token of this listing"))
}

/// The keyset token of the page after the row keyed `last`.
pub fn key_token(listing: &str, last: i64) -> String {
    format!("{listing}:{last}")
}

/// The token of the page after `offset + returned` rows, or empty when the listing is exhausted.
pub fn next_token(
    listing: &str,
    offset: u64,
    returned: usize,
    page_size: u64,
    more: bool,
) -> String {
    if more && returned as u64 == page_size {
        format!("{listing}.{}", offset + page_size)
    } else {
        String::new()
    }
}

/// Pages an in-memory, already ordered listing.
pub fn page<T: Clone>(
    listing: &str,
    items: &[T],
    requested_size: i32,
    token: &str,
) -> Result<(Vec<T>, String), Error> {
    let size = page_size(requested_size)?;
    let offset = decode_token(listing, token)?;
    let start = (offset as usize).min(items.len());
    let end = (start + size as usize).min(items.len());
    let next = next_token(listing, offset, end - start, size, end < items.len());
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_whole_listing_once() {
        let items: Vec<i32> = (0..5).collect();
        let (first, token) = page("l", &items, 2, "").unwrap();
        assert_eq!(first, [0, 1]);
        let (second, token) = page("l", &items, 2, &token).unwrap();
        assert_eq!(second, [2, 3]);
        let (third, token) = page("l", &items, 2, &token).unwrap();
        assert_eq!((third, token.as_str()), (vec![4], ""));
        assert!(page("other", &items, 2, "l.2").is_err());
        assert!(page("l", &items, -1, "").is_err());
        assert!(page("l", &items, 2, "l.18446744073709551615").is_err());
    }

    #[test]
    fn key_tokens_carry_the_last_key_of_their_listing() {
        assert_eq!(decode_key_token("flags", "").unwrap(), None);
        let token = key_token("flags", 42);
        assert_eq!(decode_key_token("flags", &token).unwrap(), Some(42));
        assert!(decode_key_token("flag_archive", &token).is_err());
        assert!(decode_key_token("flags", "flags:x").is_err());
        assert!(decode_key_token("flags", "flags.42").is_err());
    }
}
