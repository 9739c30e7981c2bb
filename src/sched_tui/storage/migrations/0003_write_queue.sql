-- The durable queue of writes to external systems (bookings, reschedules, cancels).
-- Times are Unix seconds (UTC) as REAL, so they compare and sort as numbers.
CREATE TABLE api_write_queue (
    job_id TEXT PRIMARY KEY,
    target_system TEXT NOT NULL,
    operation TEXT NOT NULL CHECK (operation IN ('create', 'reschedule', 'cancel')),
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processing', 'processed', 'failed')),
    -- Sends that reached an outcome (success, error or timeout).
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    -- Calendar item the write is about (appointment or slot id), so the TUI can mark and revert it.
    subject_id TEXT,
    -- The lease of the worker that claimed the job; NULL unless status is 'processing'.
    lease_token TEXT,
    lease_owner TEXT,
    lease_expires_at REAL,
    -- 1 once the current lease holder has started the call, so the request may have reached
    -- the target; reset by every claim.
    in_flight INTEGER NOT NULL DEFAULT 0,
    -- Leases that expired while the call was in flight (the worker died or stalled).
    takeovers INTEGER NOT NULL DEFAULT 0,
    -- 1 when an earlier call may have reached the target: the next attempt checks the
    -- target before sending again.
    ambiguous INTEGER NOT NULL DEFAULT 0,
    -- JSON the target returned on success, such as the new appointment id.
    result TEXT,
    -- Set when staff cancelled the job; such a job is 'failed' and never sent.
    cancelled_at REAL
);

-- Claims read pending jobs in due order; the recovery sweep reads expired leases.
CREATE INDEX api_write_queue_due ON api_write_queue (next_attempt_at) WHERE status = 'pending';
CREATE INDEX api_write_queue_lease ON api_write_queue (lease_expires_at) WHERE status = 'processing';
CREATE INDEX api_write_queue_created ON api_write_queue (created_at);

-- Per-target state shared by every processor on this database.
CREATE TABLE api_write_targets (
    target_system TEXT PRIMARY KEY,
    -- No request goes to the target before this time (set from a 429's Retry-After).
    paused_until REAL NOT NULL DEFAULT 0,
    pause_reason TEXT,
    -- Earliest time of the next request under the target's rate limit.
    next_send_at REAL NOT NULL DEFAULT 0
);

-- Outcomes in commit order, so every process (TUI, worker) can follow them by sequence number.
CREATE TABLE api_write_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at REAL NOT NULL
);

CREATE TRIGGER api_write_queue_outcome
AFTER UPDATE OF status ON api_write_queue
WHEN NEW.status IN ('processed', 'failed') AND OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO api_write_events (job_id, status, at) VALUES (NEW.job_id, NEW.status, NEW.updated_at);
END;
