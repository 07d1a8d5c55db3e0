package bunpg

// MigrateSet runs an arbitrary migration set through the real locking and
// recording path, for tests of failure handling.
var MigrateSet = migrateUp

const MigrationLockKey = migrationLockKey
