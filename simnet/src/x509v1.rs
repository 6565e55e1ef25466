//! RSA keys and self-signed X.509 **v1** certificates, made the way ElectrumX's documented
//! recipe (`docs/HOWTO.rst`, "Creating a self-signed SSL certificate") makes them:
//!
//! ```text
//! openssl genrsa -out server.key 2048
//! openssl req -new -key server.key -out server.csr
//! openssl x509 -req -days 1825 -in server.csr -signkey server.key -out server.crt
//! ```
//!
//! `openssl x509 -req` without an extensions file writes a version 1 certificate: no
//! extensions at all (no SubjectAltName, no basicConstraints), a random serial, signed
//! `sha256WithRSAEncryption` by its own 2048-bit key. rcgen only writes v3 and ring cannot
//! generate RSA keys, so this module does both itself with `num-bigint`: probable primes by a
//! small-prime sieve and Miller–Rabin, the PKCS#1 private key that rustls loads, PKCS#1 v1.5
//! SHA-256 signatures (CRT), and a minimal DER writer for the few structures involved. The
//! scanner's tests make the same certificate with the real `openssl` (see
//! `scanner/tests/support/electrumx.rs`); `tests` below check this one parses as v1 and
//! verifies.

use num_bigint::BigUint;
use num_integer::Integer;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Modulus size of `openssl genrsa` (its default, and the HOWTO's explicit 2048).
pub const RSA_BITS: u64 = 2048;
/// Public exponent (`openssl genrsa` uses F4).
pub const RSA_E: u32 = 65_537;
/// Validity the recipe asks for (`-days 1825`).
pub const RECIPE_DAYS: u32 = 1825;
/// Miller–Rabin rounds for 1024-bit primes (FIPS 186-4 table C.3: 5 for 2048-bit RSA).
const MR_ROUNDS: usize = 5;
/// Primes below this sieve candidates before Miller–Rabin.
const SIEVE_LIMIT: u32 = 8192;
/// Candidates (odd offsets from a random start) tried before a new start.
const SEARCH_WINDOW: u64 = 1 << 16;

/// An RSA private key with its CRT parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaKey {
    n: BigUint,
    e: BigUint,
    d: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    qinv: BigUint,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("RsaKey")
            .field("bits", &self.n.bits())
            .finish_non_exhaustive()
    }
}

fn small_primes() -> Vec<u32> {
    let limit = SIEVE_LIMIT as usize;
    let mut composite = vec![false; limit];
    let mut out = Vec::new();
    for i in 2..limit {
        if !composite[i] {
            out.push(i as u32);
            let mut j = i * i;
            while j < limit {
                composite[j] = true;
                j += i;
            }
        }
    }
    out
}

/// `n mod m` for a small `m`, from the big-endian bytes.
fn residue(bytes: &[u8], m: u32) -> u32 {
    bytes
        .iter()
        .fold(0u64, |r, &b| (r * 256 + u64::from(b)) % u64::from(m)) as u32
}

/// A uniformly random integer in [2, n − 2] (n > 4).
fn random_below(n: &BigUint, rng: &mut impl RngCore) -> BigUint {
    let mut bytes = vec![0u8; n.bits().div_ceil(8) as usize + 8];
    rng.fill_bytes(&mut bytes);
    BigUint::from_bytes_be(&bytes) % (n - 3u32) + 2u32
}

/// Miller–Rabin with base 2 first, then random bases.
fn probably_prime(n: &BigUint, rng: &mut impl RngCore) -> bool {
    let one = BigUint::from(1u32);
    let n1 = n - 1u32;
    let Some(s) = n1.trailing_zeros() else {
        return false;
    };
    let d = &n1 >> s;
    for round in 0..MR_ROUNDS {
        let a = if round == 0 {
            BigUint::from(2u32)
        } else {
            random_below(n, rng)
        };
        let mut x = a.modpow(&d, n);
        if x == one || x == n1 {
            continue;
        }
        let mut witness = true;
        for _ in 1..s {
            x = (&x * &x) % n;
            if x == n1 {
                witness = false;
                break;
            }
        }
        if witness {
            return false;
        }
    }
    true
}

/// A probable prime of exactly `bits` bits with its top two bits set (so that two of them
/// multiply to exactly twice the bits) and `p − 1` coprime to [`RSA_E`].
fn random_prime(bits: u64, primes: &[u32], rng: &mut impl RngCore) -> BigUint {
    let len = bits.div_ceil(8) as usize;
    loop {
        let mut start = vec![0u8; len];
        rng.fill_bytes(&mut start);
        if let Some(b) = start.first_mut() {
            *b |= 0xc0;
        }
        if let Some(b) = start.last_mut() {
            *b |= 1;
        }
        let res: Vec<u32> = primes.iter().map(|&p| residue(&start, p)).collect();
        let res_e = residue(&start, RSA_E);
        let base = BigUint::from_bytes_be(&start);
        let mut delta = 0u64;
        while delta < SEARCH_WINDOW {
            let divisible = primes
                .iter()
                .zip(&res)
                .any(|(&p, &r)| (u64::from(r) + delta).is_multiple_of(u64::from(p)));
            let e_divides = (u64::from(res_e) + delta) % u64::from(RSA_E) == 1;
            if !divisible && !e_divides {
                let cand = &base + delta;
                if cand.bits() != bits {
                    break;
                }
                if probably_prime(&cand, rng) {
                    return cand;
                }
            }
            delta += 2;
        }
    }
}

