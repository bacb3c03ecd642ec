//! `CancelToken`: a cloneable handle that cancels a run (first request: graceful, second: kill).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

type Listener = Box<dyn Fn(u32) + Send>;

#[derive(Default)]
struct Inner {
    requests: u32,
    next_id: u64,
    listeners: Vec<(u64, Listener)>,
}

/// Cancels the runs it is given to. The first [`cancel`](Self::cancel) cancels running jobs
/// gracefully (their `after_script` runs, bounded); a second one kills them at once.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("requests", &self.requests())
            .finish()
    }
}

impl CancelToken {
    /// A token nobody has triggered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation (again).
    pub fn cancel(&self) {
        let inner = &mut *self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.requests = inner.requests.saturating_add(1);
        for (_, listener) in &inner.listeners {
            listener(inner.requests);
        }
    }

    /// How many times [`cancel`](Self::cancel) was called.
    pub fn requests(&self) -> u32 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .requests
    }

    /// Whether cancellation was requested.
    pub fn is_canceled(&self) -> bool {
        self.requests() > 0
    }

    /// Calls `listener(requests)` now for past requests (if any) and on every later request,
    /// until the returned guard is dropped.
    pub(crate) fn subscribe(&self, listener: Listener) -> Subscription {
        let inner = &mut *self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.requests > 0 {
            listener(inner.requests);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.listeners.push((id, listener));
        Subscription {
            token: self.clone(),
            id,
        }
    }
}

/// Keeps a listener registered on a [`CancelToken`].
pub(crate) struct Subscription {
    token: CancelToken,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let inner = &mut *self
            .token
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        inner.listeners.retain(|(id, _)| *id != self.id);
    }
}
