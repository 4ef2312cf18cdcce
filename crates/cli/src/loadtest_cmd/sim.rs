//! One simulated device: its management tree in memory, and a whole DM session of it driven by
//! the sans-IO client engine over the shared HTTP transport.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use omadm_client::agent::init::{factory_tree, InitParams};
use omadm_client::agent::transport::Transport;
use omadm_client::agent::WireEncoding;
use omadm_client::session::{Env, Event, Incoming, Outcome, Session, SessionConfig, Step};
use omadm_client::ui::AutoAccept;
use omadm_security::cred::AuthScheme;
use omadm_tree::format::NodeFormat;
use omadm_tree::plugin::Plugins;
use omadm_tree::uri::Property;
use omadm_tree::{Caller, Tree};
use serde_json::{json, Value};

use super::api::Enrollment;

/// A session that has not ended after this many messages is a failure (a loop, not a load).
pub const MAX_MESSAGES: usize = 100;

/// The leaf the queued Replace and Get work on.
pub const VENDOR_LEAF: &str = "./Vendor/LoadTest";

/// A simulated device: the tree persists across its sessions, so the nonces the server hands
/// out (digest, HMAC) are used in the next session, as on a real device.
pub struct Device {
    pub id: String,
    tree: Tree,
    /// Sessions run so far (the next SessionID).
    sessions: u32,
}

/// What one session did.
pub struct SessionRun {
    /// HTTP round trips (messages the client POSTed).
    pub messages: usize,
    pub latency: Duration,
    /// `Err` with why, when the session failed.
    pub result: Result<()>,
}

impl Device {
    /// The factory tree of `omadm device init` (DevInfo, DevDetail, Inbox, one DMAcc with CLCRED
    /// and SRVCRED), plus `./Vendor/LoadTest`, which the server may Get and Replace.
    pub fn new(
        e: &Enrollment,
        server_id: &str,
        dm_url: &str,
        scheme: AuthScheme,
        encoding: WireEncoding,
    ) -> Result<Device> {
        let mut tree = factory_tree(&InitParams {
            device_id: e.device_id.clone(),
            server_url: dm_url.to_owned(),
            server_id: server_id.to_owned(),
            client_name: e.client_name.clone(),
            client_secret: e.client_secret.clone(),
            server_secret: e.server_secret.clone(),
            auth: scheme,
            encoding,
            account_node: None,
            fumo: false,
        })?;
        tree.add(Caller::Device, "./Vendor", NodeFormat::Node, None, b"")?;
        tree.replace_prop(
            Caller::Device,
            "./Vendor",
            Property::Acl,
            &format!("Get={server_id}&Replace={server_id}"),
        )?;
        tree.add(Caller::Device, VENDOR_LEAF, NodeFormat::Chr, None, b"0")?;
        Ok(Device {
            id: e.device_id.clone(),
            tree,
            sessions: 0,
        })
    }

    /// The `i`-th command queued before session `session`: Get of DevInfo/Mod, Replace of the
    /// vendor leaf, Get of it, in turn (each answered 200 by a well-configured device).
    pub fn command(&self, i: usize) -> Value {
        match i % 3 {
            0 => json!({ "op": "Get", "target": "./DevInfo/Mod" }),
            1 => json!({
                "op": "Replace",
                "target": VENDOR_LEAF,
                "format": "chr",
                "type": "text/plain",
                "data": format!("s{}c{i}", self.sessions),
            }),
            _ => json!({ "op": "Get", "target": VENDOR_LEAF }),
        }
    }

    /// Runs one client-initiated session to its end.
    pub async fn session(
        &mut self,
        transport: &Transport,
        server_id: &str,
        encoding: WireEncoding,
    ) -> SessionRun {
        let start = Instant::now();
        let mut messages = 0;
        let result = self
            .drive(transport, server_id, encoding, &mut messages)
            .await;
        SessionRun {
            messages,
            latency: start.elapsed(),
            result,
        }
    }

    async fn drive(
        &mut self,
        transport: &Transport,
        server_id: &str,
        encoding: WireEncoding,
        messages: &mut usize,
    ) -> Result<()> {
        self.sessions += 1;
        // SessionID 1..FFFF, different from the last one (DM Protocol 1.3 §6.2).
        let session_id = format!("{:X}", (self.sessions - 1) % 0xFFFF + 1);
        let mut cfg = SessionConfig::new(server_id, session_id);
        cfg.encoding = encoding.encoding();
        let mut session = Session::new(&self.tree, cfg)?;
        let mut out = session.start(&self.tree)?;
        let mut plugins = Plugins::default();
        let mut ui = AutoAccept;
        let outcome = loop {
            if *messages >= MAX_MESSAGES {
                return Err(anyhow!("no end after {MAX_MESSAGES} messages"));
            }
            *messages += 1;
            let resp = transport
                .post(&out.url, out.body, out.content_type, out.hmac)
                .await?;
            let now = now_secs();
            self.tree.set_now(now);
            let env = Env {
                tree: &mut self.tree,
                plugins: &mut plugins,
                ui: &mut ui,
                now,
            };
            let step = session.receive(
                env,
                Incoming {
                    body: &resp.body,
                    hmac: resp.hmac.as_deref(),
                },
            );
            match step {
                Ok(Step::Send(next)) => out = next,
                Ok(Step::End(outcome)) => break outcome,
                Err(e) => {
                    // Tell the server (Alert 1223), best effort; the session failed either way.
                    if !session.is_ended() {
                        if let Ok(a) = session.abort(&mut self.tree) {
                            let _ = transport.post(&a.url, a.body, a.content_type, a.hmac).await;
                        }
                    }
                    return Err(e.into());
                }
            }
        };
        if outcome != Outcome::Completed {
            return Err(anyhow!("session ended {outcome:?}"));
        }
        // A command refused by the device is a misconfigured load, not a success.
        for ev in session.take_events() {
            if let Event::Command { cmd, uri, code, .. } = ev {
                if !(200..300).contains(&code) {
                    return Err(anyhow!(
                        "{cmd} {} answered {code}",
                        uri.as_deref().unwrap_or("-")
                    ));
                }
            }
        }
        Ok(())
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
