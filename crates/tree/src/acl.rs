//! ACLs (placeholder).
