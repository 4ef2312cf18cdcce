//! `omadm device listen`: the HTTP push receiver.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use omadm_client::agent::listen::{serve, ListenOptions, Listener, DEFAULT_MAX_BODY};
use omadm_client::agent::DeviceDir;
use omadm_client::ui::AutoReject;

pub const LONG_ABOUT: &str = "\
Receive what a DM server pushes to the device, over HTTP.

A server reaches a device outside a session by pushing to it (WAP Push over SMS, or HTTP). This
command listens on ADDR and takes POSTed bodies by their Content-Type:

  application/vnd.syncml.notification      DM 1.2 notification, package #0
  application/vnd.syncml.dm.notification   DM 1.3 notification (provisional layout)
      The digest is checked against the account's SRVCRED (AAuthSecret, and AAuthData as the
      nonce; the zero nonce is tried as resynchronisation); a session id already started is
      ignored. An accepted notification is answered 202 and starts a DM session.
  application/vnd.syncml.dm+wbxml; SEC=<method>; MAC=<hex>
      A bootstrap: HMAC-SHA1 MAC checked with the secrets of [bootstrap] in device.toml
      (network_secret, pin), then the DMAcc account it carries is added and the tree saved.
  application/vnd.syncml.dm+wbxml (with an x-syncml-hmac header)
      A Sessionless Command Message (OMA DM Sessionless 1.3): WBXML only, one DMAcc with the
      SyncHdr Source as ServerID, HMAC-SHA256 over SRVCRED, Final, no Get. Applied as that
      server (its ACLs), the tree saved; no DM answer is sent, the statuses are logged.

Answers: 200 or 202 when accepted; 403 when it does not verify (digest, MAC, credentials); 400
when it does not decode or breaks a rule; 415 for another media type; 413 over --max-body.
Each answer has one line saying why; nothing of a refused body changes the tree. Every event is
printed and appended to DIR/log.

The first line printed is 'listening on <address>' (the port actually bound, for --listen
127.0.0.1:0). Runs until killed.";

/// Listen for pushed notifications, bootstraps and sessionless messages.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The device directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,

    /// User interaction in the sessions notifications start (and the consent a ui-mode 11
    /// notification asks for): auto-accept, auto-reject, tty, or script FILE (read anew for
    /// each session).
    #[arg(long, num_args = 1..=2, value_names = ["MODE", "FILE"], default_value = "auto-accept")]
    ui: Vec<String>,

    /// Largest body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
}

pub fn run(a: &Args) -> Result<()> {
    let dir = DeviceDir::new(&a.dir);
    let config = dir.load_config()?;
    // Fail now, not at the first push, on a missing or corrupt tree.
    dir.read_tree()?;
    let opts = ListenOptions {
        max_body: a.max_body,
        ui: {
            // Fail now on a bad --ui; then one fresh interface per session.
            super::run::user_interface(&a.ui)?;
            let ui = a.ui.clone();
            Arc::new(move || {
                super::run::user_interface(&ui).unwrap_or_else(|_| Box::new(AutoReject))
            })
        },
        ..ListenOptions::default()
    };
    let listener = Listener::new(dir, config, opts, Arc::new(|line| println!("{line}")));
    super::runtime()?.block_on(async {
        let tcp = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = tcp.local_addr().context("bound address")?;
        println!("listening on {addr}");
        serve(tcp, listener)
            .await
            .with_context(|| format!("serving {addr}"))
    })
}
