//! One database call whose result serves every caller that queued while the previous
//! call ran. Replicas on PostgreSQL read the write count before each cached
//! listing and advance it after each write; under load, many requests then
//! share one round trip instead of sending one each.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::Result;

/// Shares calls between concurrent callers, but hands a caller only the
/// result of a call that started after the caller arrived. A call made for
/// a caller therefore sees every change that finished before it arrived,
/// exactly as a call of its own would.
pub struct SharedCall<T> {
    /// The number of calls started; each call is numbered by this count as
    /// it starts.
    started: AtomicU64,
    /// Held while a call runs, so callers that arrive meanwhile queue for the next call.
    running: tokio::sync::Mutex<()>,
    /// The number and result of the last call that succeeded.
    last: Mutex<Option<(u64, T)>>,
}

impl<T: Clone> Default for SharedCall<T> {
    fn default() -> Self {
        SharedCall { started: AtomicU64::new(0), running: tokio::sync::Mutex::new(()), last: Mutex::new(None) }
    }
}

impl<T: Clone> SharedCall<T> {
    /// Returns the result of a call started after this one was made: a
    /// call that another caller started, or else `call` itself. A failed call
    /// is returned to its own caller only; the callers behind it then try
    /// again.
    pub async fn run<F, Fut>(&self, call: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // Every call numbered above this count starts after this point.
        let arrived = self.started.load(Ordering::Acquire);
        let _running = self.running.lock().await;

        if let Some(value) = self.result_after(arrived) {
            return Ok(value);
        }

        let number = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let value = call().await?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((number, value.clone()));
        Ok(value)
    }

    fn result_after(&self, arrived: u64) -> Option<T> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.as_ref().filter(|(number, _)| *number > arrived).map(|(_, value)| value.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::error::Error;

    #[tokio::test]
    async fn callers_queued_behind_a_call_share_the_next() {
        let shared = Arc::new(SharedCall::<u64>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let call = |calls: Arc<AtomicUsize>| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(calls.fetch_add(1, Ordering::SeqCst) as u64)
        };

        // The first caller's call runs while nine more arrive.
        let first = tokio::spawn({
            let (shared, calls) = (shared.clone(), calls.clone());
            async move { shared.run(|| call(calls)).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut queued = Vec::new();
        for _ in 0..9 {
            let (shared, calls) = (shared.clone(), calls.clone());
            queued.push(tokio::spawn(async move { shared.run(|| call(calls)).await }));
        }

        assert_eq!(first.await.unwrap().unwrap(), 0);
        for caller in queued {
            assert_eq!(caller.await.unwrap().unwrap(), 1, "callers that arrived during the first call need a later one");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn finished_call_is_not_reused_by_later_caller() {
        let shared = SharedCall::<u64>::default();
        assert_eq!(shared.run(|| async { Ok(1) }).await.unwrap(), 1);

        assert_eq!(shared.run(|| async { Ok(2) }).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn failed_call_is_not_shared() {
        let shared = SharedCall::<u64>::default();
        let failed = shared.run(|| async { Err(Error::Unavailable("database down".into())) }).await;
        assert!(failed.is_err());

        assert_eq!(shared.run(|| async { Ok(3) }).await.unwrap(), 3);
    }
}
