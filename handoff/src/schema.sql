CREATE TABLE entries (
    position  INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order, never reused
    key       TEXT    NOT NULL,  -- the dedup key, JSON
    event     TEXT    NOT NULL,  -- the event narrowed to this message, JSON (queued form)
    body      TEXT    NOT NULL,  -- the body exactly as Tencent sent it
    received  INTEGER NOT NULL,  -- when the receiver accepted it, Unix milliseconds
    content   TEXT    NOT NULL,  -- SHA-256 (hex) of what the body says about this message
    conflict  INTEGER NOT NULL DEFAULT 0, -- 1: the key was stored before with other content
    spilled   INTEGER NOT NULL DEFAULT 0, -- 1: written while Redis did not answer, for the stream
    forwarded INTEGER,           -- Unix ms when a spilled entry reached the Redis stream
    done      INTEGER            -- Unix ms when a consumer marked it done
);
CREATE INDEX entries_not_done ON entries (position) WHERE done IS NULL;
CREATE INDEX entries_not_forwarded ON entries (position) WHERE spilled = 1 AND forwarded IS NULL;
CREATE INDEX entries_forwarded ON entries (forwarded) WHERE forwarded IS NOT NULL;
CREATE TABLE claims (
    key     TEXT    NOT NULL,
    content TEXT    NOT NULL,
    claimed INTEGER NOT NULL,    -- Unix ms, purged once older than the dedup window
    PRIMARY KEY (key, content)
) WITHOUT ROWID;
CREATE INDEX claims_by_time ON claims (claimed);
