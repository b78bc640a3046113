//! How much more memory this process may take: the least of what its address-space and data limits (`ulimit -v`,
//! `ulimit -d`) leave, what its cgroup's `memory.max` leaves (every level up to the root), and the memory the
//! system has available. A budget read from `/proc/meminfo` alone overlooks the first two, and a large photo then
//! aborts on an allocation instead of running in tiles within them.

/// Bytes this process can still allocate, or `None` where the platform does not say (then use a fixed budget).
pub fn available_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        linux::available_bytes()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;
    use std::path::Path;

    pub(super) fn available_bytes() -> Option<u64> {
        let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let cgroup = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        [
            headroom(soft_limit(&limits, "Max address space"), kib_field(&status, "VmSize:"))
                .map(|left| left.saturating_sub(thread_arenas())),
            headroom(soft_limit(&limits, "Max data size"), kib_field(&status, "VmData:")),
            cgroup_headroom(&cgroup, Path::new("/sys/fs/cgroup")),
            kib_field(&meminfo, "MemAvailable:"),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Address space the allocator will reserve as the CPU path's worker threads start: glibc gives each thread
    /// that allocates an arena of up to 64 MiB of address space, which counts against `ulimit -v` long before it
    /// is touched. The pool's own thread count (at most 8 unless `VITRINE_THREADS` says otherwise), not the
    /// machine's cores: on a 64-core machine those would reserve 4 GiB that no thread takes. Other allocators
    /// reserve less, so this errs towards smaller tiles.
    fn thread_arenas() -> u64 {
        crate::cpu::worker_count() as u64 * (64 << 20)
    }

    /// What is left under `limit` after `used` (nothing when over it); no limit, no bound.
    fn headroom(limit: Option<u64>, used: Option<u64>) -> Option<u64> {
        Some(limit?.saturating_sub(used.unwrap_or(0)))
    }

    /// A soft limit in bytes from `/proc/self/limits` (`None` when unlimited or unreadable).
    pub(super) fn soft_limit(limits: &str, name: &str) -> Option<u64> {
        let line = limits.lines().find(|line| line.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    }

    /// A `Name:   1234 kB` field of `/proc/self/status` or `/proc/meminfo`, in bytes.
    pub(super) fn kib_field(text: &str, name: &str) -> Option<u64> {
        let line = text.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
        kib.checked_mul(1024)
    }

    /// The least headroom under `memory.max` of this process's cgroup (v2) and every cgroup above it.
    pub(super) fn cgroup_headroom(cgroup: &str, root: &Path) -> Option<u64> {
        let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
        let mut dir = root.join(path.trim_start_matches('/'));
        let mut least: Option<u64> = None;
        while dir.starts_with(root) {
            let max = fs::read_to_string(dir.join("memory.max")).ok().and_then(|s| s.trim().parse::<u64>().ok());
            if let Some(max) = max {
                let current = fs::read_to_string(dir.join("memory.current"))
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                let left = max.saturating_sub(current);
                least = Some(least.map_or(left, |l| l.min(left)));
            }
            if !dir.pop() {
                break;
            }
        }
        least
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::{cgroup_headroom, kib_field, soft_limit};

    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit           Units\n\
        Max data size             unlimited            unlimited            bytes\n\
        Max address space         3072000000           unlimited            bytes\n";

    #[test]
    fn limits_are_read_from_proc() {
        assert_eq!(soft_limit(LIMITS, "Max address space"), Some(3_072_000_000));
        assert_eq!(soft_limit(LIMITS, "Max data size"), None);
        assert_eq!(kib_field("VmSize:\t  204800 kB\n", "VmSize:"), Some(204_800 * 1024));
        assert_eq!(kib_field("MemAvailable: 10 kB\n", "MemTotal:"), None);
    }

    #[test]
    fn the_tightest_cgroup_on_the_way_up_counts() {
        let root = std::env::temp_dir().join(format!("vitrine-cgroup-{}", std::process::id()));
        let leaf = root.join("shop/batch");
        std::fs::create_dir_all(&leaf).unwrap();
        std::fs::write(root.join("shop/memory.max"), "1000\n").unwrap();
        std::fs::write(root.join("shop/memory.current"), "400\n").unwrap();
        std::fs::write(leaf.join("memory.max"), "max\n").unwrap();
        assert_eq!(cgroup_headroom("0::/shop/batch\n", &root), Some(600));
        assert_eq!(cgroup_headroom("1:name=systemd:/x\n", &root), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn this_process_has_some_memory_left() {
        let bytes = super::available_bytes().expect("Linux reports available memory");
        assert!(bytes > 0);
    }
}
