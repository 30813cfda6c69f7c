//! What the historian stores: one sample of one tag.

use std::sync::Arc;

use crate::engine::Quality;

/// A stored value: numbers and bools as `f64` (bools 0/1), strings as text, `None` when the
/// sample records a quality change without a value.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    None,
    Number(f64),
    Text(Arc<str>),
}

/// One row of history.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Historian tag id (stable in the file, not the engine's tag index).
    pub tag: i64,
    /// Source time, UTC ms.
    pub ts_ms: i64,
    pub value: Stored,
    pub quality: Quality,
}

pub fn quality_code(q: Quality) -> i64 {
    match q {
        Quality::Good => 0,
        Quality::Uncertain => 1,
        Quality::Stale => 2,
        Quality::Bad => 3,
    }
}

pub fn quality_from_code(c: i64) -> Quality {
    match c {
        0 => Quality::Good,
        1 => Quality::Uncertain,
        2 => Quality::Stale,
        _ => Quality::Bad,
    }
}
