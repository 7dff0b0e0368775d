//! Lists lent by the tree a client holds to the render that follows it.
//!
//! A view keeps the tree its client holds, to diff its next render against,
//! and its [`RenderCache`](super::RenderCache) keeps the same lists, for the
//! next render to reuse their entries. With both holding a list, no render
//! could change a chunk of it where it is: a changed entry's chunk was
//! copied around it, and the old chunk let go after the diff. Lent to the
//! render, a list is held by the cache alone, and a render that changes some
//! of its entries and nothing else puts them in place, keeping here what
//! they held; the diff then writes those entries and reads nothing else of
//! the list.

use std::cell::Cell;
use std::num::NonZeroUsize;

use crate::rendered::{Comprehension, Dynamic, Rendered};

thread_local! {
    /// The buffers of a [`LentLists`] that lends nothing, kept by the
    /// thread for the next render that lends: a view keeps none between
    /// its events, and its events allocate none.
    static SPARE: Cell<Option<Box<Buffers>>> = const { Cell::new(None) };
}

/// The lists of the tree a client holds, lent to the render that follows,
/// and what the diff from that tree needs to know of each once the render
/// is done. Emptied after the diff, when its buffers go back to the
/// thread's spare ones: every view's render cache has one, which holds
/// nothing between its events.
#[derive(Debug, Default)]
pub(crate) struct LentLists(Option<Box<Buffers>>);

#[derive(Debug, Default)]
struct Buffers {
    lists: Vec<LentList>,
    /// The entries changed in place, list by list, each in the order of
    /// the list.
    changes: Vec<Change>,
    /// What the changed entries held, one entry's dynamics after another,
    /// in the order of `changes`.
    old_dynamics: Vec<Dynamic>,
}

#[derive(Debug)]
struct LentList {
    /// The list's [token](Comprehension::token), which the empty list left
    /// in the tree carries.
    token: NonZeroUsize,
    /// How many dynamics each of its entries has.
    width: usize,
    /// The list as the client holds it, until a render takes it to change
    /// it in place.
    whole: Option<Comprehension>,
}

/// An entry a render changed in place.
#[derive(Debug)]
struct Change {
    /// The list's place in [`Buffers::lists`].
    list: usize,
    /// The entry's index in the list.
    index: usize,
    /// The stamp it had.
    stamp: Option<u64>,
    /// Where the dynamics it had begin in [`Buffers::old_dynamics`].
    at: usize,
}

/// What the diff knows of a lent list once the render is done.
pub(crate) enum LentState<'a> {
    /// The list as the client holds it.
    Whole(&'a Comprehension),
    /// The list, whose chunks are now those of the list the render made,
    /// had these entries changed in place.
    ChangedInPlace(ChangedEntries<'a>),
}

/// The entries of a lent list that a render changed in place, in order:
/// each entry's index and the dynamics it had.
pub(crate) struct ChangedEntries<'a> {
    lent: &'a Buffers,
    number: usize,
    next: usize,
}

impl<'a> Iterator for ChangedEntries<'a> {
    type Item = (usize, &'a [Dynamic]);

    fn next(&mut self) -> Option<Self::Item> {
        let lent = self.lent;
        let width = lent.lists[self.number].width;
        let (i, change) = lent
            .changes
            .iter()
            .enumerate()
            .skip(self.next)
            .find(|(_, change)| change.list == self.number)?;
        self.next = i + 1;
        Some((
            change.index,
            &lent.old_dynamics[change.at..change.at + width],
        ))
    }
}

impl LentLists {
    /// Lends every list of `tree` but the empty ones, its own and those of
    /// the trees nested in it: each becomes an empty list carrying the
    /// lent list's token. Lists inside a list's entries stay, held by
    /// their entries.
    pub(crate) fn lend_from(&mut self, tree: &mut Rendered) {
        tree.for_each_list_mut(&mut |list: &mut Comprehension| {
            if !list.is_empty() && list.lent_token().is_none() {
                let buffers = self
                    .0
                    .get_or_insert_with(|| SPARE.take().unwrap_or_default());
                buffers.lists.push(LentList {
                    token: list.token(),
                    width: list.width(),
                    whole: Some(list.lend()),
                });
            }
        });
    }

    /// What the diff knows of the list lent with `token`, if one was.
    pub(crate) fn state(&self, token: NonZeroUsize) -> Option<LentState<'_>> {
        let buffers = self.0.as_deref()?;
        let number = buffers.lists.iter().position(|lent| lent.token == token)?;
        Some(match &buffers.lists[number].whole {
            Some(whole) => LentState::Whole(whole),
            None => LentState::ChangedInPlace(ChangedEntries {
                lent: buffers,
                number,
                next: 0,
            }),
        })
    }

    /// Takes the list lent with `token`, for the render to change its
    /// entries in place, when it is lent and not taken yet; returns its
    /// number, by which [`LentLists::change`] records each change. Its
    /// chunks are then held by one list fewer.
    pub(crate) fn take_for_change(&mut self, token: NonZeroUsize) -> Option<usize> {
        let lists = &mut self.0.as_deref_mut()?.lists;
        let number = lists
            .iter()
            .position(|lent| lent.token == token && lent.whole.is_some())?;
        lists[number].whole = None;
        Some(number)
    }

