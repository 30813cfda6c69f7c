//! The spill file: where samples go when SQLite cannot take them and the in-memory queue is
//! full. One JSON object per line; replayed (idempotently) when the database accepts writes.

use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::sample::{Sample, Stored, quality_code, quality_from_code};

#[derive(Serialize, Deserialize)]
struct Line {
    t: i64,
    s: i64,
    q: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
}

pub fn spill_path(db: &Path) -> PathBuf {
    db.with_extension("spill")
}

/// Append samples to the spill file.
pub fn append(path: &Path, samples: impl IntoIterator<Item = Sample>) -> std::io::Result<usize> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let mut w = BufWriter::new(file);
    let mut n = 0;
    for s in samples {
        let (v, x) = match s.value {
            Stored::None => (None, None),
            Stored::Number(v) => (Some(v), None),
            Stored::Text(t) => (None, Some(t.to_string())),
        };
        let line = Line {
            t: s.tag,
            s: s.ts_ms,
            q: quality_code(s.quality),
            v,
            x,
        };
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
        n += 1;
    }
    w.flush()?;
    w.get_ref().sync_data()?;
    Ok(n)
}

/// Read every sample in the spill file (lines that do not parse — a torn last line after a
/// crash — are skipped and counted).
pub fn read_all(path: &Path) -> std::io::Result<(Vec<Sample>, usize)> {
    let file = File::open(path)?;
    let mut out = Vec::new();
    let mut broken = 0;
    for line in BufReader::new(file).lines() {
        let line = line?;
        match serde_json::from_str::<Line>(&line) {
            Ok(l) => out.push(Sample {
                tag: l.t,
                ts_ms: l.s,
                quality: quality_from_code(l.q),
                value: match (l.v, l.x) {
                    (Some(v), _) => Stored::Number(v),
                    (None, Some(x)) => Stored::Text(Arc::from(x)),
                    (None, None) => Stored::None,
                },
            }),
            Err(_) => broken += 1,
        }
    }
    Ok((out, broken))
}
