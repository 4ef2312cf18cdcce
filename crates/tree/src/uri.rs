//! URIs (placeholder).
