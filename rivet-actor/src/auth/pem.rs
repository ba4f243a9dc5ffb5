//! Just enough PEM and DER to read an RSA public key: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo)
//! or `BEGIN RSA PUBLIC KEY` (PKCS#1), without pulling in an ASN.1 crate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::KeyError;

/// DER of the rsaEncryption OID, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// An RSA public key as big-endian modulus and exponent, without leading zero bytes.
pub(crate) struct RsaComponents {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
}

/// Reads an RSA public key from PEM text.
pub(crate) fn rsa_public_key(pem: &str) -> Result<RsaComponents, KeyError> {
    let (label, der) = decode_pem(pem)?;
    let pkcs1 = match label.as_str() {
        "RSA PUBLIC KEY" => der,
        "PUBLIC KEY" => spki_to_pkcs1(&der)?,
        _ => {
            return Err(KeyError::InvalidPem(
                "expected BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY",
            ));
        }
    };
    pkcs1_components(&pkcs1)
}

/// The label and decoded body of the first PEM block in `pem`.
pub(crate) fn decode_pem(pem: &str) -> Result<(String, Vec<u8>), KeyError> {
    const NO_PEM: KeyError = KeyError::InvalidPem("no PEM block");
    let start = pem.find("-----BEGIN ").ok_or(NO_PEM)?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or(NO_PEM)?;
    let label = &rest[..label_end];
    let body = &rest[label_end + "-----".len()..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body.find(&end_marker).ok_or(NO_PEM)?;
    let b64: String = body[..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = STANDARD
        .decode(b64)
        .map_err(|_| KeyError::InvalidPem("body is not base64"))?;
    Ok((label.to_owned(), der))
}

/// SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { OID rsaEncryption, params }, BIT STRING }
fn spki_to_pkcs1(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut outer = Der::new(der).expect_alone(TAG_SEQUENCE)?;
    let mut alg = outer.expect(TAG_SEQUENCE)?;
    if alg.expect(TAG_OID)?.bytes != RSA_ENCRYPTION_OID {
        return Err(KeyError::InvalidPem("not an RSA key"));
    }
    let bits = outer.expect(TAG_BIT_STRING)?.bytes;
    match bits.split_first() {
        Some((0, key)) => Ok(key.to_vec()),
        _ => Err(KeyError::InvalidPem("bad BIT STRING")),
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
fn pkcs1_components(der: &[u8]) -> Result<RsaComponents, KeyError> {
    let mut seq = Der::new(der).expect_alone(TAG_SEQUENCE)?;
    let n = unsigned(seq.expect(TAG_INTEGER)?.bytes)?;
    let e = unsigned(seq.expect(TAG_INTEGER)?.bytes)?;
    if !seq.bytes.is_empty() {
        return Err(KeyError::InvalidPem("trailing data in RSAPublicKey"));
    }
    Ok(RsaComponents { n, e })
}

/// A positive DER INTEGER without its sign padding.
fn unsigned(int: &[u8]) -> Result<Vec<u8>, KeyError> {
    let trimmed: Vec<u8> = int.iter().copied().skip_while(|b| *b == 0).collect();
    if int.first().is_some_and(|b| b & 0x80 != 0) || trimmed.is_empty() {
        return Err(KeyError::InvalidPem("RSA integer is not positive"));
    }
    Ok(trimmed)
}

/// A cursor over DER bytes.
struct Der<'a> {
    bytes: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Reads the next element, which must have tag `tag`, and returns a cursor over its content.
    fn expect(&mut self, tag: u8) -> Result<Der<'a>, KeyError> {
        const BAD: KeyError = KeyError::InvalidPem("malformed DER");
        let (&found, rest) = self.bytes.split_first().ok_or(BAD)?;
        if found != tag {
            return Err(KeyError::InvalidPem("unexpected DER element"));
        }
        let (&first, mut rest) = rest.split_first().ok_or(BAD)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || rest.len() < count {
                return Err(BAD);
            }
            let (len_bytes, after) = rest.split_at(count);
            rest = after;
            len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
        };
        if rest.len() < len {
            return Err(BAD);
        }
        let (content, after) = rest.split_at(len);
        self.bytes = after;
        Ok(Der { bytes: content })
    }

    /// Like [`Der::expect`], and nothing may follow the element.
    fn expect_alone(mut self, tag: u8) -> Result<Der<'a>, KeyError> {
        let inner = self.expect(tag)?;
        if self.bytes.is_empty() {
            Ok(inner)
        } else {
            Err(KeyError::InvalidPem("trailing data after key"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::*;
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn spki_and_pkcs1_give_the_jwk_components() {
        for (pem, n) in [
            (KEY_A_PUBLIC_SPKI, KEY_A_N),
            (KEY_A_PUBLIC_PKCS1, KEY_A_N),
            (KEY_B_PUBLIC_SPKI, KEY_B_N),
            (KEY_B_PUBLIC_PKCS1, KEY_B_N),
        ] {
            let key = rsa_public_key(pem).unwrap();
            assert_eq!(URL_SAFE_NO_PAD.encode(&key.n), n);
            assert_eq!(URL_SAFE_NO_PAD.encode(&key.e), KEY_E);
        }
    }

    #[test]
    fn rejects_what_is_not_an_rsa_public_key() {
        assert!(rsa_public_key("").is_err());
        assert!(
            rsa_public_key("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----").is_err()
        );
        // A private key is not a public key.
        assert!(rsa_public_key(KEY_A_PRIVATE_PKCS1).is_err());
        // Truncated DER.
        let (_, der) = decode_pem(KEY_A_PUBLIC_SPKI).unwrap();
        let cut = STANDARD.encode(&der[..der.len() - 10]);
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{cut}\n-----END PUBLIC KEY-----\n");
        assert!(rsa_public_key(&pem).is_err());
    }
}
