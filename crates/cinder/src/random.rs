//! Random bytes for secrets and ids, from the operating system's generator.
//!
//! Opening a page takes three small random values (the session's CSRF
//! secret, the mask of the page's token and the view's container id), and
//! asking the kernel for each one is a system call. Each thread instead
//! keeps a block of the kernel's random bytes and hands every byte out
//! once, wiping it as it goes; the block is refilled from the kernel when
//! it runs out. The bytes are the kernel's, so they are as unpredictable as
//! asking each time. A process that forks without `exec` would share its
//! block with the child, which a server does not do.

use std::cell::RefCell;

/// How many bytes one request to the kernel fetches.
const BLOCK: usize = 256;

/// A thread's block of random bytes, of which `handed_out` are used.
struct Block {
    bytes: [u8; BLOCK],
    handed_out: usize,
}

thread_local! {
    static BLOCK_OF_THREAD: RefCell<Block> = const {
        RefCell::new(Block { bytes: [0; BLOCK], handed_out: BLOCK })
    };
}

/// Fills `out` with random bytes.
pub(crate) fn fill(out: &mut [u8]) {
    if out.len() > BLOCK {
        from_kernel(out);
        return;
    }
    BLOCK_OF_THREAD.with_borrow_mut(|block| {
        if BLOCK - block.handed_out < out.len() {
            from_kernel(&mut block.bytes);
            block.handed_out = 0;
        }
        let taken = &mut block.bytes[block.handed_out..block.handed_out + out.len()];
        out.copy_from_slice(taken);
        // Handed out once: no copy stays behind for a later caller.
        taken.fill(0);
        block.handed_out += out.len();
    });
}

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    fill(&mut bytes);
    bytes
}

fn from_kernel(out: &mut [u8]) {
    getrandom::fill(out).expect("the operating system provides random bytes");
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn values_never_repeat_across_refills() {
        // 1,000 values of 12 bytes span 47 blocks, so most refills fall
        // inside this loop, some in the middle of where a value would go.
        let values: HashSet<[u8; 12]> = (0..1000).map(|_| bytes::<12>()).collect();
        assert_eq!(values.len(), 1000);
        assert!(!values.contains(&[0; 12]));
    }

    #[test]
    fn a_request_larger_than_a_block_is_filled_whole() {
        let mut large = [0u8; BLOCK * 2 + 7];
        fill(&mut large);
        let zeros = large.iter().filter(|&&byte| byte == 0).count();
        // Each byte is zero with probability 1/256: ~2 of 519.
        assert!(zeros < 20, "{zeros} zero bytes of {}", large.len());
    }

    #[test]
    fn bytes_handed_out_are_wiped_from_the_block() {
        let _ = bytes::<32>();
        BLOCK_OF_THREAD.with_borrow(|block| {
            assert!(block.handed_out >= 32);
            assert!(block.bytes[..block.handed_out]
                .iter()
                .all(|&byte| byte == 0));
        });
    }

    #[test]
    fn threads_get_different_bytes() {
        let here = bytes::<16>();
        let there = std::thread::spawn(bytes::<16>).join().unwrap();
        assert_ne!(here, there);
    }
}
