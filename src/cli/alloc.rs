//! Allocator tuning for the long-running daemon (glibc only).
//!
//! glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after
//! which the daemon's large, short-lived buffers (a tick's unfiltered frames, the reorder
//! buffer growing under a burst) come from the heap arenas and stay there as
//! fragmentation. A fixed threshold keeps them mapped and returned on free: the 200k
//! events/s, 500-screen benchmark peaked at 254–261 MB instead of 294 MB (docs/benchmarks.md).

/// At most this many malloc arenas: glibc's default (8 per core) lets each of the
/// daemon's threads (runtime workers, blocking pool, engine, sources) keep its own
/// arena of freed frames; four bound that (−7 to −10 MB at the benchmark's peak).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_MAX: libc::c_int = 4;

/// Blocks at least this large are mapped on their own and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// Fixes glibc's mmap threshold and arena count (a no-op elsewhere); call before the
/// daemon starts threads.
pub fn tune_for_daemon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets an allocator parameter; it is called once, before
        // the daemon's threads start, with a documented parameter and a valid value.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok == 0 {
            tracing::debug!("mallopt(M_MMAP_THRESHOLD) was refused; glibc's default stays");
        }
        // SAFETY: as above, another documented parameter with a valid value.
        if unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX) } == 0 {
            tracing::debug!("mallopt(M_ARENA_MAX) was refused; glibc's default stays");
        }
    }
}
