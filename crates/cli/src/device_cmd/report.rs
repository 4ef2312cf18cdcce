//! `omadm device report`: one Sessionless Report Message.

use std::path::PathBuf;

use anyhow::{Context, Result};
use omadm_client::agent::report::{prepare, send};
use omadm_client::agent::transport::{Transport, TransportOptions};
use omadm_client::agent::DeviceDir;
use omadm_client::sessionless::Report;
use omadm_syncml::XmlOptions;

pub const LONG_ABOUT: &str = "\
Send a Sessionless Report Message (OMA DM Sessionless Reporting 1.3) to the device's server.

A report is a DM message the client sends outside any session: SessionID 0, MsgID 1, the
server as Target and the device as Source, a Cred, and one Alert 1230 (Sessionless Report)
whose Item carries Meta Type (--type, a URN as for a Generic Alert), Format (--format), an
optional Mark (--mark, e.g. critical), an optional Source LocURI (--source, the node the report
is about) and the Data (--data).

The credentials are the account's CLCRED entry named by AAuthPref (else the first BASIC,
DIGEST or HMAC one) with its last nonce: BASIC and DIGEST go in Cred; an HMAC account sends an
MD5 digest Cred and an x-syncml-hmac header (HMAC-SHA256). The message is encoded as
device.toml says (xml or wbxml), must fit MaxMsgSize, and is POSTed to the server URL.

What was sent is printed as XML, then the HTTP outcome. A report gets no DM answer: the
response body is not processed. Exit status: 0 when the server answered HTTP 200; 1 when the
report cannot be built or sent, or the server answered another status; 2 on usage errors.";

/// Send a sessionless report to the server.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// Meta Type: the report's type URN (e.g. urn:oma:at:vendor:1.0:battery).
    #[arg(long = "type", value_name = "URN")]
    type_: String,

    /// Meta Format of the data (chr, int, xml, b64...).
    #[arg(long, value_name = "F")]
    format: String,

    /// Meta Mark: the importance (fatal, critical, minor, warning, informational...).
    #[arg(long, value_name = "M")]
    mark: Option<String>,

    /// Item Source LocURI: the node the report is about.
    #[arg(long, value_name = "URI")]
    source: Option<String>,

    /// The report data.
    #[arg(long, value_name = "D")]
    data: String,

    /// Extra trusted root certificate(s) for https, PEM [default: ca_file of device.toml].
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

pub fn run(a: &Args) -> Result<()> {
    let dir = DeviceDir::new(&a.dir);
    let config = dir.load_config()?;
    let tree = dir.read_tree()?;
    let report = Report {
        alert_type: a.type_.clone(),
        format: a.format.clone(),
        mark: a.mark.clone(),
        source: a.source.clone(),
        data: a.data.clone(),
    };
    let prepared = prepare(&tree, &config, &[report])?;
    let mut opts = TransportOptions::from_config(&config)?;
    if let Some(ca) = &a.ca {
        opts = opts.with_ca_file(ca)?;
    }
    let transport = Transport::new(&opts)?;
    let xml = prepared
        .message
        .to_xml_with(XmlOptions {
            pretty: true,
            declaration: false,
        })
        .context("cannot render the report as XML")?;
    println!(
        "POST {} ({}, {} bytes{}):",
        prepared.url,
        prepared.content_type,
        prepared.body.len(),
        if prepared.hmac.is_some() {
            ", x-syncml-hmac"
        } else {
            ""
        }
    );
    println!("{}", String::from_utf8_lossy(&xml).trim_end());
    let resp = super::runtime()?.block_on(send(&transport, &prepared))?;
    println!("HTTP {}: report delivered", resp.status);
    dir.log(&format!(
        "report {} sent to {}: HTTP {}",
        a.type_, prepared.url, resp.status
    ));
    Ok(())
}
