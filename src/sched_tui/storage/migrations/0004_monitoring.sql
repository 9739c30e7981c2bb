-- Monitoring: timed calls and custom events from every running copy, their
-- per-minute rollups, and the state and history of alert rules.
-- Times are Unix epoch milliseconds (UTC).

-- One row per external call, backend function or custom event. `ts_ms` is
-- when the call ended. `success` is NULL for events without an outcome.
-- `rate_limited` is 1 for HTTP 429 answers, which are counted apart from errors.
-- `fields` is a JSON object of custom fields; it never carries URLs or bodies.
CREATE TABLE monitoring_events (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('external', 'function', 'custom')),
    latency_ms REAL,
    success INTEGER,
    status INTEGER,
    rate_limited INTEGER NOT NULL DEFAULT 0,
    pid INTEGER NOT NULL,
    fields TEXT
);

-- Covers every KPI query, so the windows are read from the index alone.
CREATE INDEX monitoring_events_by_time
    ON monitoring_events (ts_ms, kind, name, success, rate_limited, latency_ms);

-- Events older than the raw retention, summed per minute, call name and kind.
-- `failures` excludes 429 answers, which `rate_limited` counts.
CREATE TABLE monitoring_rollups (
    minute_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    calls INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    rate_limited INTEGER NOT NULL,
    latency_count INTEGER NOT NULL,
    latency_sum_ms REAL NOT NULL,
    latency_max_ms REAL,
    PRIMARY KEY (minute_ms, name, kind)
) WITHOUT ROWID;

-- Latency histogram of each rollup row; `bucket` indexes the fixed bucket
-- bounds in sched_tui.monitoring.retention.BUCKET_BOUNDS_MS.
CREATE TABLE monitoring_rollup_buckets (
    minute_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute_ms, name, kind, bucket)
) WITHOUT ROWID;

-- Current state of each alert rule, shared by every copy, so a restart keeps
-- a firing alert firing. `state` is inactive, pending or firing.
CREATE TABLE monitoring_alert_state (
    rule TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('inactive', 'pending', 'firing')),
    active_since_ms INTEGER,
    firing_since_ms INTEGER,
    last_true_ms INTEGER,
    value REAL,
    samples INTEGER,
    evaluated_ms INTEGER,
    acknowledged_ms INTEGER,
    acknowledged_by TEXT,
    history_id INTEGER
);

-- One row per time an alert fired; `resolved_ms` stays NULL while it fires.
CREATE TABLE monitoring_alert_history (
    id INTEGER PRIMARY KEY,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    threshold REAL NOT NULL,
    active_since_ms INTEGER NOT NULL,
    fired_ms INTEGER NOT NULL,
    fired_value REAL,
    resolved_ms INTEGER,
    resolved_value REAL,
    acknowledged_ms INTEGER,
    acknowledged_by TEXT
);

CREATE INDEX monitoring_alert_history_by_time ON monitoring_alert_history (fired_ms);
