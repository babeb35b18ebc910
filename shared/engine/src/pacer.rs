//! Paces sends to a rate (SES accounts have a maximum send rate; exceeding it is throttling).

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Instant>,
}

impl Pacer {
    /// `per_second == 0`: no pacing (the outbox).
    pub fn new(per_second: u32) -> Self {
        Self {
            interval: (per_second > 0).then(|| Duration::from_secs(1) / per_second),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next send slot.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_at_the_rate() {
        let p = Pacer::new(10);
        let start = Instant::now();
        for _ in 0..21 {
            p.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let unpaced = Pacer::new(0);
        let start = Instant::now();
        for _ in 0..1000 {
            unpaced.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
