"""The cache in front of every provider read.

* `store`: namespaced TTL caches, single-flight fetches, refresh ahead of expiry.
* `reads`: `CachedReads`, the `Reads` implementation the aggregator uses.
* `freshness`: the age, stale and refreshing marks of one calendar request.
* `invalidation`: the invalidation log in the shared SQLite database.
* `control`: `CacheControl`, the statistics and invalidation API of a running copy.
* `admin`: `is_admin`, the check for admin actions.

Settings are in `sched_tui.config.cache` (``[cache]`` in config.toml).
"""
