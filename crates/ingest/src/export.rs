//! The stored records back as JSON lines, each equal as JSON to the record
//! that came in: committed data files in manifest order, rows in stored
//! order. Orphans of a killed run are not committed and not exported.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::Error;
use crate::manifest::read_manifest;
use crate::rebuild::rebuild_row;

/// Writes every stored record to `out`, one JSON object a line. Returns
/// the number of records written.
pub fn export(dataset: &Path, out: &mut dyn Write) -> Result<u64, Error> {
    let m = read_manifest(dataset)?;
    let mut n = 0u64;
    let mut line = Vec::new();
    for d in &m.data_files {
        let path = dataset.join(&d.path);
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.with_batch_size(8192).build())
            .map_err(|e| Error::parquet(&path, e))?;
        let mut row_base = 0;
        for batch in reader {
            let batch = batch?;
            for r in 0..batch.num_rows() {
                let v = rebuild_row(&batch, r).map_err(|msg| Error::Rebuild {
                    path: path.clone(),
                    row: row_base + r,
                    msg,
                })?;
                line.clear();
                serde_json::to_writer(&mut line, &v).map_err(|e| Error::Output(e.into()))?;
                line.push(b'\n');
                out.write_all(&line).map_err(Error::Output)?;
                n += 1;
            }
            row_base += batch.num_rows();
        }
    }
    out.flush().map_err(Error::Output)?;
    Ok(n)
}
