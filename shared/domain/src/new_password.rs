//! What a new password must be (password change, admin reset): 8 to 128 characters after
//! NFKC normalisation (NIST SP 800-63B §5.1.1.2 counts characters, not bytes, and asks for
//! normalisation first), not the username in any case or spacing, and not guessable by
//! zxcvbn's estimate (score 3 or more: "safely unguessable", about 10^10 guesses).
//!
//! The password is stored hashed as typed, as login compares it; normalisation only decides
//! whether it is long enough.

use unicode_normalization::UnicodeNormalization;

use crate::error::{AuthError, ErrorCode};
use crate::password::{Password, MAX_PASSWORD_BYTES};
use crate::username::Username;

/// Fewest characters a new password may have.
pub const MIN_CHARS: usize = 8;
/// Most characters a new password may have (bounds the hash work per request too).
pub const MAX_CHARS: usize = 128;

/// Accepts `candidate` as `username`'s new password, or answers `weak_password`.
pub fn check(username: &Username, candidate: &str) -> Result<Password, AuthError> {
    let normalised: String = candidate.nfkc().collect();
    // Login refuses more bytes than this as typed: a longer password would lock its owner out.
    if candidate.len() > MAX_PASSWORD_BYTES
        || !(MIN_CHARS..=MAX_CHARS).contains(&normalised.chars().count())
    {
        return Err(ErrorCode::WeakPassword.into());
    }
    let folded: String = normalised
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if folded == username.as_str() {
        return Err(ErrorCode::WeakPassword.into());
    }
    // The username counts as known to the attacker: `alice2024!` is weak for alice.
    let estimate = zxcvbn::zxcvbn(&normalised, &[username.as_str()]);
    if (estimate.score() as u8) < 3 {
        return Err(ErrorCode::WeakPassword.into());
    }
    Ok(Password::new(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Username {
        Username::parse("alice").unwrap()
    }

    fn weak(candidate: &str) -> bool {
        matches!(check(&alice(), candidate), Err(e) if e.code == ErrorCode::WeakPassword)
    }

    #[test]
    fn guessable_short_long_and_username_passwords_are_weak() {
        for candidate in [
            "password123",
            "Password1!",
            "qwertyuiop",
            "alice2024!",
            "ALICE",
            " A l i c e ",
            "short1!",
            "aB3$",
            &"Zx9#kq".repeat(22),
        ] {
            assert!(weak(candidate), "{candidate:?} accepted");
        }
    }

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        for candidate in [
            "correct horse battery staple",
            "Tq7#vLw2!pXz",
            "fjord-quartz-mellow-49",
        ] {
            assert!(check(&alice(), candidate).is_ok(), "{candidate:?} refused");
        }
    }

    #[test]
    fn length_is_counted_in_characters_after_normalisation() {
        // Seven characters of up to four bytes each (24 bytes) are too short; the ligature
        // `ﬃ` is three characters after NFKC, which makes the second long enough.
        assert!(weak("Kq🦀7#ü🐙"));
        assert!(!weak("Kq🦀7#ü🐙ﬃ"));
        // 128 characters after NFKC, but 1152 bytes as typed (decomposed Hangul): login would
        // refuse them, so they are refused here.
        let jamo = "\u{1100}\u{1161}\u{11a8}".repeat(128);
        assert_eq!(jamo.nfkc().count(), 128);
        assert!(weak(&jamo));
        // 129 characters are too many, whatever their strength.
        assert!(weak(&format!(
            "{}x",
            "Tq7#vLw2!pXz🦀"
                .repeat(10)
                .chars()
                .take(128)
                .collect::<String>()
        )));
    }
}
