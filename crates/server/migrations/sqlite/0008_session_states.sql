-- A running session's state (the engine's SessionState between two messages) in a table of
-- its own; the sessions row keeps it once the session is over (what answers a repeat of its
-- last message). A running state carries the last answer and the commands awaiting their
-- Status, and is larger than the state it settles to: kept in the sessions row, each row
-- shrank when its session ended, and since new rows go to the table's end the space it gave
-- up never served again (after 3,000 loadtest sessions: 1,503 pages, 64% of them unused).
-- Here the rows of the few running sessions are written, read and deleted on the same few
-- pages, and a sessions row grows once, at the end, to its settled size (618 pages, 14%
-- unused, for the same sessions). store/sqlite/direct.rs and store/sqlite/tx.rs write both
-- (store/sqlite.rs, split_state); issue 7, docs/performance.md, eleventh pass.
CREATE TABLE session_states (
    device_id  TEXT NOT NULL,
    session_id TEXT NOT NULL,
    state      BLOB NOT NULL,
    PRIMARY KEY (device_id, session_id),
    FOREIGN KEY (device_id, session_id)
        REFERENCES sessions (device_id, session_id) ON DELETE CASCADE
);

INSERT INTO session_states (device_id, session_id, state)
    SELECT device_id, session_id, state FROM sessions WHERE ended_at IS NULL;
UPDATE sessions SET state = x'' WHERE ended_at IS NULL;
