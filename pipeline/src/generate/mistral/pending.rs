//! The responses still to come for one `generate` call, drained in the background if the call
//! ends early so that the engine never answers into a closed channel.

use super::GenError;
use mistralrs::Response;
use tokio::sync::mpsc;

/// The responses still to come for one `generate` call.
///
/// In mistral.rs 0.8.1 a closed response channel is fatal to the engine: the failed send turns
/// into an error of the whole batch step, and sending that error to the same closed channel
/// panics the engine thread (`engine/mod.rs:412`), so every later request fails. So if a call
/// ends early (an error in one sample, or its future dropped by a timeout or a stop), the
/// receiver is kept alive and drained in the background until the engine has answered; the
/// abandoned sequences still run to their end (0.8.1 has no per-request cancel).
pub(super) struct Pending {
    pub(super) rx: Option<mpsc::Receiver<Response>>,
    pub(super) outstanding: usize,
}

impl Pending {
    pub(super) async fn recv(&mut self) -> Result<Response, GenError> {
        let engine_gone = || GenError::Fatal("the mistral.rs engine dropped a request".into());
        let rx = self.rx.as_mut().ok_or_else(engine_gone)?;
        let response = rx.recv().await.ok_or_else(engine_gone)?;
        self.outstanding = self.outstanding.saturating_sub(1);
        Ok(response)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let (Some(mut rx), outstanding) = (self.rx.take(), self.outstanding) else {
            return;
        };
        if outstanding == 0 {
            return;
        }
        let drain = async move {
            for _ in 0..outstanding {
                if rx.recv().await.is_none() {
                    break;
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn(drain)),
            // Dropped outside a runtime: drain on a plain thread.
            Err(_) => {
                let spawned = std::thread::Builder::new()
                    .name("smelt-drain".into())
                    .spawn(move || {
                        let runtime = tokio::runtime::Builder::new_current_thread().build();
                        if let Ok(runtime) = runtime {
                            runtime.block_on(drain);
                        }
                    });
                if let Err(e) = spawned {
                    tracing::warn!("cannot drain abandoned mistral.rs requests: {e}");
                }
            }
        }
    }
}
