-- The janitor deletes expired sessions and verification values in batches,
-- and purges idle rate_limit rows; without these each batch scans its table.
-- A completed password reset deletes the account's rate_limit keys by
-- prefix (starts_with), which only a text_pattern_ops index serves under
-- a non-C collation.
CREATE INDEX IF NOT EXISTS session_expires_at_idx ON session (expires_at);
CREATE INDEX IF NOT EXISTS verification_expires_at_idx ON verification (expires_at);
CREATE INDEX IF NOT EXISTS rate_limit_last_request_idx ON rate_limit (last_request);
CREATE INDEX IF NOT EXISTS rate_limit_key_prefix_idx ON rate_limit (key text_pattern_ops);
