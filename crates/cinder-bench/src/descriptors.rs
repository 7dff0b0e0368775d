//! The process's file descriptors: its open-files limit, and the kernel's
//! table that holds them.
//!
//! Every held session is a socket, so the load tools and the servers they
//! measure raise their limit; the servers also grow the table at start.

/// Raises this process's soft open-files limit to its hard limit, since
/// each held session is a socket. Returns the limit in force.
pub fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for the duration of the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// Grows this process's table of file descriptors to hold `count` of them,
/// so that opening that many never has to grow it again. Returns whether
/// the table now holds `count`.
///
/// Linux grows the table by doubling as descriptors are opened, and in a
/// process whose threads share it each growth waits for an RCU grace period
/// (`expand_fdtable`) before it returns: the thread that accepted the
/// connection does nothing meanwhile, 8 to 30 ms on a quiet virtual machine,
/// at 256, 512, 1,024, … descriptors. A server on a multi-thread runtime
/// that accepts thousands of connections in a burst stalls at each. Grown
/// once at start, the table costs that wait at most once, and nothing while
/// connections come in. It takes 8 bytes of kernel memory per descriptor,
/// its size rounded up to a power of two (256 KiB for 20,000).
pub fn reserve_descriptor_table(count: u64) -> bool {
    let Ok(highest) = libc::c_int::try_from(count.saturating_sub(1)) else {
        return false;
    };
    // Any open descriptor will do; the standard ones may be closed.
    let Ok(null) = std::fs::File::open("/dev/null") else {
        return false;
    };
    // SAFETY: `F_DUPFD_CLOEXEC` duplicates `null` onto the lowest free
    // number from `highest` on, never onto one in use; the duplicate is
    // closed at once and was known to nothing else.
    unsafe {
        let duplicate = libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&null),
            libc::F_DUPFD_CLOEXEC,
            highest,
        );
        if duplicate < 0 {
            return false;
        }
        libc::close(duplicate);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of this process's descriptor table (`FDSize` of
    /// `/proc/self/status`).
    fn table_size() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc is mounted");
        status
            .lines()
            .find_map(|line| line.strip_prefix("FDSize:"))
            .and_then(|size| size.trim().parse().ok())
            .expect("the status names the table's size")
    }

    #[test]
    fn a_reserved_table_holds_the_descriptors_asked_for() {
        let limit = raise_open_files_limit();
        let asked = limit.min(8192);
        assert!(
            asked > 256,
            "an open-files limit of {limit} is too low to test with"
        );
        assert!(reserve_descriptor_table(asked));
        assert!(table_size() >= asked, "{} < {asked}", table_size());
        // Nothing stays open: the next descriptor is a low number again.
        let file = std::fs::File::open("/proc/self/status").expect("opens");
        assert!(std::os::fd::AsRawFd::as_raw_fd(&file) < 256);
    }

    #[test]
    fn a_table_past_the_limit_is_refused() {
        let limit = raise_open_files_limit();
        assert!(!reserve_descriptor_table(limit + 1));
        assert!(!reserve_descriptor_table(u64::MAX));
    }
}
