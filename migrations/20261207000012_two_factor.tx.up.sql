-- better-auth's twoFactor plugin: the user's flag and one two_factor row per
-- enrolled user. secret and backup_codes are sealed with the app secret
-- (better-auth's symmetricEncrypt). verified and failed_verification_count
-- stay nullable as better-auth declares them (not required, with a
-- default); readers take NULL as true and 0.
ALTER TABLE "user" ADD COLUMN IF NOT EXISTS two_factor_enabled boolean NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS two_factor (
    id                        text PRIMARY KEY,
    secret                    text NOT NULL,
    backup_codes              text NOT NULL,
    user_id                   text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    verified                  boolean DEFAULT true,
    failed_verification_count integer DEFAULT 0,
    locked_until              timestamp
);
CREATE INDEX IF NOT EXISTS two_factor_secret_idx ON two_factor (secret);
CREATE INDEX IF NOT EXISTS two_factor_user_id_idx ON two_factor (user_id);
