//! Allocator tuning for the long-running daemon (glibc only).
//!
//! glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after
//! which the daemon's large, short-lived buffers (a tick's unfiltered frames, the reorder
//! buffer growing under a burst) come from the heap arenas and stay there as
//! fragmentation. A fixed threshold keeps them mapped and returned on free: the 200k
//! events/s, 500-screen benchmark peaked at 254–261 MB instead of 294 MB (docs/benchmarks.md).

/// Blocks at least this large are mapped on their own and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// Fixes glibc's mmap threshold (a no-op elsewhere); call before the daemon starts threads.
pub fn tune_for_daemon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets an allocator parameter; it is called once, before
        // the daemon's threads start, with a documented parameter and a valid value.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok == 0 {
            tracing::debug!("mallopt(M_MMAP_THRESHOLD) was refused; glibc's default stays");
        }
    }
}
