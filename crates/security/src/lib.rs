//! OMA DM security: basic and MD5 credentials, HMAC integrity, nonces, notification digests and bootstrap MACs. (Not yet implemented; see issue 4.)
#![forbid(unsafe_code)]
