//! WBXML 1.0-1.3 (WAP-192) codec for OMA DM, plus the SyncML / MetInf / DevInf / DM DDF code
//! page tables.
//!
//! [`Reader`] is a pull decoder in the manner of quick-xml: it parses the header, then yields
//! [`Event`]s that borrow from the input (inline strings, string table entries, opaque data), so
//! decoding allocates nothing. Tags come out as `(page, token)` pairs; naming them is left to the
//! caller through [`tables`]. Every start is matched by exactly one [`Event::End`], also for
//! empty elements, which WBXML writes without END. [`Writer`] is the mirror image: it writes a
//! header and tokens straight into an [`Output`] (a `Vec<u8>`, or a [`Counter`] to learn the
//! exact size first). The codec knows nothing of SyncML semantics; attributes and extension
//! tokens, which SyncML never uses, are refused with precise errors carrying byte offsets.
//!
//! ```
//! use omadm_wbxml::{tables::SYNCML_12, Event, Limits, PublicId, Reader, Version, Writer};
//!
//! // <SyncML><SyncBody><Final/></SyncBody></SyncML>
//! let mut w = Writer::new(Vec::new(), Version::V1_2, PublicId::Numeric(0x1201), 106);
//! w.start(0, 0x2D, true);
//! w.start(0, 0x2B, true);
//! w.start(0, 0x12, false);
//! w.end();
//! w.end();
//! let bytes = w.finish();
//! assert_eq!(bytes, [0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6B, 0x12, 0x01, 0x01]);
//!
//! let mut names = Vec::new();
//! let mut r = Reader::new(&bytes, Limits::default())?;
//! while let Some(event) = r.next_event()? {
//!     if let Event::Start { page, token, .. } = event {
//!         names.push(SYNCML_12.tag_name(page, token));
//!     }
//! }
//! assert_eq!(names, [Some("SyncML"), Some("SyncBody"), Some("Final")]);
//! # Ok::<(), omadm_wbxml::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod error;
pub mod header;
pub mod limits;
pub mod mbuint;
mod pi;
pub mod reader;
mod strings;
pub mod tables;
pub mod tokens;
pub mod writer;

pub use error::Error;
pub use header::{Header, PublicId, Version};
pub use limits::Limits;
pub use reader::{Event, Reader};
pub use writer::{Counter, Output, Writer};
