//! A run of rows inside a batch that decoders share between the files of
//! one group: files hand their rows on as pieces, without slicing (a slice
//! of a ~100-column batch is ~150 allocations), and the writer joins
//! adjacent pieces back into one.

use std::sync::Arc;

use arrow_array::RecordBatch;

/// Rows `offset..offset + len` of `batch` (a batch that decoders share
/// between the files of one group): adjacent pieces of the same batch
/// join into one, so a day's rows reach the encoder in large batches
/// without being copied.
#[derive(Clone, Debug)]
pub(crate) struct Piece {
    batch: RecordBatch,
    offset: usize,
    len: usize,
}

impl Piece {
    /// Rows `offset..offset + len` of `batch`.
    pub(crate) fn new(batch: RecordBatch, offset: usize, len: usize) -> Self {
        Self { batch, offset, len }
    }

    /// Rows in the piece.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The shared batch and the piece's first row in it.
    pub(crate) fn shared(&self) -> (&RecordBatch, usize) {
        (&self.batch, self.offset)
    }

    /// All rows of `batch`.
    pub(crate) fn whole(batch: RecordBatch) -> Self {
        let len = batch.num_rows();
        Self::new(batch, 0, len)
    }

    /// Extends `self` by `next` if `next` starts where `self` ends in the
    /// same shared batch.
    pub(crate) fn join(&mut self, next: &Piece) -> bool {
        let same = match (self.batch.columns().first(), next.batch.columns().first()) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if same && self.offset + self.len == next.offset {
            self.len += next.len;
            true
        } else {
            false
        }
    }

    /// The rows as a batch (zero-copy).
    pub(crate) fn rows(&self) -> RecordBatch {
        if self.offset == 0 && self.len == self.batch.num_rows() {
            self.batch.clone()
        } else {
            self.batch.slice(self.offset, self.len)
        }
    }
}
