-- better-auth's rateLimit model, used when AUTH_RATE_LIMIT_STORAGE=database so
-- that several instances share one budget per client. last_request is a
-- millisecond Unix epoch, as better-auth stores it.
CREATE TABLE IF NOT EXISTS rate_limit (
    key          text PRIMARY KEY,
    count        integer NOT NULL,
    last_request bigint NOT NULL
);
