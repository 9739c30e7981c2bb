-- Cache invalidations made by any running copy of the app. Every copy polls for
-- rows with an id above the last one it has read and drops the matching cache
-- entries; rows older than an hour are deleted by whichever copy prunes first.
CREATE TABLE cache_invalidations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'key': a therapist id or provider name; 'namespace': one namespace; 'all'.
    scope TEXT NOT NULL CHECK (scope IN ('key', 'namespace', 'all')),
    key TEXT NOT NULL DEFAULT '',
    -- Unix time in seconds.
    created_at REAL NOT NULL,
    origin_pid INTEGER NOT NULL,
    -- OS user name of whoever asked, for the audit log.
    origin_user TEXT NOT NULL DEFAULT '',
    -- Random token of the running copy that wrote the row, so it can skip its own rows.
    origin TEXT NOT NULL
);
CREATE INDEX cache_invalidations_created_at ON cache_invalidations (created_at);
