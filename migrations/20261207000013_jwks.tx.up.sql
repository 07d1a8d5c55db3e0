-- better-auth's jwt plugin keys (issue 13), snake_case like the other tables.
-- public_key is the public JWK's JSON; private_key the private JWK sealed with
-- the app secret (a JSON string of hex). A NULL expires_at never expires; a
-- NULL alg means EdDSA. Keys are made on first use, never here.
CREATE TABLE IF NOT EXISTS jwks (
    id          text PRIMARY KEY,
    public_key  text NOT NULL,
    private_key text NOT NULL,
    created_at  timestamp NOT NULL,
    expires_at  timestamp,
    alg         text,
    crv         text
);
