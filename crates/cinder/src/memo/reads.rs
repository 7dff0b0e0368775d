//! Stamps made of what a `for` body reads.
//!
//! For a `for` without a memo stamp, `html!` lists the values the body reads
//! (the loop's bindings and their fields, outer names, `format!` arguments)
//! and feeds each to a [`ReadStamp`]. An entry whose stamp and key equal
//! those of the previous render's entry at its place is reused, as with an
//! explicit stamp. The values are compared through a hash started from a
//! secret drawn once per process, so values chosen to collide cannot be
//! aimed at a stamp without it. It is a folded multiply per eight bytes
//! rather than SipHash: a row of two integers costs a few instructions,
//! where SipHash cost more than rendering it.
//!
//! Only values whose `Hash` covers everything their rendering shows, and
//! which cost less to hash than to render, are fed: integers, `bool`,
//! `char`, and options, tuples, slices, vectors and pointers of them, plus
//! the application's types that implement [`StampValue`]. A string is
//! copied into its text about as fast as it is hashed, and a type of the
//! application's may hash by identity alone (an id), so a body that reads
//! either is evaluated every time, as before.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

/// The stamp of one entry's reads, fed one value at a time.
pub struct ReadStamp {
    hasher: StampHasher,
    complete: bool,
}

impl ReadStamp {
    /// A stamp with nothing read yet.
    #[inline]
    pub fn new() -> ReadStamp {
        ReadStamp::seeded(StampSeed::get())
    }

    /// A stamp with nothing read yet, from the secrets a `for` read once
    /// for all its entries.
    #[inline]
    pub fn seeded(seed: StampSeed) -> ReadStamp {
        ReadStamp {
            hasher: seed.hasher(),
            complete: true,
        }
    }

    /// The stamp, or `None` when a value read could not be fed.
    #[inline]
    pub fn finish(&self) -> Option<u64> {
        self.complete.then(|| self.hasher.finish())
    }
}

impl Default for ReadStamp {
    fn default() -> Self {
        ReadStamp::new()
    }
}

/// The process's secrets: the starting state and the multiplier of the
/// final mix. Read once per `for`: a list of rows would otherwise check
/// that they are set once per row.
#[derive(Clone, Copy)]
pub struct StampSeed {
    state: u64,
    finish_with: u64,
}

/// Builds the hashers of maps keyed by [`Key`](crate::rendered::Key)s,
/// which are hashes of the application's values and so may be chosen by a
/// client: spread with the process's secrets, they cannot be aimed at one
/// bucket, and a key costs two multiplications instead of SipHash's rounds.
#[derive(Clone, Copy)]
pub(crate) struct SecretSpread(StampSeed);

impl Default for SecretSpread {
    fn default() -> Self {
        SecretSpread(StampSeed::get())
    }
}

impl BuildHasher for SecretSpread {
    type Hasher = StampHasher;

    fn build_hasher(&self) -> StampHasher {
        self.0.hasher()
    }
}

impl StampSeed {
    /// The process's secrets, drawn at first use.
    pub fn get() -> StampSeed {
        static SECRETS: OnceLock<StampSeed> = OnceLock::new();
        *SECRETS.get_or_init(|| {
            let random = RandomState::new();
            StampSeed {
                state: random.hash_one(1u8),
                finish_with: random.hash_one(2u8),
            }
        })
    }

    /// A hasher started from these secrets.
    #[inline]
    fn hasher(self) -> StampHasher {
        StampHasher {
            state: self.state,
            finish_with: self.finish_with,
        }
    }
}

/// Multiplies in 128 bits and folds the halves: every input bit reaches
/// every output bit, in one multiplication.
#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Mixes each word into a secret state; integers are one word each.
pub(crate) struct StampHasher {
    state: u64,
    finish_with: u64,
}

impl StampHasher {
    /// An odd constant (the golden ratio's digits) that spreads each word.
    const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

    #[inline]
    fn add(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, Self::SPREAD);
    }
}

impl Hasher for StampHasher {
    fn write(&mut self, bytes: &[u8]) {
        crate::rendered::add_bytes(bytes, |word| self.add(word));
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        folded_multiply(self.state, self.finish_with)
    }
}

/// One value a body reads. `(&Read(&value)).feed(&mut stamp)` feeds it when
/// it is a [`StampValue`] and marks the stamp incomplete otherwise (method
/// lookup tries `Read` before `&Read`).
pub struct Read<'a, T: ?Sized>(pub &'a T);

/// Feeds a value whose hash covers all of it.
pub trait FedRead {
    /// Adds the value to the stamp.
    fn feed(&self, stamp: &mut ReadStamp);
}

impl<T: StampValue + ?Sized> FedRead for Read<'_, T> {
    #[inline]
    fn feed(&self, stamp: &mut ReadStamp) {
        self.0.hash(&mut stamp.hasher);
    }
}

/// Gives up on a value the stamp cannot vouch for.
pub trait UnfedRead {
    /// Marks the stamp incomplete.
    fn feed(&self, stamp: &mut ReadStamp);
}

impl<T: ?Sized> UnfedRead for &Read<'_, T> {
    #[inline]
    fn feed(&self, stamp: &mut ReadStamp) {
        stamp.complete = false;
    }
}

