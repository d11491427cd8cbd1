-- S3-native uploads (server/src/registry/s3_uploads.rs): on an S3 store an upload's bytes go straight into an
-- S3 multipart upload, and everything needed to continue it lives in its row, so any node can take the next
-- chunk. On the filesystem these columns stay at their defaults (the bytes are staged in <data>/uploads/<id>).

-- The SHA-256 of the bytes received so far (storage/resumable_sha256.rs, at most 105 bytes); set only for an
-- S3-native upload, which is how such a session is told apart.
ALTER TABLE upload_sessions ADD COLUMN sha256_state BLOB;
-- The S3 multipart upload, created with the first whole part.
ALTER TABLE upload_sessions ADD COLUMN multipart_id TEXT;
-- Bytes per part, fixed for the upload's life.
ALTER TABLE upload_sessions ADD COLUMN part_size INTEGER NOT NULL DEFAULT 0;
-- Bytes received and saved: the parts plus the tail. A chunk is saved by an UPDATE that names the old value.
ALTER TABLE upload_sessions ADD COLUMN received INTEGER NOT NULL DEFAULT 0;
-- Bytes held in the tail object uploads/<id>/tail-<received>.
ALTER TABLE upload_sessions ADD COLUMN tail_len INTEGER NOT NULL DEFAULT 0;
-- Bytes the session holds or is writing: what the per-project staging cap adds up.
ALTER TABLE upload_sessions ADD COLUMN staged INTEGER NOT NULL DEFAULT 0;
-- The node appending to the session, until when: one writer at a time, taken over when a node dies.
ALTER TABLE upload_sessions ADD COLUMN lease_owner TEXT;
ALTER TABLE upload_sessions ADD COLUMN lease_until TEXT;

-- The parts of an S3-native upload and the ETags S3 gave them: completing the upload names these, never
-- what an S3 listing says.
CREATE TABLE upload_parts (
    upload_id   TEXT    NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    etag        TEXT    NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

-- Where a blob's bytes are, under the store's prefix, when not at blobs/<algorithm>/<xx>/<hex>: an S3-native
-- upload's object (uploads/<id>/data), which is never copied at commit.
ALTER TABLE blobs ADD COLUMN object_key TEXT;
CREATE INDEX blobs_object_key ON blobs (object_key);
