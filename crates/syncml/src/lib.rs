//! SyncML (placeholder)
#![forbid(unsafe_code)]
