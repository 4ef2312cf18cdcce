//! Campaigns on PostgreSQL: the writes of [`crate::store::Store::create_campaign`] in one
//! transaction.

use sqlx::PgConnection;

use crate::model::{CommandSpec, CommandState, Timestamp};
use crate::store::codec::{self, count, map_constraint, state_text, to_json};
use crate::store::{Campaign, StoreError};

/// Checks every device, then records the campaign and queues its commands, on `conn` (inside a
/// transaction the caller commits).
pub(super) async fn create(
    conn: &mut PgConnection,
    devices: &[String],
    specs: &[CommandSpec],
    now: Timestamp,
) -> Result<Campaign, StoreError> {
    let mut unknown = Vec::new();
    for d in devices {
        if !super::rows::device_exists(conn, d).await? {
            unknown.push(d.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(StoreError::UnknownDevices(unknown));
    }
    let texts = specs
        .iter()
        .map(|s| to_json("spec", s))
        .collect::<Result<Vec<_>, _>>()?;
    let commands = devices.len().saturating_mul(specs.len());
    let id: i64 = sqlx::query_scalar(codec::INSERT_CAMPAIGN)
        .bind(now)
        .bind(to_json("specs", specs)?)
        .bind(count(devices.len()))
        .bind(count(commands))
        .fetch_one(&mut *conn)
        .await?;
    for d in devices {
        for spec in &texts {
            sqlx::query(codec::INSERT_CAMPAIGN_COMMAND)
                .bind(d)
                .bind(spec)
                .bind(state_text(CommandState::Queued))
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(|e| match map_constraint(e, d) {
                    StoreError::NoDevice(d) => StoreError::UnknownDevices(vec![d]),
                    other => other,
                })?;
        }
    }
    Ok(Campaign {
        id,
        created_at: now,
        specs: specs.to_vec(),
        devices: devices.len() as u64,
        commands: commands as u64,
    })
}
