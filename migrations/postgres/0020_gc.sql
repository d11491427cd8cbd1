-- Online garbage collection (`server/src/gc/`, queries in `server/src/db/gc.rs`).
--
-- A blob row is `live` or `deleting`. The sweep claims an unreferenced blob with one conditional UPDATE
-- (live → deleting, re-checking "no link, no artifact reference, linked before the grace cutoff" in the same
-- statement), then deletes its file, then its row. Every path that links a blob first touches its row with
-- `UPDATE … SET linked_at = now WHERE state = 'live'` (the row lock on PostgreSQL), so a link and a claim
-- exclude each other: a link never lands on a blob being deleted (it is refused, and the client uploads
-- again), and a claim never takes a blob linked since its cutoff. A crash leaves `deleting` rows, which the
-- next collection finishes first.
ALTER TABLE blobs ADD COLUMN state TEXT COLLATE "C" NOT NULL DEFAULT 'live';
-- When a repository, manifest or proxy-cache fetch last linked the blob (its creation at first).
ALTER TABLE blobs ADD COLUMN linked_at TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE blobs SET linked_at = created_at;
CREATE INDEX blobs_deleting ON blobs (state, digest);
-- The sweep's "no repository links it" check, by digest.
CREATE INDEX repository_blobs_digest ON repository_blobs (digest);