    /// The buffers of a render that took a lent list.
    fn taken(&mut self) -> &mut Buffers {
        self.0
            .as_deref_mut()
            .expect("a list taken for change was lent")
    }

    /// Records that entry `index` of list `number` changed in place:
    /// `change` puts the new entry in and the dynamics it had into the
    /// vector it is given, and returns the stamp it had.
    pub(crate) fn change(
        &mut self,
        number: usize,
        index: usize,
        change: impl FnOnce(&mut Vec<Dynamic>) -> Option<u64>,
    ) {
        let buffers = self.taken();
        let at = buffers.old_dynamics.len();
        let stamp = change(&mut buffers.old_dynamics);
        buffers.changes.push(Change {
            list: number,
            index,
            stamp,
            at,
        });
    }

    /// Puts back in `list`, taken as list `number`, the entries changed in
    /// place, so that it is again the list the client holds, and lends it
    /// again: a render that went on to make a list of its own after
    /// changing some entries of this one, and which the diff compares with
    /// it. `restore` is given each entry's index, stamp and dynamics.
    pub(crate) fn give_back(
        &mut self,
        number: usize,
        list: &mut Comprehension,
        mut restore: impl FnMut(&mut Comprehension, usize, Option<u64>, Vec<Dynamic>),
    ) {
        let buffers = self.taken();
        let width = buffers.lists[number].width;
        for change in buffers.changes.iter().rev().filter(|c| c.list == number) {
            let old = buffers.old_dynamics[change.at..change.at + width]
                .iter_mut()
                .map(|slot| std::mem::replace(slot, Dynamic::empty()))
                .collect();
            restore(list, change.index, change.stamp, old);
        }
        buffers.changes.retain(|change| change.list != number);
        buffers.lists[number].whole = Some(list.clone());
    }

