-- The audit table without AUTOINCREMENT: every insert with it also read and rewrote the table's
-- row in sqlite_sequence, one more page in every DM transaction (1.7% of the server's
-- instructions under load, issue 7, docs/performance.md, seventh pass). Audit lines are never
-- deleted, so the largest id plus one, which SQLite gives a plain INTEGER PRIMARY KEY, still
-- only grows. Existing lines keep their ids; the copy is a one-time cost of this upgrade.
CREATE TABLE audit_new (
    id         INTEGER NOT NULL PRIMARY KEY,
    at         BIGINT  NOT NULL,
    device_id  TEXT,
    session_id TEXT,
    event      TEXT    NOT NULL,
    detail     TEXT    NOT NULL
);
INSERT INTO audit_new (id, at, device_id, session_id, event, detail)
    SELECT id, at, device_id, session_id, event, detail FROM audit;
DROP TABLE audit;
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_device ON audit (device_id, id);
