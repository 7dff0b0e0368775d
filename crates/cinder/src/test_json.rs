//! Generated JSON for the tests of the parts that read it from text.

use serde_json::Value;

/// The next number of a xorshift generator.
pub(crate) fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// A text of pieces that a reader of brackets could trip on.
pub(crate) fn tricky_text(seed: &mut u64) -> String {
    const PIECES: [&str; 11] = ["{", "}", "[", "]", "\"", "\\", "a", ",", ":", "\u{1}", "é"];
    let bits = next(seed);
    (0..bits % 7)
        .map(|i| PIECES[((bits >> (4 + 4 * i)) % PIECES.len() as u64) as usize])
        .collect()
}

/// A JSON value: an object or array at the top, at most four deep.
pub(crate) fn generated(seed: &mut u64, depth: u32) -> Value {
    let kind = match depth {
        0 => next(seed) % 2,
        4 => 2,
        _ => next(seed) % 6,
    };
    match kind {
        0 => (0..next(seed) % 4)
            .map(|_| (tricky_text(seed), generated(seed, depth + 1)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        1 => (0..next(seed) % 4)
            .map(|_| generated(seed, depth + 1))
            .collect::<Vec<_>>()
            .into(),
        2 => Value::String(tricky_text(seed)),
        3 => (next(seed) % 1000).into(),
        4 => Value::Bool(next(seed) % 2 == 0),
        _ => Value::Null,
    }
}
