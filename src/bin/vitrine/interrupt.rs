//! Ctrl-C and SIGTERM (a shell, cron or a container stopping the run): the files and folders the CLI has made and
//! not finished, an output's temporary file and the private runtime folder, are removed, then the signal ends the
//! process as it would have (so a shell sees death by that signal and stops a loop over photos too). Finished
//! outputs stay. A signal the process was started with ignored (a background job's SIGINT) stays ignored.
//!
//! The removal runs in the signal handler itself, so it may only use what is safe there: the paths are kept as C
//! strings in atomic slots, taken with one swap (the handler and the guard's drop never both own one), and removed
//! with `unlink`/`rmdir`. No thread of its own: a thread would reserve an allocator arena of address space, which
//! a tight `ulimit -v` counts. A path is on the list from just after it is made until it is finished, so a signal
//! in the instant between can still leave it.

use std::path::Path;

/// Installs the handler, before anything is made; where the platform refuses one, a stop leaves things as the
/// default signal would.
pub fn install() {
    #[cfg(unix)]
    unix::install();
}

/// Keeps `path` on the list to remove until the guard is dropped (the file renamed into place, or removed).
pub fn unfinished(path: &Path) -> Unfinished {
    #[cfg(unix)]
    return Unfinished(unix::keep(path));
    #[cfg(not(unix))]
    {
        let _ = path;
        Unfinished(())
    }
}

#[cfg(unix)]
pub struct Unfinished(Option<usize>);
#[cfg(not(unix))]
pub struct Unfinished(());

impl Drop for Unfinished {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(slot) = self.0 {
            unix::release(slot);
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr::null_mut;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// An output's temporary file and the runtime folder at most, with room to spare.
    static SLOTS: [AtomicPtr<libc::c_char>; 8] = [const { AtomicPtr::new(null_mut()) }; 8];

    pub fn install() {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if ignored(signal) {
                continue;
            }
            // SAFETY: the action only swaps atomics and calls unlink, rmdir, the default action's re-raise
            // (`emulate_default_handler`, made for signal handlers) and _exit, all async-signal-safe.
            let _ = unsafe {
                signal_hook::low_level::register(signal, move || {
                    remove_unfinished();
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    libc::_exit(128 + signal);
                })
            };
        }
    }

    /// Whether the process was started with `signal` ignored (`nohup`, a shell's background job).
    fn ignored(signal: libc::c_int) -> bool {
        // SAFETY: reads the current action into a zeroed struct; a null new action changes nothing.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut current) == 0 && current.sa_sigaction == libc::SIG_IGN
        }
    }

    fn remove_unfinished() {
        for slot in &SLOTS {
            let path = slot.swap(null_mut(), Ordering::AcqRel);
            if !path.is_null() {
                // SAFETY: a C string leaked by `keep`, now owned here; a file or an empty folder, whichever it is.
                unsafe {
                    if libc::unlink(path) != 0 {
                        libc::rmdir(path);
                    }
                }
            }
        }
    }

    /// The slot `path` went into, or `None` when it cannot be kept (a NUL in it, or every slot taken).
    pub fn keep(path: &Path) -> Option<usize> {
        let path = CString::new(path.as_os_str().as_bytes()).ok()?.into_raw();
        for (index, slot) in SLOTS.iter().enumerate() {
            if slot.compare_exchange(null_mut(), path, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                return Some(index);
            }
        }
        // SAFETY: made by `into_raw` above and never shared.
        drop(unsafe { CString::from_raw(path) });
        None
    }

    pub fn release(index: usize) {
        let path = SLOTS[index].swap(null_mut(), Ordering::AcqRel);
        if !path.is_null() {
            // SAFETY: made by `into_raw` in `keep`; the swap made it ours alone.
            drop(unsafe { CString::from_raw(path) });
        }
    }
}
