//! Behind CloudFront: whose address the per-source controls count.
//!
//! Behind a CloudFront distribution, API Gateway's `sourceIp` is the edge server's address, so
//! every viewer behind one edge node would share one lockout counter and one rate limit. The
//! viewer's own address comes in `CloudFront-Viewer-Address` (CloudFront Developer Guide, "Add
//! CloudFront request headers"), but any client can send that header to the execute-api URL
//! itself. So it is believed only on a request that also carries the origin secret in
//! [`ORIGIN_SECRET_HEADER`], an origin custom header that CloudFront adds to every request it
//! sends to the origin, overwriting a viewer's header of that name ("Add custom headers to
//! origin requests"). Without the secret the header is ignored.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_lc_rs::digest::{digest, SHA256};

/// The origin custom header CloudFront is configured to add, carrying the origin secret.
pub const ORIGIN_SECRET_HEADER: &str = "x-origin-secret";
/// The header CloudFront adds with the viewer's address and source port, when the origin
/// request policy includes it.
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// Shortest origin secret accepted: long enough that guessing it is hopeless.
const MIN_SECRET_LEN: usize = 16;
/// Longest origin secret accepted (a header value CloudFront sends on every request).
const MAX_SECRET_LEN: usize = 256;

/// `TOKENGATE_ORIGIN_SECRET`: the secret(s) CloudFront sends in [`ORIGIN_SECRET_HEADER`]. Two,
/// comma-separated, while rotating, so both the distribution's old and new value are believed.
///
/// Only SHA-256 digests are kept: the secret itself is not in memory after init, cannot reach a
/// log or a `Debug` output, and comparing digests takes the same time whatever the length or the
/// content of the presented value.
#[derive(Clone)]
pub struct OriginSecret {
    digests: Vec<[u8; 32]>,
}

impl OriginSecret {
    /// The setting as written: empty is `None` (off: `CloudFront-Viewer-Address` is never
    /// believed); otherwise one secret or two separated by a comma, each of 16 to 256 visible
    /// ASCII characters other than a comma. The error never quotes the value.
    pub fn parse(text: &str) -> anyhow::Result<Option<Self>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let secrets: Vec<&str> = text.split(',').map(str::trim).collect();
        let valid = |s: &&str| {
            (MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_graphic() && b != b',')
        };
        anyhow::ensure!(
            secrets.len() <= 2 && secrets.iter().all(valid),
            "environment variable TOKENGATE_ORIGIN_SECRET must be one secret, or two separated by \
             a comma while rotating, each of {MIN_SECRET_LEN} to {MAX_SECRET_LEN} visible ASCII \
             characters other than a comma"
        );
        Ok(Some(Self {
            digests: secrets.iter().map(|s| sha256(s.as_bytes())).collect(),
        }))
    }

    /// Whether `presented` (the value of [`ORIGIN_SECRET_HEADER`]) is one of the secrets.
    /// Constant time: every configured digest is compared in full, with no early exit.
    pub fn admits(&self, presented: &[u8]) -> bool {
        let presented = sha256(presented);
        self.digests
            .iter()
            .fold(false, |found, d| found | constant_time_eq(d, &presented))
    }
}

impl fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OriginSecret(<redacted>)")
    }
}

impl PartialEq for OriginSecret {
    fn eq(&self, other: &Self) -> bool {
        self.digests.len() == other.digests.len()
            && self
                .digests
                .iter()
                .zip(&other.digests)
                .fold(true, |same, (a, b)| same & constant_time_eq(a, b))
    }
}

impl Eq for OriginSecret {}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// The viewer's IP address from a `CloudFront-Viewer-Address` value, which is the address and
/// the source port joined by a colon (CloudFront Developer Guide, "Add CloudFront request
/// headers": `198.51.100.10:46532`); an IPv6 address is written without brackets
/// (`2001:db8::1:46532`), so the port is what follows the last colon. Anything else — no port,
/// a port that is not 1 to 5 digits below 65536, brackets, a zone id, spaces, a list — is
/// `None`: the caller falls back to API Gateway's `sourceIp`.
pub fn parse_viewer_address(value: &str) -> Option<IpAddr> {
    let (address, port) = value.rsplit_once(':')?;
    let port_ok = (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok();
    if !port_ok {
        return None;
    }
    if address.contains(':') {
        address.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        address.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-origin";

    #[test]
    fn viewer_addresses_parse_as_cloudfront_writes_them() {
        let v4 = parse_viewer_address("198.51.100.10:46532");
        assert_eq!(v4, Some("198.51.100.10".parse().unwrap()));
        let v6 = parse_viewer_address("2001:db8::8a2e:370:7334:46532");
        assert_eq!(v6, Some("2001:db8::8a2e:370:7334".parse().unwrap()));
        let full = parse_viewer_address("2001:0db8:0000:0000:0000:0000:0000:0001:443");
        assert_eq!(full, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(
            parse_viewer_address("::ffff:192.0.2.7:1"),
            Some("::ffff:192.0.2.7".parse().unwrap())
        );
    }

    #[test]
    fn a_malformed_viewer_address_is_refused_not_guessed() {
        for bad in [
            "",
            "198.51.100.10",
            "198.51.100.10:",
            "198.51.100.10:65536",
            "198.51.100.10:+443",
            "198.51.100.10:123456",
            " 198.51.100.10:443",
            "198.51.100.10:443 ",
            "198.51.100.10:443, 203.0.113.9:443",
            "[2001:db8::1]:443",
            "2001:db8::1",
            "fe80::1%eth0:443",
            "example.com:443",
            "198.51.100:443",
            "unknown",
        ] {
            assert_eq!(parse_viewer_address(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_origin_secret_admits_only_its_own_value() {
        let secret = OriginSecret::parse(SECRET).unwrap().unwrap();
        assert!(secret.admits(SECRET.as_bytes()));
        assert!(!secret.admits(b""));
        assert!(!secret.admits(&SECRET.as_bytes()[..SECRET.len() - 1]));
        assert!(!secret.admits(format!("{SECRET}x").as_bytes()));
        assert!(!secret.admits(SECRET.to_uppercase().as_bytes()));
    }

    #[test]
    fn two_origin_secrets_are_both_admitted_while_rotating() {
        let old = "old-secret-0123456789";
        let new = "new-secret-0123456789";
        let secret = OriginSecret::parse(&format!("{new}, {old}"))
            .unwrap()
            .unwrap();
        assert!(secret.admits(old.as_bytes()) && secret.admits(new.as_bytes()));
        assert!(!secret.admits(format!("{new},{old}").as_bytes()));
    }

    #[test]
    fn an_empty_origin_secret_is_off_and_a_weak_one_is_refused_without_quoting_it() {
        assert_eq!(OriginSecret::parse("").unwrap(), None);
        assert_eq!(OriginSecret::parse("  ").unwrap(), None);
        for weak in [
            "short-secret",
            "has a space in it 0123",
            "a,b",
            "one-0123456789abcdef,two-0123456789abcdef,three-0123456789",
            "ünïcödé-0123456789abcdef",
        ] {
            let err = OriginSecret::parse(weak).unwrap_err().to_string();
            assert!(err.contains("TOKENGATE_ORIGIN_SECRET"), "{err}");
            assert!(!err.contains(weak), "the error quotes the secret: {err}");
        }
    }

    #[test]
    fn the_origin_secret_never_appears_in_debug_output() {
        let secret = OriginSecret::parse(SECRET).unwrap();
        let shown = format!("{secret:?} {secret:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
