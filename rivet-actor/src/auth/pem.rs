//! Reading an RSA public key from PEM: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo) or
//! `BEGIN RSA PUBLIC KEY` (PKCS#1). The parsing is the `rsa` crate's (already what
//! `jsonwebtoken` verifies RS256 signatures with), so key material is never read by hand.

use rsa::RsaPublicKey;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::pkcs8::der::pem;

use super::KeyError;

/// Reads an RSA public key from PEM text. Lines of text before the block are ignored (RFC
/// 7468's preamble), and so is whitespace around it. The body must be base64 wrapped at 64
/// columns, as `openssl` writes it (RFC 7468's strict form).
pub(crate) fn rsa_public_key(text: &str) -> Result<RsaPublicKey, KeyError> {
    let text = text.trim();
    let label =
        pem::decode_label(text.as_bytes()).map_err(|_| KeyError::InvalidPem("no PEM block"))?;
    let key = match label {
        "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(text).ok(),
        "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(text).ok(),
        _ => {
            return Err(KeyError::InvalidPem(
                "expected BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY",
            ));
        }
    };
    key.ok_or(KeyError::InvalidPem("malformed, or not an RSA public key"))
}

#[cfg(test)]
mod tests {
    use super::super::test_keys::*;
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use rsa::traits::PublicKeyParts;

    #[test]
    fn spki_and_pkcs1_give_the_jwk_components() {
        for (pem, n) in [
            (KEY_A_PUBLIC_SPKI, KEY_A_N),
            (KEY_A_PUBLIC_PKCS1, KEY_A_N),
            (KEY_B_PUBLIC_SPKI, KEY_B_N),
            (KEY_B_PUBLIC_PKCS1, KEY_B_N),
        ] {
            let key = rsa_public_key(pem).unwrap();
            assert_eq!(URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()), n);
            assert_eq!(URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()), KEY_E);
        }
    }

    #[test]
    fn text_around_the_block_is_ignored() {
        let pem = format!("  the signing key:\n{KEY_A_PUBLIC_SPKI}\n\n  \n");
        assert!(rsa_public_key(&pem).is_ok());
        let crlf = KEY_A_PUBLIC_SPKI.replace('\n', "\r\n");
        assert!(rsa_public_key(&crlf).is_ok());
    }

    #[test]
    fn rejects_what_is_not_an_rsa_public_key() {
        let invalid = |pem: &str| matches!(rsa_public_key(pem), Err(KeyError::InvalidPem(_)));
        assert!(invalid(""));
        assert!(invalid("not a pem"));
        assert!(invalid(
            "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----"
        ));
        assert!(invalid(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        ));
        // A private key is not a public key.
        assert!(invalid(KEY_A_PRIVATE_PKCS1));
        // PKCS#1 under the SubjectPublicKeyInfo label, and the other way round.
        let (_, pkcs1) = pem::decode_vec(KEY_A_PUBLIC_PKCS1.as_bytes()).unwrap();
        let (_, spki) = pem::decode_vec(KEY_A_PUBLIC_SPKI.as_bytes()).unwrap();
        assert!(invalid(&block("PUBLIC KEY", &pkcs1)));
        assert!(invalid(&block("RSA PUBLIC KEY", &spki)));
        // Truncated DER.
        assert!(invalid(&block("PUBLIC KEY", &spki[..spki.len() - 10])));
        assert!(invalid(&block(
            "RSA PUBLIC KEY",
            &pkcs1[..pkcs1.len() - 10]
        )));
    }

    /// A PEM block of `der`, wrapped at 64 columns.
    fn block(label: &str, der: &[u8]) -> String {
        let b64 = STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }
}
