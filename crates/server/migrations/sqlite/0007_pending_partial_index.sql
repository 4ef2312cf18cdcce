-- The commands a DM message reads (queued, sent, and those a device accepted for later: done with
-- 202) get an index of their own that holds only them: a partial index, so it stays as small as
-- the queues are, however long the devices' history of done commands grows. Its key, (device_id,
-- id), gives them oldest first without a sort. The index on (device_id, state, status, id) it
-- replaces held every command, and every command a message sent or got an answer for moved in it
-- (an entry deleted and another inserted, on a page of its own in a large index; issue 7,
-- docs/performance.md, eighth pass). A device's whole list and the cascade from devices use
-- (device_id, id) over all commands, which no DM message changes: neither column ever changes.
-- The WHERE clause is the one the statements say (store/sqlite.rs, PENDING_WHERE), word for word:
-- SQLite uses a partial index only for a query whose WHERE clause contains its own.
CREATE INDEX commands_device ON commands (device_id, id);
CREATE INDEX commands_pending ON commands (device_id, id)
    WHERE state IN ('queued', 'sent') OR (state = 'done' AND status = 202);
DROP INDEX commands_device_state_status;
