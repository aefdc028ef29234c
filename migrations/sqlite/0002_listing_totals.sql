-- The number of non-empty groups and of non-deleted images of each scope
-- (project or built-in, and workspace), kept by every write in its own
-- transaction. A listing without filters reads its total here instead of
-- counting its entries. Each scope's counts are spread over 256 rows, keyed by
-- the last two hexadecimal digits of the group id, so that writers of
-- different groups rarely update the same row.
CREATE TABLE listing_totals (
    scope        TEXT    NOT NULL,
    workspace_id TEXT    NOT NULL,
    shard        TEXT    NOT NULL,
    group_count  INTEGER NOT NULL DEFAULT 0,
    image_count  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, workspace_id, shard)
);

INSERT INTO listing_totals (scope, workspace_id, shard, group_count, image_count)
SELECT scope, workspace_id, shard, SUM(group_count), SUM(image_count) FROM (
    SELECT scope, workspace_id, substr(id, 35, 2) AS shard, COUNT(*) AS group_count, 0 AS image_count
    FROM image_groups WHERE version_count > 0 GROUP BY scope, workspace_id, substr(id, 35, 2)
    UNION ALL
    SELECT project_id, workspace_id, substr(group_id, 35, 2), 0, COUNT(*)
    FROM images WHERE deleted = 0 GROUP BY project_id, workspace_id, substr(group_id, 35, 2)
) AS counts
GROUP BY scope, workspace_id, shard;