impl RsaKey {
    /// Generates a [`RSA_BITS`]-bit key from `rng` (the same `rng` state gives the same key).
    pub fn generate(rng: &mut impl RngCore) -> RsaKey {
        let primes = small_primes();
        loop {
            let a = random_prime(RSA_BITS / 2, &primes, rng);
            let b = random_prime(RSA_BITS / 2, &primes, rng);
            if a == b {
                continue;
            }
            // p > q, as PKCS#1 keys usually have it (qInv = q⁻¹ mod p).
            let (p, q) = if a > b { (a, b) } else { (b, a) };
            let e = BigUint::from(RSA_E);
            let (p1, q1) = (&p - 1u32, &q - 1u32);
            let lambda = p1.lcm(&q1);
            let (Some(d), Some(qinv)) = (e.modinv(&lambda), q.modinv(&p)) else {
                continue;
            };
            let n = &p * &q;
            if n.bits() != RSA_BITS {
                continue;
            }
            return RsaKey {
                dp: &d % &p1,
                dq: &d % &q1,
                n,
                e,
                d,
                p,
                q,
                qinv,
            };
        }
    }

    /// The modulus length in bytes.
    fn k(&self) -> usize {
        self.n.bits().div_ceil(8) as usize
    }

    /// PKCS#1 `RSAPrivateKey` DER (what `openssl genrsa` writes, base64 aside).
    pub fn pkcs1_der(&self) -> Vec<u8> {
        der::seq(&[
            der::uint_small(0),
            der::uint(&self.n),
            der::uint(&self.e),
            der::uint(&self.d),
            der::uint(&self.p),
            der::uint(&self.q),
            der::uint(&self.dp),
            der::uint(&self.dq),
            der::uint(&self.qinv),
        ])
    }

    /// `SubjectPublicKeyInfo` DER (rsaEncryption).
    pub fn spki_der(&self) -> Vec<u8> {
        let public = der::seq(&[der::uint(&self.n), der::uint(&self.e)]);
        der::seq(&[
            der::seq(&[der::oid(der::OID_RSA_ENCRYPTION), der::null()]),
            der::bit_string(&public),
        ])
    }

    /// RSASSA-PKCS1-v1_5 signature with SHA-256 (RFC 8017 §8.2), computed with the CRT.
    pub fn sign_sha256(&self, msg: &[u8]) -> Vec<u8> {
        let k = self.k();
        let mut t = der::SHA256_DIGEST_INFO_PREFIX.to_vec();
        t.extend_from_slice(&Sha256::digest(msg));
        let mut em = vec![0x00, 0x01];
        em.resize(k - t.len() - 1, 0xff);
        em.push(0x00);
        em.extend_from_slice(&t);
        let m = BigUint::from_bytes_be(&em);
        let m1 = m.modpow(&self.dp, &self.p);
        let m2 = m.modpow(&self.dq, &self.q);
        let diff = (&m1 + &self.p - (&m2 % &self.p)) % &self.p;
        let h = (&self.qinv * diff) % &self.p;
        let s = m2 + h * &self.q;
        let bytes = s.to_bytes_be();
        let mut out = vec![0u8; k.saturating_sub(bytes.len())];
        out.extend_from_slice(&bytes);
        out
    }
}

/// A calendar date (UTC midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year (1950–2049: UTCTime).
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
    /// Day 1–31.
    pub day: u32,
}

impl Date {
    /// Days since 1970-01-01 (Hinnant's `days_from_civil`).
    fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
    fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date {
            year: (yoe + era * 400 + i64::from(month <= 2)) as i32,
            month,
            day,
        }
    }

    /// This date plus `days`.
    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days(self.to_days() + days)
    }
}

/// Subject (= issuer) of a self-signed certificate.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// `O=` (what `openssl req` asks as "Organization Name"), if given.
    pub organization: Option<String>,
    /// `CN=` ("Common Name": the server's name or address).
    pub common_name: String,
}

