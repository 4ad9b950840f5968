//! The network a request comes from, the unit every per-source limit counts in: an IPv4
//! address, or the /64 of an IPv6 address — one subscriber's allocation, from which an attacker
//! can send from 2^64 addresses at no cost.

use std::net::{IpAddr, Ipv6Addr};

/// The source network of API Gateway's `sourceIp` (never `X-Forwarded-For`, which the caller
/// writes): `192.0.2.7`, or `2001:db8:1:2::/64` for any address in that /64. An IPv4-mapped
/// IPv6 address counts as its IPv4 address. A value that is no IP address (API Gateway always
/// sends one) is its own network, so it still counts.
pub fn source_network(source_ip: &str) -> String {
    match source_ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
        Err(_) => source_ip.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_slash_64_is_one_network_and_ipv4_is_per_address() {
        assert_eq!(source_network("192.0.2.7"), "192.0.2.7");
        assert_ne!(source_network("192.0.2.7"), source_network("192.0.2.8"));
        let a = source_network("2001:db8:1:2::1");
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(source_network("2001:db8:1:2:ffff:ffff:ffff:ffff"), a);
        assert_ne!(source_network("2001:db8:1:3::1"), a);
        assert_eq!(source_network("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(source_network(" not-an-ip "), "not-an-ip");
    }
}
