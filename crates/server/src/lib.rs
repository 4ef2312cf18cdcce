//! The OMA DM server: a sans-IO session engine ([`engine`]), the device records and command
//! queue ([`model`]) and their storage ([`store`]), and the HTTP service around them.
#![forbid(unsafe_code)]

pub mod engine;
pub mod http;
pub mod model;
pub mod store;
