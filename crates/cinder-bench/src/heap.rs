//! A global allocator that counts the bytes currently allocated, for
//! measurements of live heap:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: cinder_bench::heap::Counting = cinder_bench::heap::Counting;
//! let before = cinder_bench::heap::allocated();
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting the bytes currently allocated. Install it
/// with `#[global_allocator]` in the binary or test that measures.
pub struct Counting;

static ALLOCATED: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The bytes allocated now, when [`Counting`] is the global allocator
/// (zero otherwise).
pub fn allocated() -> isize {
    ALLOCATED.load(Ordering::SeqCst)
}
