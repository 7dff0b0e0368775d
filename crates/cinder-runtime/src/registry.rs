//! Registries: names for processes, removed automatically when they exit.
//!
//! A [`Registry`] maps keys to pids, like Elixir's `Registry`:
//!
//! - [`Registry::unique`]: each key names at most one process.
//! - [`Registry::duplicate`]: many processes under one key, for dispatch
//!   (each entry carries a value of its own).
//!
//! Entries vanish when their process exits. The process-wide name table of
//! Erlang's `register/2` is [`register`], [`whereis`] and [`send_named`].
//!
//! ```
//! use cinder_runtime::{registry::Registry, spawn, Context, ExitReason};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let rooms: Registry<String> = Registry::unique();
//! let pid = spawn(|mut ctx: Context<()>| async move {
//!     ctx.recv().await;
//!     ExitReason::Normal
//! });
//! rooms.register("lobby".to_string(), &pid, ()).unwrap();
//! assert_eq!(rooms.whereis("lobby"), Some(pid.clone()));
//!
//! pid.send(()).unwrap();
//! pid.exited().await;
//! assert_eq!(rooms.whereis("lobby"), None);
//! # }
//! ```

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::owners::{self, Owners};
use crate::process::{self, Pid, SendError};

/// A key is taken in a [`Registry::unique`] registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key is already registered to {0}")]
pub struct AlreadyRegistered(pub Pid);

/// A table of keys to processes that forgets processes when they exit.
pub struct Registry<K, V = ()> {
    inner: Arc<Inner<K, V>>,
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K, V> {
    unique: bool,
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    entries: HashMap<K, Vec<(Pid, V)>>,
    owners: Owners<K>,
}

impl<K, V> Inner<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn owner_exited(&self, pid: &Pid) {
        let mut state = self.lock();
        for key in state.owners.take(pid) {
            remove_entries(&mut state.entries, &key, pid);
        }
    }
}

fn remove_entries<K: Eq + Hash, V>(entries: &mut HashMap<K, Vec<(Pid, V)>>, key: &K, pid: &Pid) {
    if let Some(list) = entries.get_mut(key) {
        list.retain(|(holder, _)| holder != pid);
        if list.is_empty() {
            entries.remove(key);
        }
    }
}

impl<K, V> Registry<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// A registry where each key names at most one process.
    pub fn unique() -> Self {
        Registry::with_mode(true)
    }

    /// A registry where a key may list many processes (and one process may
    /// appear under a key several times, each with its own value).
    pub fn duplicate() -> Self {
        Registry::with_mode(false)
    }

    fn with_mode(unique: bool) -> Self {
        Registry {
            inner: Arc::new(Inner {
                unique,
                state: Mutex::new(State {
                    entries: HashMap::new(),
                    owners: Owners::new(),
                }),
            }),
        }
    }

    /// Registers `pid` under `key` with `value`. In a unique registry this
    /// fails if the key is taken.
    pub fn register(&self, key: K, pid: &Pid, value: V) -> Result<(), AlreadyRegistered> {
        let needs_monitor = {
            let mut state = self.inner.lock();
            let list = state.entries.entry(key.clone()).or_default();
            if self.inner.unique {
                if let Some((holder, _)) = list.first() {
                    return Err(AlreadyRegistered(holder.clone()));
                }
            }
            list.push((pid.clone(), value));
            state.owners.add(pid, key)
        };
        if needs_monitor {
            let monitor = owners::watch(pid, &self.inner, Inner::owner_exited);
            if let Some(unneeded) = self.inner.lock().owners.set_monitor(pid, monitor) {
                process::demonitor(&unneeded);
            }
        }
        Ok(())
    }

    /// Removes every entry of `pid` under `key`.
    pub fn unregister(&self, key: &K, pid: &Pid) {
        let mut state = self.inner.lock();
        remove_entries(&mut state.entries, key, pid);
        let monitor = state.owners.remove_all(pid, key);
        drop(state);
        if let Some(monitor) = monitor {
            process::demonitor(&monitor);
        }
    }

    /// Every `(pid, value)` under `key`, oldest first.
    pub fn lookup<Q>(&self, key: &Q) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner
            .lock()
            .entries
            .get(key)
            .cloned()
            .unwrap_or_default()
    }

    /// The first process under `key`: in a unique registry, the only one.
    pub fn whereis<Q>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let state = self.inner.lock();
        state.entries.get(key)?.first().map(|(pid, _)| pid.clone())
    }

    /// The keys `pid` is registered under.
    pub fn keys(&self, pid: &Pid) -> Vec<K> {
        self.inner.lock().owners.keys(pid).to_vec()
    }

    /// The number of entries.
    pub fn count(&self) -> usize {
        self.inner.lock().entries.values().map(Vec::len).sum()
    }

    /// Calls `visit` for every entry under `key`, under the registry's lock:
    /// keep it short (sending a message is fine).
    pub fn dispatch<Q>(&self, key: &Q, mut visit: impl FnMut(&Pid, &V))
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(list) = self.inner.lock().entries.get(key) {
            for (pid, value) in list {
                visit(pid, value);
            }
        }
    }

    /// Sends `message` to the process under `key` (the first one in a
    /// duplicate registry). [`SendError::NoProc`] if there is none.
    pub fn send<Q, M>(&self, key: &Q, message: M) -> Result<(), SendError<M>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        M: Send + 'static,
    {
        match self.whereis(key) {
            Some(pid) => pid.send(message),
            None => Err(SendError::NoProc(message)),
        }
    }
}

static NAMES: LazyLock<Registry<Arc<str>>> = LazyLock::new(Registry::unique);

/// Registers `pid` under a process-wide `name` (Erlang's `register/2`).
/// Fails with the current holder if the name is taken. The name is freed
/// when the process exits, and shows in its
/// [`ProcessInfo`](crate::introspection::ProcessInfo).
pub fn register(name: impl Into<Arc<str>>, pid: &Pid) -> Result<(), Pid> {
    let name = name.into();
    NAMES
        .register(name.clone(), pid, ())
        .map_err(|AlreadyRegistered(holder)| holder)?;
    pid.set_name(Some(name));
    Ok(())
}

/// Frees a process-wide name.
pub fn unregister(name: &str) {
    if let Some(pid) = NAMES.whereis(name) {
        NAMES.unregister(&Arc::from(name), &pid);
        pid.set_name(None);
    }
}

/// The process registered under `name`, if any (Erlang's `whereis/1`).
pub fn whereis(name: &str) -> Option<Pid> {
    NAMES.whereis(name)
}

/// Sends `message` to the process registered under `name`.
pub fn send_named<M: Send + 'static>(name: &str, message: M) -> Result<(), SendError<M>> {
    NAMES.send(name, message)
}
