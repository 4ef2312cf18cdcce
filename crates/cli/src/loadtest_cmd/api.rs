//! The REST calls of a load test: enroll a device, queue a command (one device, or one command
//! set for many devices), and the bare `GET /healthz` of the baseline.

use anyhow::{bail, Context, Result};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Value};

/// The server's REST API, with the admin token.
#[derive(Clone, Debug)]
pub struct Api {
    client: reqwest::Client,
    /// `http://host:port`, no trailing slash.
    base: String,
    bearer: String,
}

/// Percent-encodes a path segment (device ids hold `:`).
fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Api {
    pub fn new(client: reqwest::Client, base: &str, token: &str) -> Api {
        Api {
            client,
            base: base.to_owned(),
            bearer: format!("Bearer {token}"),
        }
    }

    async fn post(&self, path: &str, body: &Value, want: u16) -> Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let resp = self
            .client
            .post(&url)
            .header(AUTHORIZATION, &self.bearer)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .with_context(|| format!("POST {url}: reading the answer"))?;
        if status != want {
            bail!("POST {url}: HTTP status {status}: {}", text.trim());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /api/v1/devices` (201).
    pub async fn enroll(&self, dev: &Enrollment) -> Result<()> {
        let body = json!({
            "device_id": dev.device_id,
            "client_auth": { "type": dev.auth, "name": dev.client_name, "secret": dev.client_secret },
            "server_auth": { "name": dev.server_name, "secret": dev.server_secret },
        });
        self.post("/devices", &body, 201).await.map(drop)
    }

    /// `POST /api/v1/devices/{id}/commands` (201).
    pub async fn enqueue(&self, device_id: &str, spec: &Value) -> Result<()> {
        self.post(&format!("/devices/{}/commands", seg(device_id)), spec, 201)
            .await
            .map(drop)
    }

    /// `POST /api/v1/bulk/commands` with a device list (201): `specs` queued, in order, for
    /// every device in one store transaction.
    pub async fn bulk_enqueue(&self, devices: &[String], specs: &[Value]) -> Result<()> {
        let body = json!({ "devices": devices, "commands": specs });
        self.post("/bulk/commands", &body, 201).await.map(drop)
    }

    /// `GET /healthz`, expecting 200.
    pub async fn healthz(&self) -> Result<()> {
        let url = format!("{}/healthz", self.base);
        let resp = self
            .client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = resp.status().as_u16();
        // Read the body so the connection goes back to the pool.
        resp.bytes()
            .await
            .with_context(|| format!("GET {url}: reading the answer"))?;
        if status != 200 {
            bail!("GET {url}: HTTP status {status}");
        }
        Ok(())
    }
}

/// What enrolls one simulated device.
#[derive(Clone, Debug)]
pub struct Enrollment {
    pub device_id: String,
    /// `basic`, `digest` or `hmac`.
    pub auth: &'static str,
    pub client_name: String,
    pub client_secret: String,
    pub server_name: String,
    pub server_secret: String,
}

#[cfg(test)]
mod tests {
    use super::seg;

    #[test]
    fn device_ids_are_escaped_in_paths() {
        assert_eq!(seg("LOAD:ab12:7"), "LOAD%3Aab12%3A7");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
