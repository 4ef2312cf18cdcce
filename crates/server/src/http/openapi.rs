//! `GET /api/v1/openapi.json`: the OpenAPI 3.0 description of the REST API.

use axum::Json;
use serde_json::{json, Value};

pub(super) async fn document() -> Json<Value> {
    Json(spec())
}

fn id_param(name: &str, what: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": what, "schema": { "type": if name == "cid" { "integer" } else { "string" } } })
}

fn ok(desc: &str, schema: Value) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": schema } } })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn array_of(name: &str) -> Value {
    json!({ "type": "array", "items": reference(name) })
}

/// The document (also used by the tests to check every route is described).
pub fn spec() -> Value {
    let dev = id_param("id", "DevInfo/DevId of the device (URL-encoded)");
    let cid = id_param("cid", "the command id returned when it was queued");
    let err = json!({ "description": "error", "content": { "application/json": { "schema": reference("Error") } } });
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "omadm server API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Manage OMA DM 1.3 devices: enroll them, queue DM commands (sent in their next session), read statuses, results, alerts, sessionless reports and sessions, and push notifications, sessionless command messages and bootstraps. Every path but this document needs `Authorization: Bearer <admin token>`."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "string" } }, "required": ["error"] },
                "NewDevice": {
                    "type": "object", "required": ["device_id", "client_auth", "server_auth"],
                    "properties": {
                        "device_id": { "type": "string", "description": "DevInfo/DevId, the SyncHdr Source of the device" },
                        "client_auth": { "type": "object", "required": ["type", "name", "secret"], "properties": {
                            "type": { "type": "string", "enum": ["basic", "digest", "hmac"] },
                            "name": { "type": "string" }, "secret": { "type": "string" } } },
                        "server_auth": { "type": "object", "required": ["name", "secret"], "properties": {
                            "name": { "type": "string" }, "secret": { "type": "string" } } },
                        "push_url": { "type": "string", "description": "where notifications, sessionless messages and bootstraps are POSTed" }
                    }
                },
                "Device": {
                    "type": "object",
                    "properties": {
                        "device_id": { "type": "string" },
                        "client_auth": { "type": "object", "properties": { "type": { "type": "string" }, "name": { "type": "string" } } },
                        "server_auth_name": { "type": "string" },
                        "push_url": { "type": "string", "nullable": true },
                        "devinfo": { "type": "object", "additionalProperties": { "type": "string" } },
                        "dm_version": { "type": "string", "nullable": true },
                        "created_at": { "type": "integer" },
                        "last_seen": { "type": "integer", "nullable": true }
                    }
                },
                "CommandSpec": {
                    "type": "object", "required": ["op"],
                    "properties": {
                        "op": { "type": "string", "enum": ["Get", "Add", "Replace", "Delete", "Exec", "Copy", "Alert", "Atomic", "Sequence"] },
                        "target": { "type": "string" }, "source": { "type": "string" },
                        "data": { "type": "string" }, "format": { "type": "string" }, "type": { "type": "string" },
                        "code": { "type": "integer", "description": "Alert code (1100-1104: user interaction)" },
                        "options": { "type": "string", "description": "user interaction options, e.g. MINDT=10&MAXDT=30" },
                        "choices": { "type": "array", "items": { "type": "string" } },
                        "correlator": { "type": "string" },
                        "commands": { "type": "array", "items": { "$ref": "#/components/schemas/CommandSpec" } }
                    }
                },
                "ResultItem": { "type": "object", "properties": { "source": { "type": "string" }, "format": { "type": "string" }, "type": { "type": "string" }, "data": { "type": "string" } } },
                "Command": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" },
                        "state": { "type": "string", "enum": ["queued", "sent", "done", "failed", "cancelled"] },
                        "status": { "type": "integer", "nullable": true, "description": "the DM status code the device answered" },
                        "results": array_of("ResultItem"),
                        "children": { "type": "array", "items": { "type": "object", "properties": { "index": { "type": "integer" }, "status": { "type": "integer" } } } },
                        "session_id": { "type": "string", "nullable": true },
                        "spec": reference("CommandSpec"),
                        "created_at": { "type": "integer" }, "updated_at": { "type": "integer" }
                    }
                },
                "AlertItem": { "type": "object", "properties": { "source": { "type": "string" }, "target": { "type": "string" }, "type": { "type": "string" }, "format": { "type": "string" }, "mark": { "type": "string" }, "data": { "type": "string" } } },
                "Alert": { "type": "object", "properties": { "id": { "type": "integer" }, "device_id": { "type": "string" }, "session_id": { "type": "string" }, "code": { "type": "integer" }, "correlator": { "type": "string" }, "items": array_of("AlertItem"), "received_at": { "type": "integer" } } },
                "Report": { "type": "object", "properties": { "id": { "type": "integer" }, "device_id": { "type": "string" }, "items": array_of("AlertItem"), "received_at": { "type": "integer" } } },
                "Session": { "type": "object", "properties": { "device_id": { "type": "string" }, "session_id": { "type": "string" }, "started_at": { "type": "integer" }, "updated_at": { "type": "integer" }, "ended_at": { "type": "integer", "nullable": true }, "outcome": { "type": "string", "nullable": true }, "messages": { "type": "integer" } } },
                "AuditEntry": { "type": "object", "properties": { "id": { "type": "integer" }, "at": { "type": "integer" }, "device_id": { "type": "string" }, "session_id": { "type": "string" }, "event": { "type": "string" }, "detail": { "type": "object" } } }
            }
        },
        "security": [ { "bearer": [] } ],
        "paths": {
            "/devices": {
                "post": { "summary": "Enroll a device", "requestBody": { "required": true, "content": { "application/json": { "schema": reference("NewDevice") } } },
                          "responses": { "201": ok("enrolled", reference("Device")), "400": err, "409": err } },
                "get": { "summary": "List devices in id order, with their queue counts and session state; filtered by q, devinfo.<Leaf> and dm_version (a filtered list scans at most 20000 devices per call; when it stops early the X-Scanned-Through header names the last device scanned, to pass as after)", "parameters": [
                            { "name": "after", "in": "query", "schema": { "type": "string" }, "description": "the last device id of the previous page" },
                            { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } },
                            { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "a substring (any case) of the device id or of any DevInfo value" },
                            { "name": "devinfo.Man", "in": "query", "schema": { "type": "string" }, "description": "devinfo.<Leaf>=<value>: a substring (any case) of that DevInfo leaf's value (any leaf name; Man shown as the example)" },
                            { "name": "dm_version", "in": "query", "schema": { "type": "string" }, "description": "e.g. DM/1.3" } ],
                         "responses": { "200": ok("devices", array_of("DeviceRow")), "400": err } }
            },
            "/devices/{id}": {
                "get": { "summary": "One device", "parameters": [dev], "responses": { "200": ok("the device", reference("DeviceRow")), "404": err } },
                "delete": { "summary": "Remove a device and its records", "parameters": [dev], "responses": { "204": { "description": "removed" }, "404": err } }
            },
            "/devices/{id}/commands": {
                "post": { "summary": "Queue a command for the next session", "parameters": [dev],
                          "requestBody": { "required": true, "content": { "application/json": { "schema": reference("CommandSpec") } } },
                          "responses": { "201": ok("queued", json!({ "type": "object", "properties": { "id": { "type": "integer" } } })), "400": err, "404": err } },
                "get": { "summary": "The device's commands", "parameters": [dev], "responses": { "200": ok("commands", array_of("Command")), "404": err } }
            },
            "/devices/{id}/commands/{cid}": {
                "get": { "summary": "One command: state, DM status, results", "parameters": [dev, cid], "responses": { "200": ok("the command", reference("Command")), "404": err } },
                "delete": { "summary": "Cancel a command still queued", "parameters": [dev, cid], "responses": { "204": { "description": "cancelled" }, "409": err } }
            },
            "/devices/{id}/alerts": { "get": { "summary": "Alerts the device sent (1226 Generic Alerts, 1227-1229...)", "parameters": [dev], "responses": { "200": ok("alerts", array_of("Alert")), "404": err } } },
            "/devices/{id}/reports": { "get": { "summary": "Sessionless reports (Alert 1230) that authenticated", "parameters": [dev], "responses": { "200": ok("reports", array_of("Report")), "404": err } } },
            "/devices/{id}/sessions": { "get": { "summary": "The device's DM sessions", "parameters": [dev], "responses": { "200": ok("sessions", array_of("Session")), "404": err } } },
            "/devices/{id}/notify": { "post": { "summary": "Push a DM 1.2 notification (package #0) to the device's push_url",
                "parameters": [dev],
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "properties": {
                    "ui_mode": { "type": "string", "enum": ["not-specified", "background", "informative", "user-interaction"] },
                    "session_id": { "type": "integer", "minimum": 1, "maximum": 65535 } } } } } },
                "responses": { "200": ok("pushed", json!({ "type": "object", "properties": { "session_id": { "type": "string" }, "push_status": { "type": "integer" } } })), "400": err, "404": err, "502": err } } },
            "/devices/{id}/sessionless": { "post": { "summary": "Build a signed WBXML sessionless command message (no Get) and push it",
                "parameters": [dev],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["commands"], "properties": { "commands": { "type": "array", "items": reference("CommandSpec") } } } } } },
                "responses": { "200": ok("pushed", json!({ "type": "object", "properties": { "bytes": { "type": "integer" }, "push_status": { "type": "integer" } } })), "400": err, "404": err, "502": err } } },
            "/devices/{id}/bootstrap": { "post": { "summary": "Build a bootstrap (DMAcc for this server, MAC per SEC) and push it",
                "parameters": [dev],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["sec", "addr"], "properties": {
                    "sec": { "type": "string", "enum": ["NETWORKID", "USERPIN", "USERPIN_NETWORKID"] },
                    "network_secret": { "type": "string" }, "pin": { "type": "string" }, "addr": { "type": "string" }, "node": { "type": "string" } } } } } },
                "responses": { "200": ok("pushed", json!({ "type": "object" })), "400": err, "404": err, "502": err } } },
            "/audit": { "get": { "summary": "The append-only audit log", "parameters": [
                    { "name": "device_id", "in": "query", "schema": { "type": "string" } },
                    { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 10000 } } ],
                "responses": { "200": ok("entries", array_of("AuditEntry")) } } },
            "/openapi.json": { "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OpenAPI 3.0 document" } } } }
        }
    });
    add_bulk(&mut doc, &err);
    add_dashboard(&mut doc, &dev, &err);
    doc
}

