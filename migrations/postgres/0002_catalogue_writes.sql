-- Counts the catalogue writes of every easel process on this database. Each
-- process advances it after a write and reads it before serving a cached
-- listing, so a listing cached by one replica is not served after another
-- replica's write. Starting at an already called 1 makes the first write
-- change last_value.
CREATE SEQUENCE catalogue_writes;
SELECT setval('catalogue_writes', 1);
