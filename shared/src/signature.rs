//! HMAC-SHA256 signatures: how forges sign webhooks and how the job manager
//! signs its callbacks, checked in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the job manager's signature on callbacks (`sha256=<hex>`).
pub const CALLBACK_SIGNATURE_HEADER: &str = "x-tx-signature";

/// Lower-case hex HMAC-SHA256 of `body` under `secret`.
pub fn sign_hex(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature_hex` (optionally prefixed `sha256=`) is the HMAC of
/// `body` under `secret`. Malformed hex is simply a mismatch.
pub fn verify_hex(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let hex_part = signature_hex.trim();
    let hex_part = hex_part.strip_prefix("sha256=").unwrap_or(hex_part);
    let Ok(expected) = hex::decode(hex_part) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Constant-time equality of two byte strings (GitLab sends its secret as a
/// plain token).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            sign_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_accepts_prefix_and_rejects_tampering() {
        let sig = sign_hex(b"s3cret", b"{}");
        assert!(verify_hex(b"s3cret", b"{}", &sig));
        assert!(verify_hex(b"s3cret", b"{}", &format!("sha256={sig}")));
        assert!(!verify_hex(b"s3cret", b"{ }", &sig));
        assert!(!verify_hex(b"other", b"{}", &sig));
        assert!(!verify_hex(b"s3cret", b"{}", "zz"));
        assert!(!verify_hex(b"s3cret", b"{}", ""));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
