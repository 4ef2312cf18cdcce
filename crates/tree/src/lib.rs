//! The OMA DM management tree (TND 1.2/1.3): URIs and their limits, ACLs, and TNDS, the tree's
//! serialized form. The node arena, operations with DM outcomes, standard objects and persistence
//! build on these modules (issue 3).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod acl;
pub mod tnds;
pub mod uri;
