-- The DM server's store on PostgreSQL: the tables and columns of migrations/sqlite/0001_init.sql,
-- with BYTEA for BLOB and identity columns for INTEGER PRIMARY KEY AUTOINCREMENT (a sequence never
-- hands out a value twice, so ids are never reused). Timestamps are seconds since the Unix epoch;
-- JSON columns are TEXT, so both stores read and write the same JSON text.
--
-- Device and session ids use the "C" collation: ordering and paging (devices after an id, sessions
-- by id) are bytewise, as in SQLite, whatever the database's default collation.

CREATE TABLE devices (
    device_id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    client_auth_type   TEXT    NOT NULL, -- basic | digest | hmac
    client_auth_name   TEXT    NOT NULL,
    client_auth_secret TEXT    NOT NULL,
    server_auth_name   TEXT    NOT NULL,
    server_auth_secret TEXT    NOT NULL,
    push_url           TEXT,
    client_nonce       BYTEA   NOT NULL,
    server_nonce       BYTEA   NOT NULL,
    devinfo            TEXT    NOT NULL, -- JSON object, leaf name -> value
    dm_version         TEXT,
    created_at         BIGINT  NOT NULL,
    last_seen          BIGINT
);

CREATE TABLE commands (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    spec       TEXT    NOT NULL, -- JSON CommandSpec
    state      TEXT    NOT NULL, -- queued | sent | done | failed | cancelled
    status     INTEGER,
    results    TEXT    NOT NULL, -- JSON array of ResultItem
    children   TEXT    NOT NULL, -- JSON array of ChildStatus
    session_id TEXT COLLATE "C",
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX commands_device_state ON commands (device_id, state, id);
CREATE INDEX commands_device ON commands (device_id, id);

CREATE TABLE sessions (
    device_id  TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    session_id TEXT COLLATE "C" NOT NULL,
    started_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    ended_at   BIGINT,
    outcome    TEXT,
    messages   BIGINT  NOT NULL,
    state      BYTEA   NOT NULL, -- the engine's SessionState; empty once over
    PRIMARY KEY (device_id, session_id)
);

CREATE TABLE alerts (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    session_id  TEXT COLLATE "C" NOT NULL,
    code        INTEGER NOT NULL,
    correlator  TEXT,
    items       TEXT    NOT NULL, -- JSON array of AlertItem
    received_at BIGINT  NOT NULL
);
CREATE INDEX alerts_device ON alerts (device_id, id);

CREATE TABLE reports (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   TEXT COLLATE "C" NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    items       TEXT    NOT NULL, -- JSON array of AlertItem
    received_at BIGINT  NOT NULL
);
CREATE INDEX reports_device ON reports (device_id, id);

-- Append-only; no foreign key, so lines outlive the device they name.
CREATE TABLE audit (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT  NOT NULL,
    device_id  TEXT COLLATE "C",
    session_id TEXT COLLATE "C",
    event      TEXT    NOT NULL,
    detail     TEXT    NOT NULL -- JSON
);
CREATE INDEX audit_device ON audit (device_id, id);

-- Server settings (the generated admin token, ...).
CREATE TABLE settings (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
