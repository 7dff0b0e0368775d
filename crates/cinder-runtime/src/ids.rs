//! Maps keyed by ids the program makes itself: the runtime's pids and
//! monitor references, or fingerprints computed from its own code.
//!
//! Such ids are never chosen by a client, so the maps keyed by them need no
//! keyed hash against collisions chosen on purpose: one multiplication,
//! folded, spreads an id, where the default hasher spends SipHash on every
//! link, monitor and subscription.
//!
//! ```
//! use cinder_runtime::ids::IdMap;
//!
//! let mut names: IdMap<&str> = IdMap::default();
//! names.insert(7, "seven");
//! assert_eq!(names.get(&7), Some(&"seven"));
//! ```

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by an id the program made, such as a pid's or a monitor's.
pub type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Hashes one id. Ids that share their low bits (the table's shards hold
/// ids of one remainder) still spread: the folded product mixes the high
/// bits into the low ones the map's buckets are chosen by.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl IdHasher {
    /// An odd constant (the golden ratio's digits).
    const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let product = u128::from(self.0) * u128::from(Self::SPREAD);
        (product as u64) ^ ((product >> 64) as u64)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// Ids of one shard (one remainder modulo 64) land in as many distinct
    /// buckets of a 1,024-bucket table as a random spread would give.
    #[test]
    fn ids_of_one_shard_spread_over_the_buckets() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let buckets: std::collections::HashSet<u64> = (0..1024u64)
            .map(|n| build.hash_one(n * 64 + 5) & 1023)
            .collect();
        // 1,024 random keys into 1,024 buckets fill about 63 % of them.
        assert!(buckets.len() > 550, "{} buckets used", buckets.len());
    }

    #[test]
    fn an_id_map_finds_what_it_holds() {
        let mut map = IdMap::default();
        for id in (0..10_000u64).step_by(7) {
            map.insert(id, id * 2);
        }
        assert_eq!(map.get(&700), Some(&1400));
        assert_eq!(map.get(&701), None);
        assert_eq!(map.remove(&7), Some(14));
    }
}
