//! A store whose conditional writes land but answer `Conflict`: what a
//! client sees when the SDK retries a write whose first attempt succeeded
//! but whose answer was lost. The domain must recognise its own write on the
//! re-read instead of reporting the state it just caused.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use shared::store::StoreError;

use crate::common::hooked::{Call, Hooked, Hooks};

/// Loses the answer of every request update that landed.
#[derive(Default)]
pub struct LoseWriteAnswers {
    /// Writes whose answer was lost.
    pub lost: AtomicUsize,
}

#[async_trait]
impl Hooks for LoseWriteAnswers {
    async fn after(&self, call: &Call<'_>, ok: bool) -> Result<(), StoreError> {
        if ok && call.is_update() {
            self.lost.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Conflict(
                "condition failed (retried attempt)".into(),
            ));
        }
        Ok(())
    }
}

pub type LostAckStore = Hooked<LoseWriteAnswers>;

/// The in-process store loaded with `seed`, losing its write answers.
pub async fn lost_ack_store(seed: &str) -> LostAckStore {
    Hooked::seeded(seed, LoseWriteAnswers::default()).await
}
