//! The OMA DM management tree: nodes, properties, ACLs, URIs, `?list`/`?prop` queries, TNDS and the standard objects. (Not yet implemented; see issue 3.)
#![forbid(unsafe_code)]
