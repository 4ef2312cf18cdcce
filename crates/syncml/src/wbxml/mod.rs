//! SyncML DM over WBXML: the element events of [`crate::event`] on top of `omadm-wbxml`.

pub(crate) mod reader;
pub(crate) mod writer;
