//! What forges send for "no commit". Commit ids and ref names themselves
//! are read by [`tx_shared::identity`], the one home of those rules.

/// Whether `s` is all zeros: the SHA forges send for "no commit" (a created
/// ref's `before`, a deleted ref's `after`).
pub fn is_null_sha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_shas() {
        assert!(is_null_sha("0000000000000000000000000000000000000000"));
        assert!(!is_null_sha(""));
        assert!(!is_null_sha("ed87f2c2fc87d289a848d0de8af4aab8317ea3b5"));
    }
}
