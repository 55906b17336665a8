//! backtrail-synth (under construction).
