-- Social sign-in finds an account by its provider and the provider's subject
-- on every callback (better-auth's findAccountByKey). Not unique: better-auth
-- does not make it so, and rows it wrote must still load.
CREATE INDEX IF NOT EXISTS account_provider_account_idx ON account (provider_id, account_id);
