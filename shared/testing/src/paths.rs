//! How backends behind a `{proxy+}` integration read a request path: the reference the
//! authorizer's canonical-path rules are held to by the policy property test and the fuzz
//! oracle, written apart from `tokengate_domain::policy` so that a slip there shows here.

/// How a lenient backend behind `{proxy+}` reads a request (the reference the authorizer is held
/// to, written apart from it): HEAD runs the GET handler; escapes of unreserved characters
/// decoded (RFC 3986 §2.3); `;` parameters dropped; empty and `.` segments dropped, `..`
/// removing the one before (§5.2.4); letters compared in lower case.
pub fn backend_reading(method: &str, path: &str) -> (String, String) {
    let method = if method == "HEAD" { "GET" } else { method };
    let mut decoded = String::new();
    let mut rest = path;
    while let Some(at) = rest.find('%') {
        decoded.push_str(&rest[..at]);
        let escape = rest
            .get(at + 1..at + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escape {
            Some(c) if c.is_ascii_alphanumeric() || b"-._~".contains(&c) => {
                decoded.push(char::from(c));
                rest = &rest[at + 3..];
            }
            _ => {
                decoded.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    decoded.push_str(rest);
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split('/') {
        match segment.split(';').next().unwrap_or_default() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s.to_ascii_lowercase()),
        }
    }
    (method.to_owned(), format!("/{}", segments.join("/")))
}

#[cfg(test)]
mod tests {
    use super::backend_reading;

    #[test]
    fn readings() {
        for (m, p, rm, rp) in [
            ("HEAD", "/API/Admin/", "GET", "/api/admin"),
            (
                "GET",
                "/api/me/../%61dmin;x//users",
                "GET",
                "/api/admin/users",
            ),
            ("PUT", "/a/./b/%2e%2E/c", "PUT", "/a/c"),
            ("GET", "/a%2Fb/%zz", "GET", "/a%2fb/%zz"),
            ("GET", "/", "GET", "/"),
        ] {
            assert_eq!(backend_reading(m, p), (rm.to_owned(), rp.to_owned()), "{p}");
        }
    }
}