    /// Forgets every lent list and change, and gives the buffers back to
    /// the thread.
    pub(crate) fn clear(&mut self) {
        if let Some(mut buffers) = self.0.take() {
            buffers.lists.clear();
            buffers.changes.clear();
            buffers.old_dynamics.clear();
            SPARE.set(Some(buffers));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diff;
    use crate::memo::{ListBuilder, RenderCache};
    use crate::rendered::{chunk_size, Comprehension, Dynamic, Key, Rendered, Template};

    /// A `<ul>` of one entry per `(key, version)`, stamped with the
    /// version and showing it.
    fn page(items: &[(u64, u64)]) -> Rendered {
        static PAGE: std::sync::OnceLock<(&'static Template, &'static Template)> =
            std::sync::OnceLock::new();
        let (page, entry) = *PAGE.get_or_init(|| {
            (
                Template::leak(vec!["<ul>".into(), "</ul>".into()], false),
                Template::leak(vec!["<li>".into(), "</li>".into()], true),
            )
        });
        let mut list = ListBuilder::memoized(entry, items.len(), 11);
        for &(key, version) in items {
            let key = Key::of(&key);
            if !list.reuse(key, version) {
                list.push_memo(key, version, [Dynamic::Text(version.to_string().into())]);
            }
        }
        Rendered::new(page, vec![list.finish()])
    }

    /// The page's list.
    fn list_of(tree: &Rendered) -> &Comprehension {
        match &tree.dynamics()[0] {
            Dynamic::List(list) => list,
            other => panic!("not a list: {other:?}"),
        }
    }

    /// Items keyed by their index, each at `version`.
    fn indexed(versions: &[u64]) -> Vec<(u64, u64)> {
        (0..).zip(versions.iter().copied()).collect()
    }

    /// Renders each of `steps` in turn with the lists lent (through
    /// [`RenderCache::render_diff`]) and with the trees kept apart, and
    /// asserts that both give the same diff and the same page; returns, for
    /// each step after the first, whether the lent list kept its chunks
    /// (its entries changed in place, or none changed).
    fn lent_and_apart(steps: &[Vec<(u64, u64)>]) -> Vec<bool> {
        let (mut lent_cache, mut apart_cache) = (RenderCache::default(), RenderCache::default());
        let mut shown = lent_cache.render(|| page(&steps[0]));
        let mut apart = apart_cache.render(|| page(&steps[0]));
        let mut kept = Vec::new();
        for (n, items) in steps.iter().enumerate().skip(1) {
            let token = list_of(&shown).token();
            let lent_diff = lent_cache.render_diff(&mut shown, || page(items));
            let next = apart_cache.render(|| page(items));
            let apart_diff = diff::diff(&apart, &next);
            apart = next;
            assert_eq!(lent_diff, apart_diff, "step {n}");
            assert_eq!(shown.to_html(), apart.to_html(), "step {n}");
            assert_eq!(shown.to_html(), page(items).to_html(), "step {n}");
            kept.push(list_of(&shown).token() == token);
        }
        kept
    }

    #[test]
    fn a_lent_list_has_its_changed_entries_put_in_its_chunks() {
        let size = chunk_size(100);
        let mut versions = vec![0; size * 3 + 5];
        let first = versions.clone();
        versions[size + 3] = 1;
        let one_changed = versions.clone();
        versions[0] = 2;
        versions[size * 3 + 4] = 2;
        versions[size * 3] = 2;
        let three_changed = versions.clone();
        versions[0] = 0;
        let changed_back = versions.clone();
        let steps = [
            first,
            one_changed,
            three_changed,
            changed_back.clone(),
            changed_back,
        ];
        let steps: Vec<_> = steps.iter().map(|v| indexed(v)).collect();
        assert_eq!(lent_and_apart(&steps), [true; 4]);
    }

    #[test]
    fn a_list_that_parts_from_the_lent_one_after_changes_in_place_gives_them_back() {
        let size = chunk_size(100);
        let start: Vec<u64> = vec![0; size * 2 + 3];
        // A change, then the list grows in its last chunk, then by a chunk.
        let mut grown = start.clone();
        grown[1] = 1;
        grown.push(5);
        let mut grown_more = grown.clone();
        grown_more[size] = 1;
        grown_more.extend([6; 8]);
        // A change, then the list loses its last chunk.
        let mut shrunk = grown_more.clone();
        shrunk[2] = 1;
        shrunk.truncate(size * 2);
        // A change in the last chunk, which then loses its last entry.
        let mut last_shorter = shrunk.clone();
        last_shorter[size + 1] = 3;
        last_shorter.pop();
        let steps = [start, grown, grown_more, shrunk, last_shorter];
        let steps: Vec<_> = steps.iter().map(|v| indexed(v)).collect();
        assert_eq!(lent_and_apart(&steps), [false; 4]);
    }

    #[test]
    fn a_keyed_list_changed_in_place_then_moved_gives_its_changes_back() {
        let size = chunk_size(100) as u64;
        let start: Vec<(u64, u64)> = (0..size * 2).map(|id| (id, 0)).collect();
        // Entry 1 changes, then entries 3 and 4 trade places (in the first
        // chunk), then entry 1 changes again and an entry of the second
        // chunk moves to its end.
        let mut swapped = start.clone();
        swapped[1].1 = 1;
        swapped.swap(3, 4);
        let mut moved = swapped.clone();
        moved[1].1 = 2;
        let entry = moved.remove(size as usize + 1);
        moved.push(entry);
        // Only a change: in place again.
        let mut changed = moved.clone();
        changed[5].1 = 9;
        let steps = [start, swapped, moved, changed];
        assert_eq!(lent_and_apart(&steps), [false, false, true]);
    }

    #[test]
    fn a_list_held_elsewhere_too_is_not_changed_in_place() {
        let mut cache = RenderCache::default();
        let mut shown = cache.render(|| page(&indexed(&[0, 0, 0])));
        let kept = shown.clone();
        let diff = cache.render_diff(&mut shown, || page(&indexed(&[0, 7, 0])));
        assert_eq!(diff.as_str(), r#"{"0":{"k":{"1":{"0":"7"},"kc":3}}}"#);
        assert_eq!(kept.to_html(), "<ul><li>0</li><li>0</li><li>0</li></ul>");
        assert_eq!(shown.to_html(), "<ul><li>0</li><li>7</li><li>0</li></ul>");
        assert!(list_of(&kept).token() != list_of(&shown).token());
    }

    #[test]
    fn a_list_lent_to_two_renders_before_its_diff_is_diffed_from_what_the_client_holds() {
        // A view whose components changed the flash renders twice before
        // its diff, the first tree still alive during the second render.
        let diff_after = |second: &[u64]| {
            let mut cache = RenderCache::default();
            let mut held = cache.render(|| page(&indexed(&[0, 0, 0])));
            let token = list_of(&held).token();
            cache.lend_lists_of(&mut held);
            let first = cache.render(|| page(&indexed(&[0, 5, 0])));
            assert!(list_of(&first).token() == token, "changed in place");
            let next = cache.render(|| page(&indexed(second)));
            drop(first);
            let diff = diff::diff_lent(&held, &next, cache.lent_lists());
            cache.end_lending();
            assert_eq!(next.to_html(), page(&indexed(second)).to_html());
            diff
        };
        // The second render changed nothing more: the first one's change.
        assert_eq!(
            diff_after(&[0, 5, 0]).as_str(),
            r#"{"0":{"k":{"1":{"0":"5"},"kc":3}}}"#
        );
        // It changed another entry, in a copy of the chunk the first one
        // changed in place: what the client holds is no longer known entry
        // by entry, and the list is written whole.
        assert_eq!(
            diff_after(&[0, 5, 6]).as_str(),
            r#"{"0":{"s":["<li>","</li>"],"k":{"0":{"0":"0"},"1":{"0":"5"},"2":{"0":"6"},"kc":3}}}"#
        );
    }
}
