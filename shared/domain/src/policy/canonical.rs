//! The canonical spelling of a request path, and the IAM patterns of every other spelling.
//!
//! Behind a `{proxy+}` integration the backend, not API Gateway, decides which handler a path
//! reaches, and common frameworks read several spellings as one path: Express (non-strict
//! routing), Spring and ASP.NET Core route `/api/items/` as `/api/items`; RFC 3986 §5.2.4
//! removes `.` and `..` segments; Spring and Tomcat strip `;` path parameters; RFC 3986 §2.3
//! makes `%61` and `a` the same (an escape of an unreserved character), and decoders read
//! `%3B` or `%5C` as `;` or `\` (which some servers take for `/`). A rule judged on the
//! spelling the client sent would then judge another path than the one that runs. So a path
//! is *canonical* when no such reading can change it, and any other spelling is refused to a
//! token that some rule refuses (see [`super::RoutePolicy::permits`]).

/// Why `path` is not canonical, `None` when it is. One pass over the bytes, no allocation:
/// this runs on every decision.
pub fn defect(path: &str) -> Option<&'static str> {
    let b = path.as_bytes();
    if b.len() > 1 && b.ends_with(b"/") {
        // Express, Spring and ASP.NET route `/x/` as `/x`; other backends 404 or serve another
        // resource (RFC 3986 tells them apart): which one runs is the backend's choice.
        return Some("trailing_slash");
    }
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'/' => {
                let seg = segment_at(b, i + 1);
                if i > 0 && b[i - 1] == b'/' {
                    // Empty segments: many servers merge `//` into `/` before routing.
                    return Some("empty_segment");
                }
                if seg == b"." || seg == b".." {
                    // RFC 3986 §5.2.4: `/api/me/../admin` is `/api/admin` to the backend.
                    return Some("dot_segment");
                }
            }
            // Matrix parameters: Spring and Tomcat read `/api/admin;x` as `/api/admin`.
            b';' => return Some("path_parameter"),
            b'%' if escape_refused(b.get(i + 1..i + 3)) => {
                // RFC 3986 §2.3: `%61dmin` is `admin` to every decoder.
                return Some("escaped_character");
            }
            _ => {}
        }
    }
    None
}

fn segment_at(b: &[u8], start: usize) -> &[u8] {
    let rest = b.get(start..).unwrap_or_default();
    let end = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
    &rest[..end]
}

/// Whether `%` + `hex` is an escape the path must not hold: of an unreserved character
/// (RFC 3986 §2.3: `-`, `.`, digits, letters, `_`, `~`), and — so that 9 IAM patterns say it
/// rather than 84 — of anything else from `0` (0x30) to DEL (0x7F): `:;<=>?@[\]^` and
/// `` ` ``, `{|}`. Escapes below 0x30 (space, `"`, `#`, `%`, `/`, …) and of UTF-8 bytes stay.
fn escape_refused(hex: Option<&[u8]>) -> bool {
    let Some(&[hi, lo]) = hex else {
        return false;
    };
    match (hex_value(hi), hex_value(lo)) {
        (Some(hi), Some(lo)) => matches!(hi << 4 | lo, 0x2D | 0x2E | 0x30..=0x7F),
        _ => false,
    }
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// IAM resource patterns, relative to the stage ARN (`METHOD/path`), that match exactly the
/// method ARNs whose path is not canonical. The method never holds `/`, `.`, `;` or `%`, so a
/// leading `*` standing for it (and any part of the path before the defect) is exact. Those
/// that start with `*` match only paths even against the whole method ARN (its fixed part,
/// `arn:…:API/STAGE/METHOD`, holds no `//`, `/.`, `;` or `%`), so the authorizer may write them
/// after `arn:PARTITION:execute-api:*:` instead of the stage ARN (the `*:` because IAM's `*`
/// crosses a `:` only where it ends an ARN segment): 15 of the 17 Denies, half as long.
pub fn iam_patterns() -> &'static [String] {
    static PATTERNS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(spell_patterns)
}

