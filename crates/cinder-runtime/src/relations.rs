//! A process's links and monitors, keyed by pid or monitor id.
//!
//! Most processes have one or two (a view: its supervisor and its socket), a
//! supervisor one per child. Up to [`INLINE`] are kept in the process's own
//! cell, so a held session's two processes allocate nothing for theirs; up
//! to [`FEW`] in a vector just large enough, searched in order; more, in a
//! map. A hash map takes room for at least three entries and its control
//! bytes at its first insert.

use crate::ids::IdMap;

/// The most entries kept in the relations themselves.
const INLINE: usize = 2;

/// The most entries kept in a vector; one more and they move to a map.
const FEW: usize = 8;

/// Entries keyed by a pid's or a monitor's id.
pub(crate) struct Relations<R> {
    entries: Entries<R>,
}

enum Entries<R> {
    Inline([Option<(u64, R)>; INLINE]),
    Few(Vec<(u64, R)>),
    Many(IdMap<R>),
}

impl<R> Default for Relations<R> {
    fn default() -> Self {
        Relations {
            entries: Entries::Inline([None, None]),
        }
    }
}

impl<R> Relations<R> {
    /// Sets the entry for `id`; returns the one it replaced.
    pub(crate) fn insert(&mut self, id: u64, value: R) -> Option<R> {
        match &mut self.entries {
            Entries::Inline(slots) => {
                if let Some((_, old)) = slots.iter_mut().flatten().find(|(key, _)| *key == id) {
                    return Some(std::mem::replace(old, value));
                }
                if let Some(free) = slots.iter_mut().find(|slot| slot.is_none()) {
                    *free = Some((id, value));
                    return None;
                }
                // Room for the ones kept inline and this one, no more.
                let mut entries = Vec::with_capacity(INLINE + 1);
                entries.extend(slots.iter_mut().filter_map(Option::take));
                entries.push((id, value));
                self.entries = Entries::Few(entries);
                None
            }
            Entries::Few(entries) => {
                if let Some((_, old)) = entries.iter_mut().find(|(key, _)| *key == id) {
                    return Some(std::mem::replace(old, value));
                }
                if entries.len() == FEW {
                    let mut map: IdMap<R> = entries.drain(..).collect();
                    map.insert(id, value);
                    self.entries = Entries::Many(map);
                    return None;
                }
                // Room for this one entry more, not the four a push makes
                // room for at first.
                entries.reserve_exact(1);
                entries.push((id, value));
                None
            }
            Entries::Many(map) => map.insert(id, value),
        }
    }

    /// Removes the entry for `id` and returns it.
    pub(crate) fn remove(&mut self, id: &u64) -> Option<R> {
        match &mut self.entries {
            Entries::Inline(slots) => {
                let slot = slots
                    .iter_mut()
                    .find(|slot| matches!(slot, Some((key, _)) if key == id))?;
                slot.take().map(|(_, value)| value)
            }
            Entries::Few(entries) => {
                let index = entries.iter().position(|(key, _)| key == id)?;
                Some(entries.swap_remove(index).1)
            }
            Entries::Many(map) => map.remove(id),
        }
    }

    /// How many entries there are.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match &self.entries {
            Entries::Inline(slots) => slots.iter().flatten().count(),
            Entries::Few(entries) => entries.len(),
            Entries::Many(map) => map.len(),
        }
    }

    /// How many entries fit without taking more memory.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => INLINE,
            _ => self.capacity_elsewhere(),
        }
    }

    /// How many entries the memory taken outside the relations themselves
    /// has room for.
    pub(crate) fn capacity_elsewhere(&self) -> usize {
        match &self.entries {
            Entries::Inline(_) => 0,
            Entries::Few(entries) => entries.capacity(),
            Entries::Many(map) => map.capacity(),
        }
    }

    /// The entries' values, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &R> {
        let (inline, few, many) = match &self.entries {
            Entries::Inline(slots) => (Some(slots.iter().flatten()), None, None),
            Entries::Few(entries) => (None, Some(entries.iter()), None),
            Entries::Many(map) => (None, None, Some(map.values())),
        };
        let listed = inline
            .into_iter()
            .flatten()
            .chain(few.into_iter().flatten());
        listed
            .map(|(_, value)| value)
            .chain(many.into_iter().flatten())
    }
}

impl<R> IntoIterator for Relations<R> {
    type Item = (u64, R);
    type IntoIter = std::iter::Chain<
        std::iter::Chain<
            std::iter::Flatten<std::array::IntoIter<Option<(u64, R)>, INLINE>>,
            std::vec::IntoIter<(u64, R)>,
        >,
        std::iter::Flatten<std::option::IntoIter<std::collections::hash_map::IntoIter<u64, R>>>,
    >;

    /// The entries, in no particular order.
    fn into_iter(self) -> Self::IntoIter {
        let (inline, few, many) = match self.entries {
            Entries::Inline(slots) => (slots, Vec::new(), None),
            Entries::Few(entries) => ([None, None], entries, None),
            Entries::Many(map) => ([None, None], Vec::new(), Some(map.into_iter())),
        };
        inline
            .into_iter()
            .flatten()
            .chain(few)
            .chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Against a map, through the switch to a map and past it: every
    /// insert, replacement and removal answers alike, and the entries left
    /// are the same.
    #[test]
    fn relations_keep_what_a_map_keeps_few_or_many() {
        let mut relations = Relations::default();
        let mut expected = HashMap::new();
        // Ids of a small range, so that replacements and removals of
        // present ids are frequent; a fixed sequence, so a failure repeats.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for step in 0..4_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let id = state % if step < 2_000 { 12 } else { 40 };
            if state % 3 == 0 {
                assert_eq!(relations.remove(&id), expected.remove(&id), "remove {id}");
            } else {
                assert_eq!(
                    relations.insert(id, step),
                    expected.insert(id, step),
                    "insert {id}"
                );
            }
            assert_eq!(relations.len(), expected.len());
            assert!(relations.capacity() >= relations.len());
            let mut values: Vec<_> = relations.values().copied().collect();
            let mut wanted: Vec<_> = expected.values().copied().collect();
            values.sort_unstable();
            wanted.sort_unstable();
            assert_eq!(values, wanted);
        }
        let mut left: Vec<_> = relations.into_iter().collect();
        let mut wanted: Vec<_> = expected.into_iter().collect();
        left.sort_unstable();
        wanted.sort_unstable();
        assert_eq!(left, wanted);
    }

    #[test]
    fn two_relations_take_no_room_elsewhere_and_a_few_only_their_own() {
        let mut relations = Relations::default();
        relations.insert(1, "supervisor");
        relations.insert(2, "socket");
        assert_eq!(relations.capacity_elsewhere(), 0);
        assert_eq!(relations.remove(&1), Some("supervisor"));
        assert_eq!(relations.remove(&1), None);
        assert_eq!(relations.len(), 1);
        relations.insert(3, "monitor");
        relations.insert(4, "link");
        assert_eq!(relations.capacity_elsewhere(), 3);
        relations.insert(5, "another");
        assert_eq!(relations.capacity_elsewhere(), 4);
        assert_eq!(relations.len(), 4);
    }
}
