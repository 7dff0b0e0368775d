//! The process's heap: which of glibc's arenas its threads allocate from
//! ([`share_main_arena`]), and a global allocator that counts the bytes
//! currently allocated, for measurements of live heap:
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

/// Makes every thread this process starts from now on allocate from glibc's
/// main arena instead of an arena of its own. Call it before the process
/// starts a thread. Returns whether the C library took the setting (never
/// with a C library other than glibc, where it does nothing).
///
/// glibc gives each thread that allocates an arena of its own, so that
/// threads do not wait on each other's locks. An arena other than the main
/// one grows its heap by just what the allocation at hand needs, one
/// `mprotect` call each time: a server that holds its sessions on a worker
/// thread made three such calls for each `/rows` session it opened. The main
/// arena grows by `brk`, 128 KiB beyond what it needs each time. A server
/// with one worker thread has no other thread to share the lock with.
pub fn share_main_arena() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` sets one of the allocator's parameters and
        // touches no memory of the caller's.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Set in a child process of this test binary, which runs one check.
    const CHILD: &str = "CINDER_BENCH_ARENA_CHILD";

    /// Runs the test `name` alone in a child process with `CHILD` set to
    /// `mode`: the arena setting holds for a whole process and cannot be
    /// undone, and each check needs a process whose threads have not yet
    /// chosen their arenas.
    fn run_in_child(name: &str, mode: &str) {
        let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args([name, "--exact", "--test-threads=1"])
            .env(CHILD, mode)
            .output()
            .expect("the test binary runs");
        assert!(
            child.status.success(),
            "the check with the {mode} arenas failed:\n{}",
            String::from_utf8_lossy(&child.stdout)
        );
    }

    /// The addresses of this process's `brk` heap, where the main arena
    /// keeps what it allocates.
    fn brk_heap() -> std::ops::Range<usize> {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc is mounted");
        let line = maps
            .lines()
            .find(|line| line.ends_with("[heap]"))
            .expect("the process has a brk heap");
        let (start, end) = line
            .split_whitespace()
            .next()
            .and_then(|range| range.split_once('-'))
            .expect("a mapping starts with its range");
        let address = |hex| usize::from_str_radix(hex, 16).expect("hexadecimal");
        address(start)..address(end)
    }

    /// The address of an allocation made on a new thread. It is larger
    /// than glibc's per-thread cache takes (1,032 bytes), so it comes from
    /// the thread's arena: the cache hands out freed chunks of any arena.
    fn allocated_on_a_new_thread() -> usize {
        std::thread::spawn(|| {
            let block = vec![7u8; 4096];
            std::hint::black_box(&block).as_ptr() as usize
        })
        .join()
        .expect("the thread allocates")
    }

    #[test]
    fn a_thread_started_after_sharing_allocates_from_the_main_heap() {
        match std::env::var(CHILD).as_deref() {
            Ok("shared") => {
                assert!(share_main_arena());
                let address = allocated_on_a_new_thread();
                assert!(
                    brk_heap().contains(&address),
                    "{address:#x} outside {:x?}",
                    brk_heap()
                );
            }
            Ok("default") => {
                // What the setting changes: without it, a new thread gets
                // an arena of its own, outside the brk heap.
                let address = allocated_on_a_new_thread();
                assert!(
                    !brk_heap().contains(&address),
                    "{address:#x} inside {:x?}",
                    brk_heap()
                );
            }
            _ => {
                let name =
                    "heap::tests::a_thread_started_after_sharing_allocates_from_the_main_heap";
                run_in_child(name, "default");
                run_in_child(name, "shared");
            }
        }
    }
}
