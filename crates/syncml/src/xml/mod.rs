//! SyncML DM over XML: a reader on quick-xml's pull parser and a writer, both speaking the
//! element events of [`crate::event`].

pub(crate) mod escape;
pub(crate) mod reader;
pub(crate) mod writer;
