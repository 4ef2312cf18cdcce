-- Campaigns (issue 7): the same commands queued for many devices in one REST call. Each command a
-- campaign queued names it, so that its progress is one GROUP BY over commands.

CREATE TABLE campaigns (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    created_at BIGINT  NOT NULL,
    specs      TEXT    NOT NULL, -- JSON array of CommandSpec
    devices    BIGINT  NOT NULL,
    commands   BIGINT  NOT NULL
);

ALTER TABLE commands ADD COLUMN campaign_id BIGINT REFERENCES campaigns (id);
CREATE INDEX commands_campaign_state ON commands (campaign_id, state);
