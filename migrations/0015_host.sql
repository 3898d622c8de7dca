-- 0015_host.sql: what a long operation found, for people to read after it ended (an
-- evacuation: the instances moved, those that stayed on their host with the reason, the
-- migrations that failed with their errors). A JSON document of the operation's kind; NULL
-- for kinds that have nothing to say beyond state and error.
ALTER TABLE operations ADD COLUMN result jsonb;
