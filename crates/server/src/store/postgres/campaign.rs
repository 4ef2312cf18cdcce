//! Campaigns on PostgreSQL: the writes of [`crate::store::Store::create_campaign`] in one
//! transaction.

use sqlx::PgConnection;

use crate::model::{CommandSpec, CommandState, Timestamp};
use crate::store::codec::{self, count, map_constraint, state_text, to_json};
use crate::store::{Campaign, StoreError};

/// The ids of `$1` (a text array) that are not enrolled, in their order.
const UNKNOWN_DEVICES: &str = "SELECT u.d FROM UNNEST($1::text[]) WITH ORDINALITY AS u(d, n) \
     WHERE NOT EXISTS (SELECT 1 FROM devices WHERE device_id = u.d) ORDER BY u.n";
/// One queued command of spec `$2` for each device of `$1`, in their order.
const INSERT_FOR_DEVICES: &str = "INSERT INTO commands (device_id, spec, state, status, results, \
     children, session_id, created_at, updated_at, campaign_id) \
     SELECT u.d, $2, $3, NULL, '[]', '[]', NULL, $4, $4, $5 \
     FROM UNNEST($1::text[]) WITH ORDINALITY AS u(d, n) ORDER BY u.n";

/// Checks every device, then records the campaign and queues its commands, on `conn` (inside a
/// transaction the caller commits).
pub(super) async fn create(
    conn: &mut PgConnection,
    devices: &[String],
    specs: &[CommandSpec],
    now: Timestamp,
) -> Result<Campaign, StoreError> {
    let unknown: Vec<String> = sqlx::query_scalar(UNKNOWN_DEVICES)
        .bind(devices)
        .fetch_all(&mut *conn)
        .await?;
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
    // One statement per spec, each over all the devices in their order: a device's commands get
    // increasing ids in spec order, as queued one by one.
    for spec in &texts {
        sqlx::query(INSERT_FOR_DEVICES)
            .bind(devices)
            .bind(spec)
            .bind(state_text(CommandState::Queued))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| match map_constraint(e, "") {
                // Deleted since the check above, by another transaction.
                StoreError::NoDevice(_) => StoreError::UnknownDevices(Vec::new()),
                other => other,
            })?;
    }
    Ok(Campaign {
        id,
        created_at: now,
        specs: specs.to_vec(),
        devices: devices.len() as u64,
        commands: commands as u64,
    })
}
