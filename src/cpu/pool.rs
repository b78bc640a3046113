//! Activation memory kept for the next image. Memory fresh from the system costs a page fault on first touch
//! (the kernel zeroes every 4 KiB page): at 1024 x 1024 the style network's activations come to about 400 MB, some
//! 100,000 faults, a tenth of the run. The CPU executor gives dead activations back here and the kernels take their
//! outputs from here, so every run after the first writes into memory it already has.
//!
//! Per thread, at most `MAX_KEPT_BYTES` in at most `MAX_KEPT` buffers; the tests' `release_memory` hands it all
//! back.

use std::cell::RefCell;

/// Buffers smaller than this go back to the allocator, which reuses small blocks well by itself.
const MIN_KEPT_VALUES: usize = 1 << 16;
const MAX_KEPT: usize = 16;
const MAX_KEPT_BYTES: usize = 1 << 30;

thread_local! {
    static FREE: RefCell<Vec<Vec<f32>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` values with unspecified contents (old values): for outputs the caller writes in full.
pub(crate) fn take(len: usize) -> Vec<f32> {
    let reused = FREE.with(|free| {
        let mut free = free.borrow_mut();
        // The smallest kept buffer that holds `len`.
        let best = (0..free.len()).filter(|&i| free[i].capacity() >= len).min_by_key(|&i| free[i].capacity())?;
        Some(free.swap_remove(best))
    });
    match reused {
        Some(mut buffer) => {
            if buffer.len() >= len {
                buffer.truncate(len);
            } else {
                buffer.resize(len, 0.0);
            }
            buffer
        }
        None => vec![0.0; len],
    }
}

/// Keeps `buffer` for a later `take`, within the limits; drops it otherwise.
pub(crate) fn give(buffer: Vec<f32>) {
    if buffer.capacity() < MIN_KEPT_VALUES {
        return;
    }
    FREE.with(|free| {
        let mut free = free.borrow_mut();
        free.push(buffer);
        // Over the limits: drop the smallest buffers first.
        let bytes = |free: &Vec<Vec<f32>>| free.iter().map(|b| b.capacity() * 4).sum::<usize>();
        while free.len() > MAX_KEPT || (bytes(&free) > MAX_KEPT_BYTES && !free.is_empty()) {
            let smallest = (0..free.len()).min_by_key(|&i| free[i].capacity()).unwrap_or(0);
            free.swap_remove(smallest);
        }
    });
}

/// Hands the memory the CPU path keeps between images on this thread (activations, the convolution's scratch)
/// back to the allocator.
#[cfg(test)]
pub(crate) fn release_memory() {
    FREE.with(|free| free.borrow_mut().clear());
    super::conv::release_scratch();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_at_the_asked_length_and_small_ones_are_not_kept() {
        release_memory();
        give(vec![1.0; MIN_KEPT_VALUES * 2]);
        give(vec![2.0; 10]);
        let a = take(MIN_KEPT_VALUES + 3);
        assert_eq!(a.len(), MIN_KEPT_VALUES + 3);
        assert!(a.capacity() >= MIN_KEPT_VALUES * 2, "the kept buffer is reused");
        let b = take(5);
        assert_eq!(b, vec![0.0; 5], "nothing small was kept: a fresh zeroed buffer");
        give(vec![3.0; MIN_KEPT_VALUES]);
        let c = take(MIN_KEPT_VALUES + 10);
        assert_eq!(c.len(), MIN_KEPT_VALUES + 10, "a smaller kept buffer is not used");
        release_memory();
    }
}