/// Empty segments, a trailing slash, dot segments and `;`, relative to the stage ARN.
#[rustfmt::skip]
const SEGMENT_PATTERNS: [&str; 8] = [
    // An empty segment anywhere.
    "*//*",
    // A trailing slash after at least one character: `GET/` (the root) stays. Relative to the
    // stage only (`?` for the method): `…/v1/GET/` ends with `/1/GET/` too. IAM's `*` crosses
    // a `:` only where it ends an ARN segment, so a path with a `:` needs the second pattern,
    // whose first `*` spans up to the path's last `:` (`GET/x:y/`).
    "?*/?*/",
    "?*:*/",
    // A dot segment at the end, or before another segment.
    "*/.",
    "*/./*",
    "*/..",
    "*/../*",
    // A `;` parameter.
    "*;*",
];

fn spell_patterns() -> Vec<String> {
    let escapes = [
        "*%2D*", "*%2d*", "*%2E*", "*%2e*", "*%3?*", "*%4?*", "*%5?*", "*%6?*", "*%7?*",
    ];
    SEGMENT_PATTERNS
        .iter()
        .chain(&escapes)
        .map(|p| (*p).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths_pass() {
        for p in [
            "/",
            "/api/me",
            "/api/admin/x:a/b/c",
            "/API/Admin",
            "/a/.b/c..",
            "/a/%2F/%20/%25/%23/%C3%A9/%2C",
            "/%",
            "/a%4",
            "/a%zz",
        ] {
            assert_eq!(defect(p), None, "{p}");
        }
    }

    #[test]
    fn every_other_spelling_is_named() {
        for (p, why) in [
            ("/api/items/", "trailing_slash"),
            ("//", "trailing_slash"),
            ("/api//admin", "empty_segment"),
            ("//api", "empty_segment"),
            ("/api/./admin", "dot_segment"),
            ("/api/me/../admin", "dot_segment"),
            ("/api/..", "dot_segment"),
            ("/.", "dot_segment"),
            ("/api/admin;x", "path_parameter"),
            ("/api/%61dmin", "escaped_character"),
            ("/api/%2e%2e/admin", "escaped_character"),
            ("/api/%2E", "escaped_character"),
            ("/api/%7e", "escaped_character"),
            ("/api/%%41", "escaped_character"),
            ("/api/a%3Bb", "escaped_character"),
            ("/api/a%5cb", "escaped_character"),
        ] {
            assert_eq!(defect(p), Some(why), "{p}");
        }
    }

    #[test]
    fn the_patterns_refuse_exactly_the_refused_escapes() {
        let patterns = iam_patterns();
        let staged: Vec<&String> = patterns.iter().filter(|p| !p.starts_with('*')).collect();
        // Only the trailing-slash patterns need the stage ARN before them.
        assert_eq!(staged, ["?*/?*/", "?*:*/"]);
        for byte in 0u8..=255 {
            for hex in [format!("{byte:02X}"), format!("{byte:02x}")] {
                let path = format!("/a%{hex}b");
                let by_pattern = patterns[8..]
                    .iter()
                    .any(|p| p.trim_matches('*').len() == 3 && glob(p, &format!("GET{path}")));
                assert_eq!(by_pattern, defect(&path).is_some(), "{path}");
            }
        }
    }

    /// IAM's `*` and `?`, enough for these patterns.
    fn glob(pattern: &str, text: &str) -> bool {
        match (pattern.chars().next(), text.chars().next()) {
            (None, None) => true,
            (Some('*'), _) => {
                glob(&pattern[1..], text)
                    || (!text.is_empty()
                        && glob(pattern, &text[text.chars().next().unwrap().len_utf8()..]))
            }
            (Some(p), Some(t)) if p == '?' || p == t => {
                glob(&pattern[p.len_utf8()..], &text[t.len_utf8()..])
            }
            _ => false,
        }
    }
}
