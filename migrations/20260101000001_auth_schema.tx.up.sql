-- better-auth's core tables, with the seed plan's snake_case column names.
-- Times are "timestamp" (without time zone) holding UTC, with the seed's
-- "default now()". authd and better-auth always write the times themselves;
-- the defaults hold UTC only for writers whose session TimeZone is UTC.

CREATE TABLE IF NOT EXISTS "user" (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    email          text NOT NULL UNIQUE,
    email_verified boolean NOT NULL DEFAULT false,
    image          text,
    created_at     timestamp NOT NULL DEFAULT now(),
    updated_at     timestamp NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS session (
    id         text PRIMARY KEY,
    expires_at timestamp NOT NULL,
    token      text NOT NULL UNIQUE,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    ip_address text,
    user_agent text,
    user_id    text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS account (
    id                       text PRIMARY KEY,
    account_id               text NOT NULL,
    provider_id              text NOT NULL,
    user_id                  text NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    access_token             text,
    refresh_token            text,
    id_token                 text,
    access_token_expires_at  timestamp,
    refresh_token_expires_at timestamp,
    scope                    text,
    password                 text,
    created_at               timestamp NOT NULL DEFAULT now(),
    updated_at               timestamp NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS verification (
    id         text PRIMARY KEY,
    identifier text NOT NULL,
    value      text NOT NULL,
    expires_at timestamp NOT NULL,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS session_user_id_idx ON session (user_id);
CREATE INDEX IF NOT EXISTS account_user_id_idx ON account (user_id);
CREATE INDEX IF NOT EXISTS verification_identifier_idx ON verification (identifier);