/// A self-signed X.509 v1 certificate (DER) over `key`: serial, subject = issuer, validity
/// from `not_before` for `days`, no extensions.
pub fn self_signed_v1(
    key: &RsaKey,
    subject: &Subject,
    serial: &[u8],
    not_before: Date,
    days: u32,
) -> Vec<u8> {
    let sig_alg = der::seq(&[der::oid(der::OID_SHA256_WITH_RSA), der::null()]);
    let mut rdns = Vec::new();
    if let Some(o) = &subject.organization {
        rdns.push(der::set(&[der::seq(&[
            der::oid(der::OID_ORGANIZATION),
            der::utf8(o),
        ])]));
    }
    rdns.push(der::set(&[der::seq(&[
        der::oid(der::OID_COMMON_NAME),
        der::utf8(&subject.common_name),
    ])]));
    let name = der::seq(&rdns);
    let validity = der::seq(&[
        der::utc_time(not_before),
        der::utc_time(not_before.plus_days(i64::from(days))),
    ]);
    // Version 1 is the DEFAULT: the [0] version field is absent.
    let tbs = der::seq(&[
        der::uint(&BigUint::from_bytes_be(serial)),
        sig_alg.clone(),
        name.clone(),
        validity,
        name,
        key.spki_der(),
    ]);
    let signature = key.sign_sha256(&tbs);
    der::seq(&[tbs, sig_alg, der::bit_string(&signature)])
}

/// The handful of DER encodings a v1 certificate and an RSA key need.
mod der {
    use num_bigint::BigUint;

    use super::Date;

    /// 1.2.840.113549.1.1.1
    pub const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// 1.2.840.113549.1.1.11
    pub const OID_SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    /// 2.5.4.3
    pub const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
    /// 2.5.4.10
    pub const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];
    /// DigestInfo for SHA-256 up to the hash (RFC 8017 §9.2, note 1).
    pub const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];

    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
        out.extend_from_slice(content);
        out
    }

    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x31, &parts.concat())
    }

    /// A non-negative INTEGER (a leading zero keeps the sign bit clear).
    pub fn uint(n: &BigUint) -> Vec<u8> {
        let mut bytes = n.to_bytes_be();
        if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        tlv(0x02, &bytes)
    }

    pub fn uint_small(v: u32) -> Vec<u8> {
        uint(&BigUint::from(v))
    }

    pub fn oid(encoded: &[u8]) -> Vec<u8> {
        tlv(0x06, encoded)
    }

    pub fn null() -> Vec<u8> {
        vec![0x05, 0x00]
    }

    pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
        let mut content = vec![0u8]; // no unused bits
        content.extend_from_slice(bytes);
        tlv(0x03, &content)
    }

    pub fn utf8(s: &str) -> Vec<u8> {
        tlv(0x0c, s.as_bytes())
    }

    /// UTCTime `YYMMDD000000Z` (years 1950–2049).
    pub fn utc_time(d: Date) -> Vec<u8> {
        tlv(
            0x17,
            format!(
                "{:02}{:02}{:02}000000Z",
                d.year.rem_euclid(100),
                d.month,
                d.day
            )
            .as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    #[test]
    fn dates_round_trip() {
        let d = Date {
            year: 2025,
            month: 6,
            day: 1,
        };
        assert_eq!(d.plus_days(0), d);
        assert_eq!(
            d.plus_days(1825),
            Date {
                year: 2030,
                month: 5,
                day: 31
            }
        );
        assert_eq!(
            Date {
                year: 2024,
                month: 2,
                day: 28
            }
            .plus_days(1),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert_eq!(
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
            .to_days(),
            0
        );
        assert_eq!(der::utc_time(d), b"\x17\x0d250601000000Z".to_vec());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der::tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = der::tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der::uint_small(0), vec![0x02, 0x01, 0x00]);
        assert_eq!(
            der::uint(&BigUint::from(0x80u32)),
            vec![0x02, 0x02, 0x00, 0x80]
        );
    }

    #[test]
    fn primes_and_keys_are_sound() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert!(probably_prime(&BigUint::from(65_537u32), &mut rng));
        assert!(!probably_prime(&BigUint::from(65_537u32 * 257), &mut rng));
        // A Carmichael number fools Fermat, not Miller–Rabin.
        assert!(!probably_prime(&BigUint::from(561u32), &mut rng));
        let key = RsaKey::generate(&mut rng);
        assert_eq!(key.n.bits(), RSA_BITS);
        assert_eq!(&key.p * &key.q, key.n);
        // e·d ≡ 1 (mod p − 1) and (mod q − 1): encryption then decryption is the identity.
        let m = BigUint::from(0x1234_5678u32);
        assert_eq!(m.modpow(&key.e, &key.n).modpow(&key.d, &key.n), m);
        assert_eq!((&key.qinv * &key.q) % &key.p, BigUint::from(1u32));
        // The same generator state gives the same key.
        assert_eq!(
            RsaKey::generate(&mut Xoshiro256PlusPlus::seed_from_u64(1)),
            RsaKey::generate(&mut Xoshiro256PlusPlus::seed_from_u64(1))
        );
    }
}
