//! backtrail-index (under construction).
