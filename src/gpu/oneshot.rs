//! A one-value channel whose receiver is a future: wgpu's map callback sends, the executor awaits. Natively the
//! device is polled until the value is there; in the browser the callback arrives from the event loop, so awaiting
//! must not block.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    closed: bool,
    waker: Option<Waker>,
}

pub(crate) struct Sender<T>(Arc<Mutex<Slot<T>>>);
pub(crate) struct Receiver<T>(Arc<Mutex<Slot<T>>>);

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot { value: None, closed: false, waker: None }));
    (Sender(Arc::clone(&slot)), Receiver(slot))
}

impl<T> Sender<T> {
    pub(crate) fn send(self, value: T) {
        if let Ok(mut slot) = self.0.lock() {
            slot.value = Some(value);
        }
    }
}

impl<T> Drop for Sender<T> {
    /// Sending or dropping both wake the receiver, so a callback that is dropped unanswered cannot leave it waiting.
    fn drop(&mut self) {
        if let Ok(mut slot) = self.0.lock() {
            slot.closed = true;
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// The value if it has arrived, without waiting.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn try_take(&self) -> Option<T> {
        self.0.lock().ok().and_then(|mut slot| slot.value.take())
    }
}

/// `None` when the sender went away without a value.
impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Ok(mut slot) = self.0.lock() else { return Poll::Ready(None) };
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
