//! What may be put into a URL built for a forge: full commit SHAs and git ref
//! names, checked by the forges' own rules, so a payload cannot steer a built
//! URL (`..` segments, queries, another path) however it spells its fields.

/// Whether `s` is a full commit SHA (SHA-1 or SHA-256), i.e. something a
/// status API accepts.
pub fn is_commit_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` is all zeros: the SHA forges send for "no commit" (a created
/// ref's `before`, a deleted ref's `after`).
pub fn is_null_sha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// Whether `name` is a short ref name git accepts (`git check-ref-format`'s
/// rules that matter in a URL): no component empty or starting with `.`, no
/// `..`, `@{`, control characters, space or any of `~^:?*[\`, not ending in
/// `.lock`, `.` or `/`. A tag that passes cannot leave the archive path.
pub fn is_git_ref_name(name: &str) -> bool {
    let bad_char = |c: char| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\');
    !name.is_empty()
        && name.len() <= 255
        && !name.contains("..")
        && !name.contains("@{")
        && name != "@"
        && !name.ends_with(".lock")
        && !name.ends_with('.')
        && !name.chars().any(bad_char)
        && name.split('/').all(|c| !c.is_empty() && !c.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shas() {
        assert!(is_commit_sha("ed87f2c2fc87d289a848d0de8af4aab8317ea3b5"));
        assert!(!is_commit_sha("ed87f2c"));
        assert!(!is_commit_sha("zd87f2c2fc87d289a848d0de8af4aab8317ea3b5"));
        assert!(is_null_sha("0000000000000000000000000000000000000000"));
        assert!(!is_null_sha(""));
    }

    #[test]
    fn ref_names() {
        for good in ["v1.0", "release/v1", "v1_beta-2", "ünicode"] {
            assert!(is_git_ref_name(good), "{good}");
        }
        for bad in [
            "", "../x", "a/../b", "a/.b", ".hidden", "a..b", "x?y=1", "a b", "a\\b", "x.lock", "a/", "/a",
            "a//b", "x@{1}",
        ] {
            assert!(!is_git_ref_name(bad), "{bad}");
        }
    }
}
