-- Outbound delivery shared by several instances on one database (issue 12).

-- Who delivers for each conversation: one lease at a time. Each new holder bumps
-- the epoch, and the holder's every write checks (owner, epoch) first, so an
-- instance that lost the lane changes nothing any more. A released lane keeps
-- its row (owner '', lease_until 0), so epochs only grow.
CREATE TABLE lanes (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,
    epoch           INTEGER NOT NULL,
    lease_until     REAL NOT NULL
);
CREATE INDEX lanes_by_owner ON lanes(owner);

-- Teams' rate budgets, for every instance together: one row per call and budget
-- scope ('send <thread>', 'members <thread>', 'tenant <tenant id>'), `at` being the
-- latest the call can have reached Teams (its end; while in flight, its deadline).
CREATE TABLE send_log (
    id    INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    at    REAL NOT NULL
);
CREATE INDEX send_log_by_scope ON send_log(scope, at);

-- Each render of a card gets the next number; `shown_version` is the newest one
-- Teams is known to have taken, and never goes back.
ALTER TABLE cards ADD COLUMN render_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN shown_version INTEGER NOT NULL DEFAULT 0;
