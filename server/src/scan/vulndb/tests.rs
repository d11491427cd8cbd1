//! Tests of the importers and generations on the real data in `tests/data/vulndata`.
