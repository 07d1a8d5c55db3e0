DROP TABLE IF EXISTS cache_backlog;
