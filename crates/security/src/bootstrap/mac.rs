//! The bootstrap MAC: `HMAC-SHA1(key, wbxml_bytes)` with the key the security method names
//! (DIGEST.md §3.7).

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac as _};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::{BootstrapContentType, BootstrapError};

/// Hex digits of a MAC: 20 bytes of HMAC-SHA1.
pub const MAC_HEX_LEN: usize = 40;

/// The DM bootstrap security methods, the `SEC` parameter (DM Security 1.2, DIGEST.md §3.7).
///
/// The set is the 1.2 one; DM Bootstrap 1.3 is not known to change it (DIGEST-1.3.md §6.2), so
/// the enum is `non_exhaustive` to leave room for a 1.3 method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecMethod {
    /// `NETWORKID`: key = the shared network secret (e.g. IMSI, ESN). Clients MUST support it.
    NetworkId,
    /// `USERPIN`: key = the PIN the user types. Clients MUST support it.
    UserPin,
    /// `USERPIN_NETWORKID`: key = `PIN:secret`, PIN, a colon, then the network secret (the
    /// order DIGEST.md §3.7 records). Optional for clients.
    UserPinNetworkId,
}

impl SecMethod {
    /// Every method, in the order of DM Security.
    pub const ALL: [SecMethod; 3] = [
        SecMethod::NetworkId,
        SecMethod::UserPin,
        SecMethod::UserPinNetworkId,
    ];

    /// The `SEC` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            SecMethod::NetworkId => "NETWORKID",
            SecMethod::UserPin => "USERPIN",
            SecMethod::UserPinNetworkId => "USERPIN_NETWORKID",
        }
    }

    /// The HMAC key for this method: the network secret, the PIN, or `PIN:secret`.
    fn key(self, s: &Secrets<'_>) -> Result<Vec<u8>, BootstrapError> {
        let missing = |what| BootstrapError::MissingSecret { method: self, what };
        let secret = || s.network_secret.ok_or_else(|| missing("network secret"));
        let pin = || s.pin.ok_or_else(|| missing("user PIN"));
        Ok(match self {
            SecMethod::NetworkId => secret()?.to_vec(),
            SecMethod::UserPin => pin()?.as_bytes().to_vec(),
            SecMethod::UserPinNetworkId => {
                let (p, n) = (pin()?, secret()?);
                let mut k = Vec::with_capacity(p.len() + 1 + n.len());
                k.extend_from_slice(p.as_bytes());
                k.push(b':');
                k.extend_from_slice(n);
                k
            }
        })
    }
}

impl fmt::Display for SecMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecMethod {
    type Err = BootstrapError;

    /// Method names compare case-insensitively (content-type parameter values are often
    /// rewritten by proxies).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| BootstrapError::UnknownMethod(s.to_owned()))
    }
}

/// The secrets a key is made from; a method uses one or both.
#[derive(Clone, Copy, Default)]
pub struct Secrets<'a> {
    /// The shared network secret (NETWORKID, USERPIN_NETWORKID), as the bytes both sides hold.
    pub network_secret: Option<&'a [u8]>,
    /// The user PIN (USERPIN, USERPIN_NETWORKID), as ASCII/UTF-8 text.
    pub pin: Option<&'a str>,
}

impl fmt::Debug for Secrets<'_> {
    /// Never prints the secrets themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("network_secret", &self.network_secret.map(|_| "<set>"))
            .field("pin", &self.pin.map(|_| "<set>"))
            .finish()
    }
}

/// A bootstrap MAC: the 20 bytes of HMAC-SHA1. Prints as 40 lowercase hex digits; parses
/// either case.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Mac(pub [u8; 20]);

impl Mac {
    /// `HMAC-SHA1(key(method, secrets), wbxml)`.
    pub fn compute(
        method: SecMethod,
        secrets: &Secrets<'_>,
        wbxml: &[u8],
    ) -> Result<Mac, BootstrapError> {
        let key = method.key(secrets)?;
        // HMAC takes a key of any length; the error arm cannot happen.
        let mut h = <Hmac<Sha1>>::new_from_slice(&key).map_err(|_| BootstrapError::MacMismatch)?;
        h.update(wbxml);
        Ok(Mac(h.finalize().into_bytes().into()))
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &Mac) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl FromStr for Mac {
    type Err = BootstrapError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BootstrapError::BadMacHex(s.to_owned());
        if s.len() != MAC_HEX_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            *o = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Mac(out))
    }
}

/// The MAC of `wbxml` under `method` as 40 lowercase hex digits (DIGEST.md §3.7).
pub fn mac(
    method: SecMethod,
    network_secret: Option<&[u8]>,
    pin: Option<&str>,
    wbxml: &[u8],
) -> Result<String, BootstrapError> {
    let secrets = Secrets {
        network_secret,
        pin,
    };
    Ok(Mac::compute(method, &secrets, wbxml)?.to_string())
}

/// Client side, the MAC only: `Ok` when the `MAC` of `ct` is the MAC of `wbxml` under the `SEC`
/// of `ct` and `secrets`. The comparison runs in constant time.
pub fn verify(
    wbxml: &[u8],
    ct: &BootstrapContentType,
    secrets: &Secrets<'_>,
) -> Result<(), BootstrapError> {
    let expected = Mac::compute(ct.sec, secrets, wbxml)?;
    if expected.ct_eq(&ct.mac) {
        Ok(())
    } else {
        Err(BootstrapError::MacMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_print_and_parse() {
        for m in SecMethod::ALL {
            assert_eq!(m.to_string().parse::<SecMethod>().ok(), Some(m));
        }
        assert_eq!(
            "userpin_networkid".parse::<SecMethod>().ok(),
            Some(SecMethod::UserPinNetworkId)
        );
        assert!("NETWPIN".parse::<SecMethod>().is_err());
    }

    #[test]
    fn keys_follow_the_method() {
        let s = Secrets {
            network_secret: Some(b"001010123456789"),
            pin: Some("1234"),
        };
        assert_eq!(
            SecMethod::NetworkId.key(&s).ok().as_deref(),
            Some(&b"001010123456789"[..])
        );
        assert_eq!(
            SecMethod::UserPin.key(&s).ok().as_deref(),
            Some(&b"1234"[..])
        );
        assert_eq!(
            SecMethod::UserPinNetworkId.key(&s).ok().as_deref(),
            Some(&b"1234:001010123456789"[..])
        );
        assert!(matches!(
            SecMethod::UserPinNetworkId.key(&Secrets {
                pin: Some("1"),
                ..Secrets::default()
            }),
            Err(BootstrapError::MissingSecret { .. })
        ));
    }

    #[test]
    fn mac_hex_round_trips_and_rejects_junk() {
        let m = Mac([0xAB; 20]);
        let hex = m.to_string();
        assert_eq!(hex.len(), MAC_HEX_LEN);
        assert_eq!(hex.parse::<Mac>().ok(), Some(m));
        assert_eq!(hex.to_uppercase().parse::<Mac>().ok(), Some(m));
        assert!(hex[..38].parse::<Mac>().is_err());
        assert!(format!("{}zz", &hex[..38]).parse::<Mac>().is_err());
        assert!(format!("{}é", &hex[..38]).parse::<Mac>().is_err());
        assert!(format!("+{}", &hex[..39]).parse::<Mac>().is_err());
    }
}
