//! Per-key mutual exclusion (at most one connection at a time per IP address).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

/// A lock per key, created on first use.
#[derive(Debug, Default)]
pub struct KeyedLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyedLocks {
    /// Waits until no one else holds `key`, then holds it until the guard is dropped.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .locks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Forget locks nobody holds or waits for, so the map stays as small as the work in flight.
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(key.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn same_key_waits_other_key_does_not() {
        let locks = Arc::new(KeyedLocks::default());
        let g = locks.lock("1.2.3.4").await;
        let other = tokio::time::timeout(Duration::from_millis(50), locks.lock("5.6.7.8")).await;
        assert!(other.is_ok());
        let same = tokio::time::timeout(Duration::from_millis(50), locks.lock("1.2.3.4")).await;
        assert!(same.is_err());
        drop(g);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), locks.lock("1.2.3.4"))
                .await
                .is_ok()
        );
    }
}
