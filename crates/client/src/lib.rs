//! The OMA DM client: a sans-IO session engine, the command executor and the `omadm device` agent. (Not yet implemented; see issue 5.)
#![forbid(unsafe_code)]
