DROP INDEX IF EXISTS rate_limit_key_prefix_idx;
DROP INDEX IF EXISTS rate_limit_last_request_idx;
DROP INDEX IF EXISTS verification_expires_at_idx;
DROP INDEX IF EXISTS session_expires_at_idx;
