-- The commands a DM message reads (queued, sent, and those a device accepted for later: done with
-- 202) get a partial index of their own, as on SQLite (its migration 0007): it holds only them, so
-- it stays as small as the queues however long the devices' history grows, and its key (device_id,
-- id) gives them oldest first in one index scan, without the three scans and the sort the read
-- needed over (device_id, state, status, id), which it replaces. A device's whole list and the
-- cascade from devices use (device_id, id) over all commands. PostgreSQL uses a partial index for
-- a query whose WHERE clause implies the index's; the read (store/codec.rs, SELECT_PENDING) has
-- this one word for word.
CREATE INDEX commands_device ON commands (device_id, id);
CREATE INDEX commands_pending ON commands (device_id, id)
    WHERE state IN ('queued', 'sent') OR (state = 'done' AND status = 202);
DROP INDEX commands_device_state_status;
