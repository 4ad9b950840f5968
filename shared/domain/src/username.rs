//! Login names: normalised so that `Alice`, `alice` and `ａｌｉｃｅ` are one account.

use unicode_normalization::UnicodeNormalization;

/// Longest accepted name, in characters after normalisation.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A normalised login name: NFKC, lower-case, trimmed, 1..=64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Normalises and validates a name as typed. `None` if empty, too long or containing
    /// control characters.
    pub fn parse(raw: &str) -> Option<Self> {
        // Bound the work before normalising: NFKC can expand a string, but not by more than
        // a small factor, and no valid name is anywhere near this long.
        if raw.len() > MAX_USERNAME_CHARS * 8 {
            return None;
        }
        let name: String = raw.nfkc().flat_map(char::to_lowercase).collect();
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_USERNAME_CHARS || name.chars().any(char::is_control) {
            return None;
        }
        Some(Self(name.to_owned()))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_compatibility_forms_are_one_account() {
        let a = Username::parse("Alice").unwrap();
        assert_eq!(Username::parse("alice").unwrap(), a);
        assert_eq!(Username::parse("ＡＬＩＣＥ").unwrap(), a);
        assert_eq!(Username::parse("  alice ").unwrap(), a);
    }

    #[test]
    fn rejects_empty_long_and_control_names() {
        assert!(Username::parse("").is_none());
        assert!(Username::parse("   ").is_none());
        assert!(Username::parse(&"a".repeat(65)).is_none());
        assert!(Username::parse(&"a".repeat(64)).is_some());
        assert!(Username::parse("al\0ice").is_none());
        assert!(Username::parse("al\nice").is_none());
    }
}
