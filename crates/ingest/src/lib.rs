//! backtrail-ingest (under construction).
