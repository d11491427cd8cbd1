-- Indexes for the console's lists at scale (bench/lists.py: 100,000 artifacts in one repository).
--
-- Whether an artifact is listed on its own (not an index's child, not an accessory) needs its digest and
-- subject. With both in an index, counting a repository's listed artifacts, and finding the newest page, read
-- the index alone instead of every artifact row (each holds its manifest).
-- This one replaces the index on (repository_id, subject_digest), which finds accessories.
CREATE INDEX artifacts_listing ON artifacts (repository_id, subject_digest, digest);
DROP INDEX artifacts_subject;
-- The list's default order (newest push first) and its pulls order, read from an index instead of sorted.
CREATE INDEX artifacts_repository_push ON artifacts (repository_id, push_time, digest, subject_digest);
CREATE INDEX artifacts_repository_pulls ON artifacts (repository_id, pull_count);
-- Total storage (`GET /statistics`) counts each manifest digest once, over every repository.
CREATE INDEX artifacts_digest_size ON artifacts (digest, size);
