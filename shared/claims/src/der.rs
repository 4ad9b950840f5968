//! Strict DER: KMS's ECDSA signatures to JWS form, and SubjectPublicKeyInfo parsing.

/// Why a DER ECDSA signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DER ECDSA signature: {0}")]
pub struct SignatureFormatError(pub &'static str);

/// The order n of P-256, big-endian.
pub(crate) const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// A tiny strict DER reader: definite lengths, minimal length encodings, no trailing bytes.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Self(b)
    }

    /// Reads one TLV with `tag`; returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], &'static str> {
        let b = self.0;
        if b.len() < 2 {
            return Err("truncated");
        }
        if b[0] != tag {
            return Err("unexpected tag");
        }
        let (len, hdr): (usize, usize) = match b[1] {
            l if l < 0x80 => (l as usize, 2),
            0x81 if b.len() >= 3 && b[2] >= 0x80 => (b[2] as usize, 3),
            0x82 if b.len() >= 4 && b[2] != 0 => (((b[2] as usize) << 8) | b[3] as usize, 4),
            _ => return Err("bad length"),
        };
        if len < 0x80 && hdr > 2 || len < 0x100 && hdr > 3 {
            return Err("non-minimal length");
        }
        let end = hdr.checked_add(len).ok_or("bad length")?;
        if b.len() < end {
            return Err("truncated");
        }
        self.0 = &b[end..];
        Ok(&b[hdr..end])
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A DER INTEGER's contents as a positive, minimal big-endian number (leading 0x00 removed).
pub(crate) fn positive_integer(content: &[u8]) -> Result<&[u8], &'static str> {
    match content {
        [] => Err("empty integer"),
        [b, ..] if b & 0x80 != 0 => Err("negative integer"),
        [0, rest @ ..] if rest.is_empty() => Ok(rest),
        [0, b, ..] if b & 0x80 == 0 => Err("non-minimal integer"),
        [0, rest @ ..] => Ok(rest),
        _ => Ok(content),
    }
}

/// Converts an ASN.1 DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (what KMS
/// `Sign` returns for `ECDSA_SHA_256`) to the 64-byte `r‖s` form JWS requires (RFC 7518 §3.4).
/// Refuses anything not strictly DER, and r or s outside `1..n`.
pub fn ecdsa_der_to_jws(der: &[u8]) -> Result<[u8; 64], SignatureFormatError> {
    let mut outer = Reader::new(der);
    let seq = outer.read(0x30).map_err(SignatureFormatError)?;
    if !outer.is_empty() {
        return Err(SignatureFormatError("trailing bytes"));
    }
    let mut inner = Reader::new(seq);
    let r = positive_integer(inner.read(0x02).map_err(SignatureFormatError)?)
        .map_err(SignatureFormatError)?;
    let s = positive_integer(inner.read(0x02).map_err(SignatureFormatError)?)
        .map_err(SignatureFormatError)?;
    if !inner.is_empty() {
        return Err(SignatureFormatError("trailing bytes in sequence"));
    }
    let mut out = [0u8; 64];
    for (i, n) in [r, s].into_iter().enumerate() {
        let scalar = fixed_scalar(n).ok_or(SignatureFormatError("r or s out of range"))?;
        out[i * 32..(i + 1) * 32].copy_from_slice(&scalar);
    }
    Ok(out)
}

