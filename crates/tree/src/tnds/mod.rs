//! TNDS (placeholder).
