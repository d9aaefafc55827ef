//! A run's sign of life. The job runtime gives every attempt a [`Heartbeat`]; the work renews it
//! whenever it makes progress — a unit done, a page read, an FPL request admitted or answered, a
//! statement committed — and the runtime aborts an attempt that stays silent for its kind's
//! stall window (see `jobs::policy`). A run that works for hours is therefore never taken for
//! stalled, and one that hangs is noticed within the window, whatever its length.
//!
//! A deliberate wait — queued behind other traffic in the FPL client's admission control, a
//! `Retry-After` or backoff before the next FPL attempt, a dependency run being waited for —
//! holds a [`Waiting`] guard: the work is known to be healthy while it waits, so no silence
//! accumulates until the guard is dropped (which counts as a beat).
//!
//! A leaf: it imports nothing of the crate, so the clients below the job runtime can renew it.
//! Time is tokio's, so paused-time tests drive it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Shared by an attempt's work (which beats) and the runtime (which watches). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    /// Milliseconds from `origin` to the last beat.
    last_ms: AtomicU64,
    /// Deliberate waits under way.
    waiting: AtomicUsize,
    beats: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self::new()
    }
}

impl Heartbeat {
    /// A heartbeat that has just beaten.
    pub fn new() -> Self {
        Heartbeat {
            inner: Arc::new(Inner {
                origin: Instant::now(),
                last_ms: AtomicU64::new(0),
                waiting: AtomicUsize::new(0),
                beats: AtomicU64::new(0),
            }),
        }
    }

    /// The work made progress.
    pub fn beat(&self) {
        let now = self.inner.origin.elapsed().as_millis() as u64;
        self.inner.last_ms.fetch_max(now, Ordering::AcqRel);
        self.inner.beats.fetch_add(1, Ordering::Relaxed);
    }

    /// Beats counted so far.
    pub fn beats(&self) -> u64 {
        self.inner.beats.load(Ordering::Relaxed)
    }

    /// Marks a deliberate wait until the guard is dropped.
    pub fn waiting(&self) -> Waiting {
        self.inner.waiting.fetch_add(1, Ordering::AcqRel);
        Waiting {
            heart: self.clone(),
        }
    }

    /// How long the work has shown no sign of life (zero while it waits deliberately).
    pub fn silent_for(&self) -> Duration {
        if self.inner.waiting.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.inner.last_ms.load(Ordering::Acquire));
        self.inner.origin.elapsed().saturating_sub(last)
    }

    /// Resolves once the work has been silent for `window`.
    pub async fn silence(&self, window: Duration) {
        loop {
            let silent = self.silent_for();
            if silent >= window {
                return;
            }
            tokio::time::sleep(window - silent).await;
        }
    }
}

/// A deliberate wait (see the module doc); dropping it counts as a beat.
#[must_use = "the wait lasts as long as the guard"]
#[derive(Debug)]
pub struct Waiting {
    heart: Heartbeat,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.heart.beat();
        self.heart.inner.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(30);

    #[tokio::test(start_paused = true)]
    async fn work_that_keeps_beating_for_ten_windows_is_never_silent_for_one() {
        let heart = Heartbeat::new();
        let beater = heart.clone();
        let work = async move {
            for _ in 0..40 {
                tokio::time::sleep(WINDOW / 4).await;
                beater.beat();
            }
        };
        tokio::select! {
            _ = work => {}
            _ = heart.silence(WINDOW) => panic!("taken for stalled while beating"),
        }
        assert_eq!(heart.beats(), 40);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_noticed_one_window_after_the_last_beat() {
        let heart = Heartbeat::new();
        tokio::time::sleep(Duration::from_secs(7)).await;
        heart.beat();
        let started = Instant::now();
        heart.silence(WINDOW).await;
        assert_eq!(started.elapsed(), WINDOW);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deliberate_wait_accumulates_no_silence_and_its_end_is_a_beat() {
        let heart = Heartbeat::new();
        let wait = heart.waiting();
        tokio::select! {
            _ = tokio::time::sleep(WINDOW * 10) => {}
            _ = heart.silence(WINDOW) => panic!("taken for stalled while waiting"),
        }
        assert_eq!(heart.silent_for(), Duration::ZERO);
        drop(wait);
        let ended = Instant::now();
        heart.silence(WINDOW).await;
        assert_eq!(ended.elapsed(), WINDOW);
    }
}
