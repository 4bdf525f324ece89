//! Process settings for training and inference on CPU, applied first thing
//! in every binary and benchmark by [`configure_process`]: subnormal
//! ("denormal") floats flushed to zero, and freed memory kept for reuse.
//!
//! ## Subnormals
//!
//! Back-propagation through hundreds of recurrent steps makes gradients
//! shrink geometrically until they fall below `f32::MIN_POSITIVE` (1.2e-38),
//! where x86 and ARM cores switch to microcode-assisted arithmetic that is
//! tens of times slower per operation. The lecture's IMDB LSTM step (500
//! steps) runs about three times slower in PyTorch's default mode than with
//! `torch.set_flush_denormal(True)` on this project's machine (see the
//! README's speed table, which measures both). TensorFlow, and so the
//! Keras setups the lecture uses, run with flush-to-zero by default; sori
//! does the same. Values that small carry no information for SGD-style
//! updates (they are 30 orders of magnitude below any learning-rate-scaled
//! step), so results are unchanged beyond rounding.
//!
//! The mode is a per-thread register (MXCSR on x86-64, FPCR on AArch64).
//! Threads inherit it from the thread that creates them (POSIX: a new thread
//! gets a copy of its creator's floating-point environment), so setting it
//! first thing in `main`, before libtorch's OpenMP pool or rayon's pool
//! exist, covers every worker.

/// Both settings of this module; call first thing in `main`, before any
/// thread or large allocation exists.
pub fn configure_process() {
    flush_denormals();
    keep_freed_memory();
}

/// Makes glibc's `malloc` keep freed memory in its heap instead of handing
/// it back to the kernel; returns whether the allocator took the settings
/// (glibc on Linux only; elsewhere it does nothing).
///
/// libtorch allocates every large tensor (activations, gate buffers,
/// gradients: tens of MB per step) with `malloc`, and glibc serves blocks
/// above 128 kB with a fresh `mmap` and returns them with `munmap` on free.
/// Every training step then page-faults its whole working set in again:
/// about a million minor faults per IMDB + speech step pair, a fifth of the
/// step time (`examples/step_timing.rs`: speech BiLSTM 1.08 s → 0.85 s and
/// faults 995 k → 215 k with this setting on the project's machine).
/// PyTorch's CPU performance guide recommends swapping in jemalloc or
/// tcmalloc for the same reason; sori gets the effect from glibc itself.
/// The price is a higher resident set: memory freed after a peak stays
/// mapped (the training step above peaks at 930 MB instead of 570 MB).
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before other threads allocate.
        unsafe {
            // No mmap for large blocks: they come from the heap and return to it...
            let no_mmap = libc::mallopt(libc::M_MMAP_MAX, 0);
            // ...which is trimmed only when 1 GiB sits free at its top.
            let trim = libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            no_mmap == 1 && trim == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Sets flush-to-zero and denormals-are-zero on the calling thread (and
/// every thread it creates afterwards). Returns whether the platform
/// supports it (x86-64 with SSE, AArch64); elsewhere it does nothing.
pub fn flush_denormals() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // MXCSR bit 15: flush to zero (FTZ); bit 6: denormals are zero (DAZ).
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr/ldmxcsr read and write the SSE control register of
        // this thread only (every x86-64 CPU has SSE and both bits); only
        // the handling of subnormal values changes.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= (1 << 15) | (1 << 6);
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack));
        }
        true
    }
    #[cfg(target_arch = "aarch64")]
    {
        // FPCR bit 24: flush to zero (inputs and outputs).
        let mut fpcr: u64;
        // SAFETY: reads and writes this thread's floating-point control
        // register; only the FZ bit changes.
        unsafe {
            std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack));
            fpcr |= 1 << 24;
            std::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack));
        }
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subnormal product becomes zero after the call, on this thread and
    /// on a thread created afterwards (inheritance is what covers libtorch's
    /// worker pool).
    /// Large blocks are reused rather than unmapped: after a 48 MB
    /// allocation is freed, a second one touches no new pages (glibc's
    /// default maps blocks above its 32 MB dynamic ceiling afresh each time;
    /// 48 MB also fits the 64 MB heaps of the test thread's arena).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_large_blocks_are_reused() {
        assert!(keep_freed_memory());
        let faults = || {
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
            u.ru_minflt
        };
        let touch = || {
            let mut v = vec![1u8; 48 << 20];
            v[12345] = 2;
            std::hint::black_box(&v);
        };
        touch();
        let before = faults();
        touch();
        let again = faults() - before;
        // 48 MB is 12,288 pages; a reused block faults only a few.
        assert!(again < 1000, "{again} page faults for a reused block");
    }

    #[test]
    fn subnormals_flush_to_zero_here_and_in_new_threads() {
        let tiny = std::hint::black_box(1e-30f32);
        let scale = std::hint::black_box(1e-10f32);
        // The default mode keeps subnormals (the test would be vacuous otherwise).
        let default = std::thread::spawn(move || tiny * scale).join().unwrap();
        assert!(default > 0.0 && default < f32::MIN_POSITIVE, "{default}");
        if !flush_denormals() {
            return;
        }
        assert_eq!(
            std::hint::black_box(tiny) * std::hint::black_box(scale),
            0.0
        );
        let child = std::thread::spawn(move || tiny * scale).join().unwrap();
        assert_eq!(child, 0.0);
    }
}
