//! `omadm device init`: the factory bootstrap.

use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;
use omadm_client::agent::init::{default_account_node, init, InitParams};
use omadm_client::agent::{DeviceDir, WireEncoding};
use omadm_security::cred::AuthScheme;

pub const LONG_ABOUT: &str = "\
Create a device directory as a factory would: the first management tree and device.toml.

The tree holds the standard objects of OMA DM Standardized Objects 1.2:
  ./DevInfo    DevId (--device-id), Man omadm, Mod omadm-device, DmV (this version), Lang en-US
  ./DevDetail  DevTyp, OEM, FwV, SwV, HwV, LrgObj true, URI/MaxDepth, MaxTotLen, MaxSegLen
  ./Inbox      where servers Add management objects for the device to place
  ./DMAcc/<X>  the account of the server (--server-id): AppAddr/1/Addr = --server-url
               (AddrType URI), AAuthPref = --auth, and two AppAuth entries:
                 1  CLCRED: how the client proves itself to the server (AAuthType BASIC,
                    DIGEST or HMAC per --auth, AAuthName --client-name, AAuthSecret
                    --client-secret, AAuthData the server's next nonce, empty for now)
                 2  SRVCRED: how the server proves itself to the client (AAuthType DIGEST, or
                    HMAC with --auth hmac; AAuthName the ServerID, AAuthSecret --server-secret);
                    package #0 notifications and sessionless messages are checked against it
  ./FUMO/1     a firmware update object (OMA FUMO 1.0) in State 10 (Idle), unless --no-fumo

The account belongs to its server (ACL Get, Replace, Delete for the ServerID); secrets have no
Get right. device.toml gets the defaults (encoding per --encoding, MaxMsgSize 16384, MaxObjSize
1 MiB); edit it to add Exec hooks, FUMO programs and bootstrap secrets.

An existing tree is never replaced without --force (which also empties the alert and update
queues). Exit status: 0 on success, 1 when DIR cannot be written or already holds a tree, 2 on
usage errors.";

/// The client's authentication scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Auth {
    /// syncml:auth-basic, AAuthType BASIC.
    Basic,
    /// syncml:auth-md5, AAuthType DIGEST.
    Digest,
    /// syncml:auth-MAC (x-syncml-hmac), AAuthType HMAC.
    Hmac,
}

impl Auth {
    fn scheme(self) -> AuthScheme {
        match self {
            Auth::Basic => AuthScheme::Basic,
            Auth::Digest => AuthScheme::Md5,
            Auth::Hmac => AuthScheme::Hmac,
        }
    }
}

/// The wire encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Enc {
    /// application/vnd.syncml.dm+xml.
    Xml,
    /// application/vnd.syncml.dm+wbxml.
    Wbxml,
}

/// Create a device directory (factory bootstrap).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device directory to create.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// DevInfo/DevId, the device's URN (e.g. IMEI:493005100592800).
    #[arg(long, value_name = "ID")]
    device_id: String,

    /// The DM server's URL (DMAcc AppAddr/1/Addr).
    #[arg(long, value_name = "URL")]
    server_url: String,

    /// The DM server's ServerID.
    #[arg(long, value_name = "SID")]
    server_id: String,

    /// CLCRED AAuthName: the name the client authenticates with.
    #[arg(long, value_name = "NAME")]
    client_name: String,

    /// CLCRED AAuthSecret.
    #[arg(long, value_name = "SECRET")]
    client_secret: String,

    /// SRVCRED AAuthSecret: the server's secret toward the client.
    #[arg(long, value_name = "SECRET")]
    server_secret: String,

    /// The client's authentication scheme (CLCRED AAuthType and AAuthPref).
    #[arg(long, value_enum, default_value = "digest")]
    auth: Auth,

    /// The encoding of sessions and reports.
    #[arg(long, value_enum, default_value = "wbxml")]
    encoding: Enc,

    /// The account node <X> under ./DMAcc [default: the ServerID with characters other than
    /// letters, digits, '.', '-' and '_' replaced by '_'].
    #[arg(long, value_name = "X")]
    account_node: Option<String>,

    /// Do not create ./FUMO/1.
    #[arg(long)]
    no_fumo: bool,

    /// Replace an existing tree.
    #[arg(long)]
    force: bool,
}

pub fn run(a: &Args) -> Result<()> {
    let p = InitParams {
        device_id: a.device_id.clone(),
        server_url: a.server_url.clone(),
        server_id: a.server_id.clone(),
        client_name: a.client_name.clone(),
        client_secret: a.client_secret.clone(),
        server_secret: a.server_secret.clone(),
        auth: a.auth.scheme(),
        encoding: match a.encoding {
            Enc::Xml => WireEncoding::Xml,
            Enc::Wbxml => WireEncoding::Wbxml,
        },
        account_node: a.account_node.clone(),
        fumo: !a.no_fumo,
    };
    let dir = DeviceDir::new(&a.dir);
    init(&dir, &p, a.force)?;
    let node = a
        .account_node
        .clone()
        .unwrap_or_else(|| default_account_node(&a.server_id));
    println!("{}: device {} initialised", a.dir.display(), a.device_id);
    println!(
        "  ./DMAcc/{node}: ServerID {}, {} (CLCRED {}, SRVCRED {})",
        a.server_id,
        a.server_url,
        p.auth.aauth_type(),
        match p.auth {
            AuthScheme::Hmac => "HMAC",
            _ => "DIGEST",
        }
    );
    if p.fumo {
        println!("  ./FUMO/1: State 10 (Idle)");
    }
    Ok(())
}
