//! The typed SyncML DM message model (SyncML RepPro 1.2 as restricted by DM RepPro, DIGEST.md §2).
//!
//! Element and field names follow the DTD. Text elements are kept as the text that was sent
//! (surrounding whitespace trimmed); typed views such as [`crate::StatusCode`] are offered by
//! accessors, so a value a peer sends that we do not understand is still carried, not dropped.

mod command;
mod data;
mod hdr;
mod item;
mod meta;

pub use command::{Alert, Command, Container, Exec, ItemCommand, Results, Status, Unsupported};
pub use data::Data;
pub use hdr::{Chal, Cred, Location, Source, SyncHdr, Target};
pub use item::Item;
pub use meta::{Mem, Meta, MetaMore};

/// A whole SyncML message: `SyncML := SyncHdr, SyncBody`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The header. A message published without one (templates in the Windows docs) decodes to
    /// the default header, which the writers omit again.
    pub hdr: SyncHdr,
    /// The body.
    pub body: SyncBody,
}

/// `SyncBody := (commands)+, Final?`; commands are kept in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncBody {
    /// The commands, in the order they appeared.
    pub commands: Vec<Command>,
    /// `<Final/>`: the last message of a package.
    pub final_: bool,
}
