DROP TABLE IF EXISTS two_factor;
ALTER TABLE "user" DROP COLUMN IF EXISTS two_factor_enabled;
