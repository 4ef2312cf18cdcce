//! WBXML codec (placeholder)
#![forbid(unsafe_code)]
