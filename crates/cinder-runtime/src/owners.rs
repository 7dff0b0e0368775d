//! Which keys each process holds in a registry-like table, and the monitor
//! that removes them when the process exits.
//!
//! Registries and PubSub are not processes, so they watch their members with
//! callback monitors: one per member process, however many keys it holds.

use std::sync::{Arc, Weak};

use crate::ids::IdMap;
use crate::process::{self, MonitorRef, Pid};

pub(crate) struct Owners<K> {
    by_pid: IdMap<Owner<K>>,
}

struct Owner<K> {
    monitor: Option<MonitorRef>,
    keys: Vec<K>,
}

impl<K: PartialEq> Owners<K> {
    pub(crate) fn new() -> Self {
        Owners {
            by_pid: IdMap::default(),
        }
    }

    /// Records that `pid` holds `key`. True when the pid is new here and
    /// needs a monitor (see [`watch`]).
    pub(crate) fn add(&mut self, pid: &Pid, key: K) -> bool {
        let mut new = false;
        let owner = self.by_pid.entry(pid.id()).or_insert_with(|| {
            new = true;
            Owner {
                monitor: None,
                keys: Vec::new(),
            }
        });
        owner.keys.push(key);
        new
    }

    /// Stores the monitor for `pid`, unless the pid left in the meantime.
    /// Returns the monitor back when it is no longer needed.
    pub(crate) fn set_monitor(&mut self, pid: &Pid, monitor: MonitorRef) -> Option<MonitorRef> {
        match self.by_pid.get_mut(&pid.id()) {
            Some(owner) => {
                owner.monitor = Some(monitor);
                None
            }
            None => Some(monitor),
        }
    }

    /// Forgets every holding of `key` by `pid`; returns the pid's monitor
    /// when that leaves it no key, for the caller to remove.
    pub(crate) fn remove_all(&mut self, pid: &Pid, key: &K) -> Option<MonitorRef> {
        let owner = self.by_pid.get_mut(&pid.id())?;
        owner.keys.retain(|held| held != key);
        if owner.keys.is_empty() {
            return self
                .by_pid
                .remove(&pid.id())
                .and_then(|owner| owner.monitor);
        }
        None
    }

    /// Forgets the pid entirely and returns the keys it held.
    pub(crate) fn take(&mut self, pid: &Pid) -> Vec<K> {
        self.by_pid
            .remove(&pid.id())
            .map(|owner| owner.keys)
            .unwrap_or_default()
    }

    pub(crate) fn keys(&self, pid: &Pid) -> &[K] {
        self.by_pid
            .get(&pid.id())
            .map(|owner| owner.keys.as_slice())
            .unwrap_or_default()
    }
}

/// Monitors `pid` on behalf of `table`; `on_exit` runs when the pid exits,
/// as long as the table still exists.
pub(crate) fn watch<T: Send + Sync + 'static>(
    pid: &Pid,
    table: &Arc<T>,
    on_exit: fn(&T, &Pid),
) -> MonitorRef {
    let table: Weak<T> = Arc::downgrade(table);
    process::monitor_with(pid, move |pid, _| {
        if let Some(table) = table.upgrade() {
            on_exit(&table, pid);
        }
    })
}
