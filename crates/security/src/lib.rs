//! OMA DM security (DM Security 1.2/1.3, DIGEST.md §3, §4, §8): credentials (`syncml:auth-basic`,
//! `syncml:auth-md5`), HMAC message integrity (`x-syncml-hmac`), nonces, the digest of the
//! notification (package #0) and the MAC of a bootstrap. Verification runs in constant time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bootstrap;
pub mod cred;
pub mod hmac_header;
pub mod nonce;
pub mod notification;
