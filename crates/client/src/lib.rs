//! The OMA DM client: a sans-IO session engine, the command executor and the `omadm device`
//! agent.
//!
//! Today the crate holds the [`executor`]: it runs the commands of a server's package on the
//! management tree and answers each with its `Status` (and `Results`). The session engine and the
//! agent come on top of it (issue 5).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
mod dmacc;
pub mod executor;
pub mod large_object;
pub mod notification;
pub mod session;
pub mod sessionless;
pub mod ui;

pub use executor::{AsyncExec, Executor, UiAnswer};
pub use session::{
    Env, Event, Incoming, Initiator, Outcome, Outgoing, Session, SessionConfig, SessionError, Step,
};
