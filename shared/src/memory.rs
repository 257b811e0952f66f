//! How the processes allocate: one setting for `tx serve` and every Lambda
//! main, chosen by measurement.
//!
//! glibc gives a thread that meets contention its own malloc arena, up to
//! eight per core, and never gives their memory back while the process
//! lives. A long-lived process that converts on tokio's changing blocking
//! threads (`tx serve`, a warm Lambda) so grows with every build: over 100
//! en_tn builds in one `tx serve`, resident memory went from 469 MB after
//! five to 1,047 MB. Measured with `tx bench e2e --memory 40` (same run,
//! same input): glibc's default grew 124 %, mimalloc 78 % (781 → 1,391 MB),
//! two arenas +4 % (153 → 159 MB), one arena +2 % (86 → 88 MB). Two arenas
//! are flat and still let both cores of a small machine allocate at once.

/// Arenas a process may use.
pub const MALLOC_ARENAS: i32 = 2;

/// Limits glibc to [`MALLOC_ARENAS`] arenas, unless the operator set
/// `MALLOC_ARENA_MAX` (glibc's own knob, which then wins). Call it first
/// thing in `main`, before conversions start. Elsewhere than glibc it does
/// nothing.
pub fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter, under glibc's own
    // lock (callable from any thread), and M_ARENA_MAX takes any positive
    // count; no memory is touched.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}
