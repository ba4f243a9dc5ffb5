//! Two test-only RSA key pairs (2048 bit, generated with `openssl genrsa -traditional 2048`).
//! Never use these keys for anything but tests. Also: helpers that sign test tokens.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

/// Key A: PKCS#1 private key.
pub(crate) const KEY_A_PRIVATE_PKCS1: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA1266ijsKRaoF9KUtqvWqVjvaKz2hUEQtqo6ZOs3dlDd90DX1
tBctS1LdqRQbj63+QG9CYRQ2ukk+axUoM2Px8C4l9Xl85XW2vhGQX2nVUkprddRu
12ZgAh6rDaZiYAWH2tfR6C1LNXqv0+la3cNNdEXfsxFWJV+qP1Cr1Smxe3y9CPnM
9ZqZTakcPZGXCBKsB+4rr4RZ50x9ryakcd9JAS21v35F+EW2Gdj8GI0fY4iiRzrX
JOaZIdx7tLMz088WjgQnHiHE6d+dfWruBy/QSWkYV/PyQVxfSD2EtrEG4ahpwnb7
M6nFCrApJlDNSuKm2+wyLqzjZR9HAsCI4HTz6QIDAQABAoIBAA94nb/glo/DMpNL
q3hsFRQFT1ksn2GWy9rES9/Luf5zb78cqO0Kfw+6Pz3tuj76xVgWRWOYYofFS8y/
47exFUZk4gf7dgs6hWmn9EDN5mp2+rmnDGC+suVkE2+zA7yWmRePyTzNx+lqyqbC
yupDJNRVUkfXVmLvuFe8sOJpkJvoCxjvrqwSrv29sG+9sTMlVxrN8p3r8wUGAH2W
xntDeJfa4BqgZElLgXGz0edSnk4giwNuACJUixqBrCp7vunuwzVNw5U+1I3rmxYC
1EYcvHHalBxHb1FqUNW1TPKwx/s7dStfcvpsGRuoTrRuxLFaIhArn/rzYbjRC/4o
kiv/mskCgYEA+EXjh2RBwhiOSnZlo4/7yGTVtZ64/roAclSJBvnTo7Wj7AkKSZoy
llyq9yNIa3fQzTilUX2E1kcNI2cUWJpNGit5qZUl+NqiVNEFnVkWGTYxeNlKp3gF
i7ofzZ//0coB1myz3JZC5il/w5GrUCzsM2j8SnEKNx3tAlTbBtLEreUCgYEA3iMv
GKAYaKh2U2ZmWFKAc748F8FnhXERwvq05DRpGbSLnMHEWyMK5cyc669RZYb9o0n6
9hfUV+NxggOYviRW3zMVsBe+C37DY55k6z2WmRmGjIvuQcroxqmooEV1JfhuuCsO
ret6iDDTJdG0Mfd9PbgyOqiXyPWll21GOk417bUCgYB5+5y3QQMuInKHE3UM0Amd
hC2cdsfeH/VoNzC8RLM/lFdd+XMchq6kQhOeKa/DXbMxoctYJpvFzFMgOd09S1Lm
sMWuFKH7izCHC8v+a274JDBaeCi977KJ3IETvrEqml4cxHv6vblQ7MLhjAjn86p5
9/M9gBzMx99Tbe3PhG8uIQKBgQCndiLFD7wW+hjp2qKBJwELQHiQ+A6QvKLFOLcx
6ojpBgDSFglvI0XN46jQzIQyY8fGV7lH2MMN1rr1Zry5ay/KZ/qLm/p7M/8clIZE
CVQE6wdR4ROmqc8+JRyoZnRgQZ9GW79fQcxH63biZerQWGEkLD5BlmOG7hj9xTVS
My/YmQKBgAXAA0nLy5kFsR1Ux/M5yiTT15ZW84kxYb4hwJjQPHmcqQruYBButhec
sJC0av56b26oSCSXErP4OCoDElt4jbQCzCOm7AL1+cWfzKzsNRnT7kxNkTHSDnva
0vsOeeUL8vjQBqY/Ss0WYHh/jETrWoYAkPaq+zt5c90Ah8N2j9Hb
-----END RSA PRIVATE KEY-----
";

/// Key A: SubjectPublicKeyInfo public key (`BEGIN PUBLIC KEY`).
pub(crate) const KEY_A_PUBLIC_SPKI: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1266ijsKRaoF9KUtqvWq
VjvaKz2hUEQtqo6ZOs3dlDd90DX1tBctS1LdqRQbj63+QG9CYRQ2ukk+axUoM2Px
8C4l9Xl85XW2vhGQX2nVUkprddRu12ZgAh6rDaZiYAWH2tfR6C1LNXqv0+la3cNN
dEXfsxFWJV+qP1Cr1Smxe3y9CPnM9ZqZTakcPZGXCBKsB+4rr4RZ50x9ryakcd9J
AS21v35F+EW2Gdj8GI0fY4iiRzrXJOaZIdx7tLMz088WjgQnHiHE6d+dfWruBy/Q
SWkYV/PyQVxfSD2EtrEG4ahpwnb7M6nFCrApJlDNSuKm2+wyLqzjZR9HAsCI4HTz
6QIDAQAB
-----END PUBLIC KEY-----
";

