//! The OMA DM server: a sans-IO session engine, the command queue, the stores and the HTTP service. (Not yet implemented; see issue 6.)
#![forbid(unsafe_code)]
