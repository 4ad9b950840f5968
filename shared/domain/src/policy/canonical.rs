//! The canonical spelling of a request path, and the IAM patterns of every other spelling.
//!
//! Behind a `{proxy+}` integration the backend, not API Gateway, decides which handler a path
//! reaches, and common frameworks read several spellings as one path: Express (non-strict
//! routing), Spring and ASP.NET Core route `/api/items/` as `/api/items`; RFC 3986 §5.2.4
//! removes `.` and `..` segments; Spring and Tomcat strip `;` path parameters; RFC 3986 §2.3
//! makes `%61` and `a` the same (an escape of an unreserved character). A rule judged on the
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
            b'%' if escapes_unreserved(b.get(i + 1..i + 3)) => {
                // RFC 3986 §2.3: `%61dmin` is `admin` to every decoder.
                return Some("escaped_unreserved");
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

fn escapes_unreserved(hex: Option<&[u8]>) -> bool {
    let Some(&[hi, lo]) = hex else {
        return false;
    };
    match (hex_value(hi), hex_value(lo)) {
        (Some(hi), Some(lo)) => is_unreserved(hi << 4 | lo),
        _ => false,
    }
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// IAM resource patterns, relative to the stage ARN (`METHOD/path`), that match exactly the
/// method ARNs whose path is not canonical. The method never holds `/`, `.`, `;` or `%`, so a
/// leading `*` standing for it (and any part of the path before the defect) is exact. Those
/// that start with `*` match only paths even against the whole method ARN (its fixed part,
/// `arn:…:API/STAGE/METHOD`, holds no `//`, `/.`, `;` or `%`), so the authorizer may write them
/// after `arn:PARTITION:execute-api:` instead of the stage ARN: 91 Denies are half as long.
pub fn iam_patterns() -> &'static [String] {
    static PATTERNS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(spell_patterns)
}

/// Empty segments, a trailing slash, dot segments and `;`, relative to the stage ARN.
#[rustfmt::skip]
const SEGMENT_PATTERNS: [&str; 7] = [
    // An empty segment anywhere.
    "*//*",
    // A trailing slash after at least one character: `GET/` (the root) stays. Relative to the
    // stage only (`?` for the method): `…/v1/GET/` ends with `/1/GET/` too.
    "?*/?*/",
    // A dot segment at the end, or before another segment.
    "*/.",
    "*/./*",
    "*/..",
    "*/../*",
    // A `;` parameter.
    "*;*",
];

fn spell_patterns() -> Vec<String> {
    let mut patterns: Vec<String> = SEGMENT_PATTERNS.iter().map(|p| (*p).to_owned()).collect();
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for c in (0u8..128).filter(|&c| is_unreserved(c)) {
        let (hi, lo) = (
            HEX_UPPER[usize::from(c >> 4)],
            HEX_UPPER[usize::from(c & 15)],
        );
        let mut spellings = vec![[hi, lo]];
        // Either hex case decodes alike: `%4A` and `%4a` are both `J`.
        if lo.is_ascii_alphabetic() {
            spellings.push([hi, lo.to_ascii_lowercase()]);
        }
        for [h, l] in spellings {
            patterns.push(format!("*%{}{}*", h as char, l as char));
        }
    }
    patterns
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
            "/a/%2F/%3A/%25/%C3%A9",
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
            ("/api/%61dmin", "escaped_unreserved"),
            ("/api/%2e%2e/admin", "escaped_unreserved"),
            ("/api/%2E", "escaped_unreserved"),
            ("/api/%7e", "escaped_unreserved"),
            ("/api/%%41", "escaped_unreserved"),
        ] {
            assert_eq!(defect(p), Some(why), "{p}");
        }
    }

    #[test]
    fn the_escape_patterns_cover_both_hex_cases_of_every_unreserved_character() {
        let patterns = iam_patterns();
        // 66 unreserved characters, 18 of them with a letter as the second hex digit.
        assert_eq!(patterns.len(), 7 + 66 + 18);
        // Only the trailing-slash pattern needs the stage ARN before it.
        let staged: Vec<&String> = patterns.iter().filter(|p| !p.starts_with('*')).collect();
        assert_eq!(staged, ["?*/?*/"]);
        for p in ["*%6a*", "*%6A*", "*%2e*", "*%7E*", "*%30*"] {
            assert!(patterns.contains(&p.to_owned()), "{p}");
        }
        assert!(!patterns.contains(&"*%2F*".to_owned()));
    }
}
