-- The same tables, columns and indexes as the SQLite schema, in PostgreSQL
-- types. Columns that listings sort by use the "C" collation, so rows come
-- back in byte order whatever the database's default collation is, exactly
-- as SQLite orders them.

-- Serves literal substring search on names through trigram GIN indexes.
-- pg_trgm is a trusted extension since PostgreSQL 13, so the owner of the
-- database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Access keys: the secret key is encrypted under the service's master key.
CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    secret_ciphertext BYTEA NOT NULL,
    create_at BIGINT NOT NULL
);

-- Tokens: only the SHA-256 hash of a token is kept.
CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    create_at BIGINT NOT NULL
);

-- One row per (scope, workspace, namespace, name). The scope is the owning
-- project for dedicated groups and '' for built-in ones. version_count,
-- create_at, update_at and description are kept current by every image
-- change in the same transaction, so listings never aggregate images.
CREATE TABLE image_groups (
    id TEXT COLLATE "C" PRIMARY KEY,
    scope TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    type TEXT NOT NULL,
    namespace TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    read_me TEXT NOT NULL DEFAULT '',
    icon_name TEXT NOT NULL DEFAULT '',
    swr_instance_id TEXT NOT NULL DEFAULT '',
    swr_instance_name TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    version_count BIGINT NOT NULL DEFAULT 0 CHECK (version_count >= 0),
    create_at BIGINT NOT NULL,
    update_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX image_groups_key ON image_groups (scope, workspace_id, namespace, name);

-- Serves the default order (update_at descending, namespace, name) for one scope.
CREATE INDEX image_groups_listing ON image_groups (scope, workspace_id, update_at DESC, namespace, name, id)
    WHERE version_count > 0;

-- Serves the namespace filter in the default order.
CREATE INDEX image_groups_by_namespace ON image_groups (scope, workspace_id, namespace, update_at DESC, name, id)
    WHERE version_count > 0;

-- Serves the exact name filter.
CREATE INDEX image_groups_by_name ON image_groups (scope, workspace_id, name)
    WHERE version_count > 0;

-- Serves the substring name filter (LIKE '%needle%').
CREATE INDEX image_groups_name_trgm ON image_groups USING GIN (name gin_trgm_ops)
    WHERE version_count > 0;

-- Built-in images have project_id ''. Deleted images stay as rows with
-- deleted = TRUE and drop out of every partial index below.
CREATE TABLE images (
    id TEXT COLLATE "C" PRIMARY KEY,
    project_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    group_id TEXT NOT NULL REFERENCES image_groups (id),
    type TEXT NOT NULL,
    swr_path TEXT NOT NULL,
    namespace TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    tag TEXT COLLATE "C" NOT NULL,
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
    size BIGINT NOT NULL,
    create_at BIGINT NOT NULL,
    update_at BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    -- swr_path without its @digest, if any.
    tag_reference TEXT NOT NULL
);

-- A project registers a tag at most once, pinned to a digest or not;
-- concurrent registrations of the same tag meet here and exactly one wins.
CREATE UNIQUE INDEX images_reference ON images (project_id, tag_reference) WHERE NOT deleted;

-- Serves the default image order (update_at descending, then id) for one scope.
CREATE INDEX images_listing ON images (project_id, workspace_id, update_at DESC, id) WHERE NOT deleted;

-- Serves the per-group recomputation of the earliest and newest image.
CREATE INDEX images_by_group ON images (group_id, create_at) WHERE NOT deleted;

-- Serves the substring name filter (LIKE '%needle%').
CREATE INDEX images_name_trgm ON images USING GIN (name gin_trgm_ops) WHERE NOT deleted;

-- One row that a preset load locks for its whole transaction, so replicas
-- starting at once load the presets one after the other.
CREATE TABLE preset_loads (
    id SMALLINT PRIMARY KEY CHECK (id = 1)
);
INSERT INTO preset_loads (id) VALUES (1);
