//! One database call whose result serves every caller that queued while the
//! previous call ran. Replicas on PostgreSQL read the write count before each
//! cached listing and advance it after each write. Under load, many requests
//! then share one round trip instead of sending one each.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, Result};

/// Shares calls between concurrent callers, but hands a caller only the
/// result of a call that started after the caller arrived. A call made for
/// a caller therefore sees every change that finished before it arrived,
/// exactly as a call of its own would.
pub struct SharedCall<T> {
    /// The number of calls started. Each call takes this count as its number
    /// when it starts.
    started: AtomicU64,
    /// The number of the last call that finished.
    finished: AtomicU64,
    /// Held while a call runs, so callers that arrive meanwhile queue for the next call.
    running: tokio::sync::Mutex<()>,
    /// The number and outcome of the last call that finished.
    last: Mutex<Option<(u64, Outcome<T>)>>,
}

/// A call's outcome as the callers that share it receive it. Errors are not
/// `Clone`, so a failure keeps what the response and the log need of it.
#[derive(Clone)]
enum Outcome<T> {
    Value(T),
    Unavailable(String),
    Failed(String),
}

impl<T> Outcome<T> {
    fn of(result: &Result<T>) -> Self
    where
        T: Clone,
    {
        match result {
            Ok(value) => Outcome::Value(value.clone()),
            Err(Error::Unavailable(message)) => Outcome::Unavailable(message.clone()),
            Err(Error::Internal(cause)) => Outcome::Failed(format!("{cause:#}")),
            Err(err) => Outcome::Failed(err.to_string()),
        }
    }

    fn into_result(self) -> Result<T> {
        match self {
            Outcome::Value(value) => Ok(value),
            Outcome::Unavailable(message) => Err(Error::Unavailable(message)),
            Outcome::Failed(cause) => Err(Error::Internal(anyhow::anyhow!("a shared call failed: {cause}"))),
        }
    }
}

impl<T: Clone> Default for SharedCall<T> {
    fn default() -> Self {
        SharedCall {
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            running: tokio::sync::Mutex::new(()),
            last: Mutex::new(None),
        }
    }
}

impl<T: Clone> SharedCall<T> {
    /// Returns the result of a call started after this one was made: a
    /// call that another caller started, or else `call` itself. A failure is
    /// also returned to every caller that arrived before it finished, so that
    /// while the database is down the queued callers do not each wait for a
    /// call of their own.
    pub async fn run<F, Fut>(&self, call: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // Every call numbered above `started` starts after this point, and
        // every call numbered above `finished` ends after it.
        let started = self.started.load(Ordering::Acquire);
        let finished = self.finished.load(Ordering::Acquire);
        let _running = self.running.lock().await;

        if let Some(outcome) = self.usable_outcome(started, finished) {
            return outcome.into_result();
        }

        let number = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        let result = call().await;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some((number, Outcome::of(&result)));
        self.finished.store(number, Ordering::Release);
        result
    }

    fn usable_outcome(&self, started: u64, finished: u64) -> Option<Outcome<T>> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let (number, outcome) = last.as_ref()?;
        let usable = match outcome {
            Outcome::Value(_) => *number > started,
            Outcome::Unavailable(_) | Outcome::Failed(_) => *number > finished,
        };
        usable.then(|| outcome.clone())
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
    async fn queued_callers_share_next_call() {
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
    async fn later_caller_makes_new_call() {
        let shared = SharedCall::<u64>::default();
        assert_eq!(shared.run(|| async { Ok(1) }).await.unwrap(), 1);

        assert_eq!(shared.run(|| async { Ok(2) }).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn failure_is_shared_with_queued_callers() {
        let shared = Arc::new(SharedCall::<u64>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = |calls: Arc<AtomicUsize>| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Error::Unavailable("database down".into()))
        };

        // The first call's failure also goes to the two callers that queued
        // while it ran, instead of each making a call of its own.
        let first = tokio::spawn({
            let (shared, calls) = (shared.clone(), calls.clone());
            async move { shared.run(|| failing(calls)).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut queued = Vec::new();
        for _ in 0..2 {
            let (shared, calls) = (shared.clone(), calls.clone());
            queued.push(tokio::spawn(async move { shared.run(|| failing(calls)).await }));
        }
        assert!(matches!(first.await.unwrap(), Err(Error::Unavailable(_))));
        for caller in queued {
            let Err(Error::Unavailable(message)) = caller.await.unwrap() else {
                panic!("a queued caller did not get the shared failure");
            };
            assert_eq!(message, "database down");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // A caller arriving after the failure makes a call of its own.
        assert_eq!(shared.run(|| async { Ok(3) }).await.unwrap(), 3);
    }
}