/// Key A: PKCS#1 public key (`BEGIN RSA PUBLIC KEY`).
pub(crate) const KEY_A_PUBLIC_PKCS1: &str = "\
-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA1266ijsKRaoF9KUtqvWqVjvaKz2hUEQtqo6ZOs3dlDd90DX1tBct
S1LdqRQbj63+QG9CYRQ2ukk+axUoM2Px8C4l9Xl85XW2vhGQX2nVUkprddRu12Zg
Ah6rDaZiYAWH2tfR6C1LNXqv0+la3cNNdEXfsxFWJV+qP1Cr1Smxe3y9CPnM9ZqZ
TakcPZGXCBKsB+4rr4RZ50x9ryakcd9JAS21v35F+EW2Gdj8GI0fY4iiRzrXJOaZ
Idx7tLMz088WjgQnHiHE6d+dfWruBy/QSWkYV/PyQVxfSD2EtrEG4ahpwnb7M6nF
CrApJlDNSuKm2+wyLqzjZR9HAsCI4HTz6QIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Key A: JWK modulus, base64url without padding.
pub(crate) const KEY_A_N: &str = "1266ijsKRaoF9KUtqvWqVjvaKz2hUEQtqo6ZOs3dlDd90DX1tBctS1LdqRQbj63-QG9CYRQ2ukk-axUoM2Px8C4l9Xl85XW2vhGQX2nVUkprddRu12ZgAh6rDaZiYAWH2tfR6C1LNXqv0-la3cNNdEXfsxFWJV-qP1Cr1Smxe3y9CPnM9ZqZTakcPZGXCBKsB-4rr4RZ50x9ryakcd9JAS21v35F-EW2Gdj8GI0fY4iiRzrXJOaZIdx7tLMz088WjgQnHiHE6d-dfWruBy_QSWkYV_PyQVxfSD2EtrEG4ahpwnb7M6nFCrApJlDNSuKm2-wyLqzjZR9HAsCI4HTz6Q";

/// Key B: PKCS#1 private key.
pub(crate) const KEY_B_PRIVATE_PKCS1: &str = "\
-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEApnYM28NDIpNTBh4LHI2cXzO+3mehHvPtyTJ4rz9plPYfjcxF
ji4OSrr9jjmnpF6JeDzS6IPr2rCtqUX2+p9PsxkNDvXN4WOBTObOzdxP7oPPq03z
ZlbmuWYZoPl4XZ6ZYT0DuHIT5wbDk2146zQ3G2ZALxDDV1XAJfVrYmpDHwqOfNDC
H8evqGND2/lM3kUvDHWcuSpVlnsqAD/QWEQOZTncuS7p6d6J78xMFfyW05sRTjJm
r0o9ysFeZX6qgZiKTK3VYnDwLXRBj2cPBl1hMbMXzsGJ3+g3SJDkkL1W/dGBEV3l
fP9kAG1cVzDVwN9MFkMgsAhvZIL6MskNABusKwIDAQABAoIBADa+tUzjQ2WQISpu
YAYkdoyC1p+LYlxtKcNVM4ajKsSgS1FVoHx5nh6qr7ACOyWeJ8Tg8BYjKMKz/3Ef
vvG+yjXjI73LTkn1cTVK5TGj5q/RLs+uY8HBC8FmmEAuO41Clzv5FounDO+adGC8
jJuCASukLbCs6SmEXJy/QXFM9EU1Kj/OSjmLc8np93e8B68K3sVO4oSM7+Mav9Bt
5G2eT0YjXU8Gkexqh7v9KVQ6vpxj4puoghHM6fpnAApykRpA4czgjaV75Ig7O9OZ
GBBlLYjs/DZgIq+13zRopsAf0u/kbn0jwe/6RHM3rmepgIxEcGGOg7lMXq3CAITA
AykLe1ECgYEA1GmSi/cIzQXj3+nE3ZA2qb3oeVZmvO+P4OogTvCl0k66mEttVWVq
6npFMBP6IX3up7wzI0nmzqxYlVrva0hZ846WXcfoOS0jjnq5zuuOTuWRhbDTi6v/
xJcpC+kJO4ffBhNB1qoJ8yQe7SQ0sJ4Ke/JnNmEowsoOZb4f6iR+PRsCgYEAyJ6S
FWc4AdyxprBbPsdiSdiqg141p+n9QEVwtQko+2p7Ebs0T4oYDtz2qhAnnOEB748Y
/7oJ+10WM8jE7Scbm/Qiu49TxWOmHYW0B85NtBQZYrW4Do9PXGbUO1jlXj6x6otl
AI51kD8wtzItqlylEerTLRRJiDKRP6vzIKv3jjECgYBNJRKeVtgRbkQ2vHZNaeUQ
fPKDrwedMvx0WVPml6wB16oZSbupui28fy/FqFu98jjNHqML+/khsqJxjBdMRXi1
5mFiKgqDSYuSYaw+JHsI2IOjpHcQUSWRRr0XoElEH7K2SCQvTI5UihfZVL72Lk/s
eDtYGq1tIWldNlHs/dgDZQKBgE91ZrytbiRmqcIwlWMvC0HeW+K+HJhN9+1N048Q
erfhe68RK23Zbx/r6pJ+5YGgKOkeDzOyFqQFQXbvLPgVBj1lm6AX64EBr9h/jUeO
MX6Ce296M9Uoc7FQVPzQf8AtKsCPx0hKJEwmiv/0Etwn54VKMavoHhugk6DZVOl6
0wjxAoGAd01qts49k2maSK54m2MJDSYwjC4PKRF7UMx83tWJh0bXDuO/5Bhy4VI+
D7UAtWEEngBOvn8bPZacZZEsj1PgRp1WgNF+Yfk5Kan0MT4CX+N1INlry6y9/RE8
d2PRegnqrsONyJCsZ519BENj0+7Vlxfmsu7ChFKSG+SFdUkTVeg=
-----END RSA PRIVATE KEY-----
";

