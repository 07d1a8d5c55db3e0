-- Removals from the Redis session cache (AUTH_SECONDARY_STORAGE=redis) owed
-- after a Redis outage: while a row is here no instance answers from Redis,
-- since a session revoked in the database may still be cached there.
CREATE TABLE IF NOT EXISTS cache_backlog (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL,
    subject    text NOT NULL,
    at         timestamp NOT NULL
);
