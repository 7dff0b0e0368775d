//! Hints to the processor about memory that is about to be read.
//!
//! A process's state is seldom in the cache when its next message comes:
//! with thousands of sessions, each event finds its own out of it. What an
//! event will read is often known before it is read, so the caller can ask
//! for it first and go on with other work while the memory is fetched.

/// Asks the processor to bring the cache line holding the start of
/// `value` into its caches, without waiting for it.
///
/// A hint only: it has no effect on what any read returns, and the
/// processor may drop it. Unlike an ordinary read made early, nothing
/// waits for it to complete, so the work that follows runs while the line
/// is on its way. A no-op on processors without a prefetch instruction
/// known to this crate.
///
/// ```
/// let rows = vec![1u64; 1024];
/// cinder_runtime::hint::prefetch(&rows[512]);
/// assert_eq!(rows[512], 1);
/// ```
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse"
    ))]
    safe_arch::prefetch_t0(value);
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse"
    )))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::prefetch;

    /// A hint reads nothing and writes nothing: values of every size and
    /// place are as they were, a value of no size included.
    #[test]
    fn prefetching_changes_no_value() {
        let on_the_stack = [7u8; 3];
        let on_the_heap = vec![String::from("row"); 100];
        prefetch(&on_the_stack);
        prefetch(&on_the_heap[99]);
        prefetch(&());
        prefetch(&on_the_heap);
        assert_eq!(on_the_stack, [7, 7, 7]);
        assert!(on_the_heap.iter().all(|row| row == "row"));
    }
}