/// A big-endian number as a 32-byte scalar, if `1 <= n < order`.
pub(crate) fn fixed_scalar(n: &[u8]) -> Option<[u8; 32]> {
    let n = &n[n.iter().take_while(|b| **b == 0).count()..];
    if n.is_empty() || n.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - n.len()..].copy_from_slice(n);
    (out < P256_ORDER).then_some(out)
}

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Public key material from a SubjectPublicKeyInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKeyParts {
    /// P-256 affine coordinates.
    Ec { x: Vec<u8>, y: Vec<u8> },
    /// RSA modulus and exponent (big-endian, minimal).
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// Parses a SubjectPublicKeyInfo of a P-256 or RSA key.
pub(crate) fn parse_spki(der: &[u8]) -> Result<PublicKeyParts, &'static str> {
    let mut outer = Reader::new(der);
    let spki = outer.read(0x30)?;
    if !outer.is_empty() {
        return Err("trailing bytes");
    }
    let mut spki = Reader::new(spki);
    let mut alg = Reader::new(spki.read(0x30)?);
    let bits = spki.read(0x03)?;
    if !spki.is_empty() {
        return Err("trailing bytes in SPKI");
    }
    let key = match bits {
        [0, rest @ ..] => rest,
        _ => return Err("bit string with unused bits"),
    };
    let oid = alg.read(0x06)?;
    if oid == OID_EC_PUBLIC_KEY {
        if alg.read(0x06)? != OID_PRIME256V1 {
            return Err("EC key is not on P-256");
        }
        match key {
            [4, xy @ ..] if xy.len() == 64 => Ok(PublicKeyParts::Ec {
                x: xy[..32].to_vec(),
                y: xy[32..].to_vec(),
            }),
            _ => Err("EC point is not uncompressed P-256"),
        }
    } else if oid == OID_RSA_ENCRYPTION {
        let mut outer = Reader::new(key);
        let mut rsa = Reader::new(outer.read(0x30)?);
        let n = positive_integer(rsa.read(0x02)?)?.to_vec();
        let e = positive_integer(rsa.read(0x02)?)?.to_vec();
        if !rsa.is_empty() || !outer.is_empty() {
            return Err("trailing bytes in RSA key");
        }
        Ok(PublicKeyParts::Rsa { n, e })
    } else {
        Err("unsupported key type")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    fn der_sig(r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, r.len() as u8];
        body.extend_from_slice(r);
        body.extend_from_slice(&[0x02, s.len() as u8]);
        body.extend_from_slice(s);
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    #[test]
    fn converts_a_real_der_signature() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let sig = pair.sign(&SystemRandom::new(), b"msg").unwrap();
        let raw = ecdsa_der_to_jws(sig.as_ref()).unwrap();
        assert_eq!(raw.len(), 64);
        // Round trip: re-encoding r and s gives the same DER.
        let trim = |b: &[u8]| {
            let b = &b[b.iter().take_while(|x| **x == 0).count()..];
            if b[0] & 0x80 != 0 {
                [&[0u8][..], b].concat()
            } else {
                b.to_vec()
            }
        };
        assert_eq!(der_sig(&trim(&raw[..32]), &trim(&raw[32..])), sig.as_ref());
    }

    #[test]
    fn der_with_trailing_bytes_is_rejected() {
        let mut d = der_sig(&[1], &[2]);
        d.push(0);
        assert_eq!(
            ecdsa_der_to_jws(&d),
            Err(SignatureFormatError("trailing bytes"))
        );
    }

    #[test]
    fn der_non_minimal_integer_is_rejected() {
        assert_eq!(
            ecdsa_der_to_jws(&der_sig(&[0, 1], &[2])),
            Err(SignatureFormatError("non-minimal integer"))
        );
    }

    #[test]
    fn der_negative_integer_is_rejected() {
        assert_eq!(
            ecdsa_der_to_jws(&der_sig(&[0x80], &[2])),
            Err(SignatureFormatError("negative integer"))
        );
    }

    #[test]
    fn der_zero_r_or_s_is_rejected() {
        for d in [der_sig(&[0], &[2]), der_sig(&[1], &[0])] {
            assert_eq!(
                ecdsa_der_to_jws(&d),
                Err(SignatureFormatError("r or s out of range"))
            );
        }
    }

    #[test]
    fn der_r_or_s_at_least_n_is_rejected() {
        let n = [&[0u8][..], &P256_ORDER[..]].concat();
        assert_eq!(
            ecdsa_der_to_jws(&der_sig(&n, &[1])),
            Err(SignatureFormatError("r or s out of range"))
        );
        assert_eq!(
            ecdsa_der_to_jws(&der_sig(&[1], &n)),
            Err(SignatureFormatError("r or s out of range"))
        );
    }

    #[test]
    fn der_wrong_tag_is_rejected() {
        let mut d = der_sig(&[1], &[2]);
        d[0] = 0x31;
        assert_eq!(
            ecdsa_der_to_jws(&d),
            Err(SignatureFormatError("unexpected tag"))
        );
        assert!(ecdsa_der_to_jws(&[]).is_err());
        assert!(ecdsa_der_to_jws(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).is_err());
    }
}
