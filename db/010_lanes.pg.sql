-- Outbound delivery shared by several instances on one database (issue 12): the
-- same tables as 010_lanes.sql, with PostgreSQL's types.

CREATE TABLE lanes (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,
    epoch           BIGINT NOT NULL,
    lease_until     DOUBLE PRECISION NOT NULL
);
CREATE INDEX lanes_by_owner ON lanes(owner);

CREATE TABLE send_log (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope TEXT NOT NULL,
    at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX send_log_by_scope ON send_log(scope, at);

ALTER TABLE cards ADD COLUMN render_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN shown_version BIGINT NOT NULL DEFAULT 0;