/// Key B: SubjectPublicKeyInfo public key (`BEGIN PUBLIC KEY`).
pub(crate) const KEY_B_PUBLIC_SPKI: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApnYM28NDIpNTBh4LHI2c
XzO+3mehHvPtyTJ4rz9plPYfjcxFji4OSrr9jjmnpF6JeDzS6IPr2rCtqUX2+p9P
sxkNDvXN4WOBTObOzdxP7oPPq03zZlbmuWYZoPl4XZ6ZYT0DuHIT5wbDk2146zQ3
G2ZALxDDV1XAJfVrYmpDHwqOfNDCH8evqGND2/lM3kUvDHWcuSpVlnsqAD/QWEQO
ZTncuS7p6d6J78xMFfyW05sRTjJmr0o9ysFeZX6qgZiKTK3VYnDwLXRBj2cPBl1h
MbMXzsGJ3+g3SJDkkL1W/dGBEV3lfP9kAG1cVzDVwN9MFkMgsAhvZIL6MskNABus
KwIDAQAB
-----END PUBLIC KEY-----
";

/// Key B: PKCS#1 public key (`BEGIN RSA PUBLIC KEY`).
pub(crate) const KEY_B_PUBLIC_PKCS1: &str = "\
-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEApnYM28NDIpNTBh4LHI2cXzO+3mehHvPtyTJ4rz9plPYfjcxFji4O
Srr9jjmnpF6JeDzS6IPr2rCtqUX2+p9PsxkNDvXN4WOBTObOzdxP7oPPq03zZlbm
uWYZoPl4XZ6ZYT0DuHIT5wbDk2146zQ3G2ZALxDDV1XAJfVrYmpDHwqOfNDCH8ev
qGND2/lM3kUvDHWcuSpVlnsqAD/QWEQOZTncuS7p6d6J78xMFfyW05sRTjJmr0o9
ysFeZX6qgZiKTK3VYnDwLXRBj2cPBl1hMbMXzsGJ3+g3SJDkkL1W/dGBEV3lfP9k
AG1cVzDVwN9MFkMgsAhvZIL6MskNABusKwIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Key B: JWK modulus, base64url without padding.
pub(crate) const KEY_B_N: &str = "pnYM28NDIpNTBh4LHI2cXzO-3mehHvPtyTJ4rz9plPYfjcxFji4OSrr9jjmnpF6JeDzS6IPr2rCtqUX2-p9PsxkNDvXN4WOBTObOzdxP7oPPq03zZlbmuWYZoPl4XZ6ZYT0DuHIT5wbDk2146zQ3G2ZALxDDV1XAJfVrYmpDHwqOfNDCH8evqGND2_lM3kUvDHWcuSpVlnsqAD_QWEQOZTncuS7p6d6J78xMFfyW05sRTjJmr0o9ysFeZX6qgZiKTK3VYnDwLXRBj2cPBl1hMbMXzsGJ3-g3SJDkkL1W_dGBEV3lfP9kAG1cVzDVwN9MFkMgsAhvZIL6MskNABusKw";

/// The public exponent of both keys (65537), base64url.
pub(crate) const KEY_E: &str = "AQAB";

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An HS256 token over `claims`.
pub(crate) fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// An RS256 token over `claims` signed with a PKCS#1 private key PEM, with header `kid`.
pub(crate) fn sign_rs256(claims: &Value, private_pem: &str, kid: Option<&str>) -> String {
    let (label, der) = rsa::pkcs8::der::pem::decode_vec(private_pem.as_bytes()).unwrap();
    assert_eq!(label, "RSA PRIVATE KEY");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(&der)).unwrap()
}

/// A JWK for one of the test public keys.
pub(crate) fn jwk(kid: &str, n: &str) -> Value {
    serde_json::json!({ "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": n, "e": KEY_E })
}
