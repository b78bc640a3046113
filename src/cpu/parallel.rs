//! Data parallelism for the CPU kernels: natively a private rayon pool of `worker_count` threads (so the caller's
//! own rayon settings are left alone); in wasm, and for work too small to be worth handing off, a plain loop on
//! the calling thread.

/// Below this much work (multiply-adds, or values read and written) a kernel runs on the calling thread: a
/// hand-off to the pool costs a few microseconds, about what this much work takes.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) const MIN_PARALLEL_WORK: usize = 1 << 16;

/// Threads the CPU kernels use: the machine's cores natively (at most 8), one in the browser (no shared-memory
/// threads there). `VITRINE_THREADS=N` sets it natively, read once (benchmarks at a chosen thread count).
pub fn worker_count() -> usize {
    if cfg!(target_arch = "wasm32") {
        return 1;
    }
    static COUNT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *COUNT.get_or_init(|| {
        let chosen = std::env::var("VITRINE_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
        chosen.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)).min(64)
    })
}

/// Calls `f(index, item)` for every item: spread over the pool when there is more than one item, more than one
/// thread and at least `MIN_PARALLEL_WORK` of `work` in all; in order on this thread otherwise.
pub(crate) fn for_each<T: Send>(items: &mut [T], work: usize, f: impl Fn(usize, &mut T) + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    if items.len() > 1 && work >= MIN_PARALLEL_WORK {
        if let Some(pool) = pool() {
            use rayon::prelude::*;
            pool.install(|| items.par_iter_mut().enumerate().for_each(|(i, item)| f(i, item)));
            return;
        }
    }
    let _ = work;
    items.iter_mut().enumerate().for_each(|(i, item)| f(i, item));
}

/// The pool, built on first use; `None` with one worker, or where the threads could not be started.
#[cfg(not(target_arch = "wasm32"))]
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let threads = worker_count();
        (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("vitrine-cpu-{i}"))
                    .build()
                    .ok()
            })
            .flatten()
    })
    .as_ref()
}

/// How many parts to cut `len` items (rows, say) into: four per thread, so the pool can balance uneven progress
/// (another process on one of the cores, say), and at most one item each.
pub(crate) fn parts(len: usize) -> usize {
    (worker_count() * 4).clamp(1, len.max(1))
}
