-- Access keys: the secret key is encrypted under the service's master key.
CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    secret_ciphertext BLOB NOT NULL,
    create_at INTEGER NOT NULL
);

-- Tokens: only the SHA-256 hash of a token is kept.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    create_at INTEGER NOT NULL
);

-- One row per (scope, workspace, namespace, name). The scope is the owning
-- project for dedicated groups and '' for built-in ones. version_count,
-- create_at, update_at and description are kept current by every image
-- change in the same transaction, so listings never aggregate images.
CREATE TABLE image_groups (
    id TEXT PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    type TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    read_me TEXT NOT NULL DEFAULT '',
    icon_name TEXT NOT NULL DEFAULT '',
    swr_instance_id TEXT NOT NULL DEFAULT '',
    swr_instance_name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    version_count INTEGER NOT NULL DEFAULT 0 CHECK (version_count >= 0),
    create_at INTEGER NOT NULL,
    update_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX image_groups_key ON image_groups (scope, workspace_id, namespace, name);

-- Serves the default order (update_at descending, namespace, name) for one scope.
-- The listing indexes end in version_count so that listings and counts read
-- them alone: SQLite needs the column to check the partial index's condition.
CREATE INDEX image_groups_listing ON image_groups (scope, workspace_id, update_at DESC, namespace, name, id, version_count)
    WHERE version_count > 0;

-- Serves the namespace filter in the default order.
CREATE INDEX image_groups_by_namespace ON image_groups (scope, workspace_id, namespace, update_at DESC, name, id, version_count)
    WHERE version_count > 0;

-- Serves the exact name filter.
CREATE INDEX image_groups_by_name ON image_groups (scope, workspace_id, name, version_count)
    WHERE version_count > 0;

-- Built-in images have project_id ''. Deleted images stay as rows with
-- deleted = 1 and drop out of every partial index below.
CREATE TABLE images (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    group_id TEXT NOT NULL REFERENCES image_groups (id),
    type TEXT NOT NULL,
    swr_path TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT,
    arch TEXT NOT NULL,
    description TEXT NOT NULL,
    origin TEXT NOT NULL,
    resource_categories TEXT NOT NULL,
    service_type TEXT NOT NULL,
    dev_services TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT NOT NULL,
    flavor_type TEXT,
    swr_instance_id TEXT,
    show_name TEXT,
    show_tag TEXT,
    tags TEXT NOT NULL,
    read_me TEXT,
    size INTEGER NOT NULL,
    create_at INTEGER NOT NULL,
    update_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    -- swr_path without its @digest, if any.
    tag_reference TEXT NOT NULL
);

-- A project registers a tag at most once, pinned to a digest or not;
-- concurrent registrations of the same tag meet here and exactly one wins.
CREATE UNIQUE INDEX images_reference ON images (project_id, tag_reference) WHERE deleted = 0;

-- Serves the default image order (update_at descending, then id) for one scope.
CREATE INDEX images_listing ON images (project_id, workspace_id, update_at DESC, id) WHERE deleted = 0;

-- Serves the per-group recomputation of the earliest and newest image.
CREATE INDEX images_by_group ON images (group_id, create_at) WHERE deleted = 0;