/// A value whose `Hash` feeds everything its rendering shows, so a `for`
/// body that reads it whole can be stamped with it.
///
/// Implement it for a type of yours whose `Hash` is derived over all its
/// fields; never for one that hashes by identity alone (an id), or a
/// changed name would look unchanged.
///
/// ```
/// use cinder::{html, memo::{RenderCache, StampValue}};
///
/// /// A tag's rendering shows its text, and its hash covers the text.
/// #[derive(Hash)]
/// struct Tag(String);
/// impl StampValue for Tag {}
///
/// impl std::fmt::Display for Tag {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str(&self.0)
///     }
/// }
///
/// let tags = vec![Tag("a".into()), Tag("b".into())];
/// let view = |tags: &[Tag]| html! { <ul>@for tag in tags { <li>{tag.to_string()}</li> }</ul> };
/// let mut cache = RenderCache::default();
/// let first = cache.render(|| view(&tags));
/// let second = cache.render(|| view(&tags));
/// assert!(cinder::diff::diff(&first, &second).is_empty());
/// ```
pub trait StampValue: Hash {}

macro_rules! stamp_values {
    ($($t:ty),*) => { $(impl StampValue for $t {})* };
}

stamp_values!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    char,
    ()
);

impl<T: StampValue + ?Sized> StampValue for &T {}
impl<T: StampValue + ?Sized> StampValue for &mut T {}
impl<T: StampValue + ?Sized> StampValue for Box<T> {}
impl<T: StampValue + ?Sized> StampValue for Rc<T> {}
impl<T: StampValue + ?Sized> StampValue for Arc<T> {}
impl<T: StampValue> StampValue for Option<T> {}
impl<T: StampValue> StampValue for [T] {}
impl<T: StampValue, const N: usize> StampValue for [T; N] {}
impl<T: StampValue> StampValue for Vec<T> {}
impl<A: StampValue, B: StampValue> StampValue for (A, B) {}
impl<A: StampValue, B: StampValue, C: StampValue> StampValue for (A, B, C) {}

// The borrow in `(&Read(..)).feed(..)` is how `html!` picks between the two
// traits; for a fed value it is needless, which is the point.
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    fn stamp_of(feed: impl FnOnce(&mut ReadStamp)) -> Option<u64> {
        let mut stamp = ReadStamp::new();
        feed(&mut stamp);
        stamp.finish()
    }

    /// Hashes by id alone, as entity types often do.
    #[derive(Hash)]
    struct User {
        id: u32,
    }

    /// A string of the application's, which vouches for its hash.
    #[derive(Hash)]
    struct Name(&'static str);

    impl StampValue for Name {}

    #[test]
    fn values_that_hash_whole_make_a_stamp_that_follows_them() {
        let named = |n: u32, name: &'static str| {
            stamp_of(|s| {
                (&Read(&n)).feed(s);
                (&Read(&Name(name))).feed(s);
            })
        };
        assert!(named(7, "ab").is_some());
        assert_eq!(named(7, "ab"), named(7, "ab"));
        assert_ne!(named(7, "ab"), named(7, "a"));
        assert_ne!(named(7, "ab"), named(8, "ab"));
        let split = |x: &'static str, y: &'static str| {
            stamp_of(|s| {
                (&Read(&Name(x))).feed(s);
                (&Read(&Name(y))).feed(s);
            })
        };
        assert_ne!(split("ab", "c"), split("a", "bc"));
        assert_ne!(split("a", ""), split("a\0", ""));
        let numbers = |x: u64, y: u64| {
            stamp_of(|s| {
                (&Read(&x)).feed(s);
                (&Read(&y)).feed(s);
            })
        };
        assert_ne!(numbers(1, 2), numbers(2, 1));
        assert_ne!(numbers(0, 0), numbers(0, 1));
    }

    #[test]
    fn a_value_of_another_type_leaves_the_stamp_incomplete() {
        let user = User { id: 1 };
        let stamp = stamp_of(|s| {
            (&Read(&7u32)).feed(s);
            (&Read(&user)).feed(s);
        });
        assert_eq!(stamp, None);
        assert_eq!(stamp_of(|s| (&Read(&1.5f64)).feed(s)), None);
        assert_eq!(stamp_of(|s| (&Read(&"text".to_string())).feed(s)), None);
        assert!(stamp_of(|s| (&Read(&Some(vec![(1u8, 'x')]))).feed(s)).is_some());
    }

    /// Keys that differ only in their high bits, or that share their low
    /// bits, still land in as many buckets of a 1,024-bucket table as a
    /// random spread would give.
    #[test]
    fn keys_chosen_alike_spread_over_the_buckets() {
        let spread = SecretSpread::default();
        for keys in [
            (0..1024u64).map(|n| n << 40).collect::<Vec<_>>(),
            (0..1024u64).map(|n| (n << 10) | 5).collect(),
        ] {
            let buckets: std::collections::HashSet<u64> = keys
                .iter()
                .map(|&key| spread.hash_one(crate::rendered::Key(key)) & 1023)
                .collect();
            // 1,024 random keys into 1,024 buckets fill about 63 % of them.
            assert!(buckets.len() > 550, "{} buckets used", buckets.len());
        }
    }
}
