//! The C allocator's settings for a process that serves requests.

/// Hands memory the heap holds free back to the kernel: for a process that
/// has just built its state (the local server, after loading a seed) and
/// freed what it built it from.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the heap to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Keeps freed memory in the process instead of handing it back to the
/// kernel, and serves large blocks from the heap instead of fresh mappings.
///
/// By default glibc gives the top of the heap back once 128 KB are free
/// there, and maps each block over 128 KB afresh (both thresholds then
/// adapt). A response of a few hundred KB — a status page of 250 items —
/// then pays a page fault per 4 KB for memory the process held a moment
/// before: 12% of that page's handler time (`bench/warm`), CPU that a
/// 128 MB function gets 7% of a core for. What the process keeps is bounded
/// by its own peak, which the function's memory size bounds anyway; no
/// response exceeds API Gateway's 6 MB, well under the 32 MB set here.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 32 << 20;
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before the process serves anything, and glibc serialises it with
        // allocation anyway.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
        }
    }
}
