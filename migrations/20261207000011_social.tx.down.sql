DROP INDEX IF EXISTS account_provider_account_idx;
