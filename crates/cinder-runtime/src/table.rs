//! The table of live processes, for introspection.
//!
//! Sharded by pid so that spawns and exits on different threads rarely meet
//! on the same lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::ids::IdMap;
use crate::process::Pid;

const SHARDS: usize = 64;

struct Table {
    shards: [Mutex<IdMap<Pid>>; SHARDS],
    count: AtomicUsize,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| Table {
    shards: std::array::from_fn(|_| Mutex::new(IdMap::default())),
    count: AtomicUsize::new(0),
});

fn shard(id: u64) -> MutexGuard<'static, IdMap<Pid>> {
    TABLE.shards[(id as usize) % SHARDS]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn insert(pid: &Pid) {
    shard(pid.id()).insert(pid.id(), pid.clone());
    TABLE.count.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn remove(pid: &Pid) {
    if shard(pid.id()).remove(&pid.id()).is_some() {
        TABLE.count.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) fn count() -> usize {
    TABLE.count.load(Ordering::Relaxed)
}

pub(crate) fn all() -> Vec<Pid> {
    let mut pids = Vec::with_capacity(count());
    for index in 0..SHARDS {
        pids.extend(shard(index as u64).values().cloned());
    }
    pids.sort();
    pids
}