/// What the dashboard reads besides the device records: the tree view, statistics, events.
fn add_dashboard(doc: &mut Value, dev: &Value, err: &Value) {
    let mut row = doc["components"]["schemas"]["Device"].clone();
    row["properties"]["queued"] =
        json!({ "type": "integer", "description": "commands waiting for the next session" });
    row["properties"]["sent"] =
        json!({ "type": "integer", "description": "commands sent, with no Status yet" });
    row["properties"]["in_session"] = json!({ "type": "boolean", "description": "a session is open and had a message in the last 5 minutes" });
    doc["components"]["schemas"]["DeviceRow"] = row;
    doc["components"]["schemas"]["TreeNode"] = json!({ "type": "object", "properties": {
        "name": { "type": "string" }, "uri": { "type": "string", "description": ". for the root, else ./A/B" },
        "format": { "type": "string", "nullable": true }, "type": { "type": "string", "nullable": true },
        "data": { "type": "string", "nullable": true },
        "command_id": { "type": "integer", "nullable": true, "description": "the command that last told the server about the node" },
        "updated_at": { "type": "integer", "nullable": true },
        "truncated": { "type": "boolean", "description": "on the root only, when the view was cut at 20000 nodes" },
        "children": { "type": "array", "items": { "$ref": "#/components/schemas/TreeNode" } } } });
    doc["paths"]["/devices/{id}/tree"] = json!({ "get": {
        "summary": "The server's view of the device's tree: the Results of its answered Gets (a ?list=StructData Get gives a subtree), then the Adds, Replaces and Deletes it acknowledged, oldest first",
        "parameters": [dev], "responses": { "200": ok("the root node", reference("TreeNode")), "404": err } } });
    doc["paths"]["/stats"] = json!({ "get": {
        "summary": "Sessions started and commands done and failed in each of the last N minutes, oldest first",
        "parameters": [{ "name": "minutes", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1440, "default": 60 } }],
        "responses": { "200": ok("per minute", json!({ "type": "object", "properties": {
            "now": { "type": "integer" },
            "minutes": { "type": "array", "items": { "type": "object", "properties": {
                "t": { "type": "integer", "description": "the minute's first second" },
                "sessions": { "type": "integer" }, "done": { "type": "integer" }, "failed": { "type": "integer" } } } } } })),
            "400": err } } });
    doc["paths"]["/events"] = json!({ "get": {
        "summary": "Server-sent events of what this server handles, as it happens (not stored; each replica streams its own): session {device_id, session_id, message, ended, outcome, at}, alert {device_id, session_id, code, at}, report {device_id, at}, command {device_id, id, state, status, at}, device {device_id, change: enrolled|deleted, at}; lagged {missed} when the reader fell behind",
        "responses": { "200": { "description": "an event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } } } } });
}

/// The campaign paths and schemas (`/bulk/...`, see `bulk.rs`).
fn add_bulk(doc: &mut Value, err: &Value) {
    let states = json!({ "type": "object", "description": "how many of the campaign's commands are in each state", "properties": {
        "queued": { "type": "integer" }, "sent": { "type": "integer" }, "done": { "type": "integer" },
        "failed": { "type": "integer" }, "cancelled": { "type": "integer" } } });
    let campaign = json!({ "type": "object", "properties": {
        "id": { "type": "integer" }, "created_at": { "type": "integer" },
        "specs": { "type": "array", "items": reference("CommandSpec") },
        "devices": { "type": "integer" }, "commands": { "type": "integer" } } });
    let mut progress = campaign.clone();
    progress["properties"]["states"] = states;
    let request = json!({ "type": "object", "required": ["commands"],
        "description": "exactly one of devices and filter; at most 100000 devices and 100 commands",
        "properties": {
            "devices": { "type": "array", "items": { "type": "string" }, "description": "device ids; any unknown one fails the call (404) and nothing is queued" },
            "filter": { "type": "object", "properties": {
                "devinfo": { "type": "object", "additionalProperties": { "type": "string" }, "description": "DevInfo leaf values a device must all have, e.g. {\"Mod\": \"X\"}" },
                "dm_version": { "type": "string", "description": "e.g. DM/1.2" } } },
            "commands": { "type": "array", "items": reference("CommandSpec") } } });
    let camp = json!({ "name": "id", "in": "path", "required": true, "description": "the campaign id", "schema": { "type": "integer" } });
    doc["components"]["schemas"]["Campaign"] = campaign;
    doc["components"]["schemas"]["CampaignProgress"] = progress;
    doc["paths"]["/bulk/commands"] = json!({ "post": {
        "summary": "Queue the same commands for a list of devices or the devices a DevInfo filter selects, in one transaction (a campaign)",
        "requestBody": { "required": true, "content": { "application/json": { "schema": request } } },
        "responses": { "201": ok("queued", json!({ "type": "object", "properties": {
            "campaign": { "type": "integer" }, "devices": { "type": "integer" }, "commands": { "type": "integer" } } })),
            "400": err, "404": err } } });
    doc["paths"]["/bulk/campaigns"] = json!({ "get": { "summary": "List campaigns", "parameters": [
            { "name": "after", "in": "query", "schema": { "type": "integer" } },
            { "name": "limit", "in": "query", "schema": { "type": "integer", "maximum": 1000 } } ],
        "responses": { "200": ok("campaigns", array_of("Campaign")) } } });
    doc["paths"]["/bulk/campaigns/{id}"] = json!({
        "get": { "summary": "A campaign and its progress (commands per state)", "parameters": [camp.clone()],
                 "responses": { "200": ok("the campaign", reference("CampaignProgress")), "404": err } },
        "delete": { "summary": "Cancel the campaign's commands still queued", "parameters": [camp],
                    "responses": { "200": ok("cancelled", json!({ "type": "object", "properties": {
                        "campaign": { "type": "integer" }, "cancelled": { "type": "integer" } } })), "404": err } } });
}
