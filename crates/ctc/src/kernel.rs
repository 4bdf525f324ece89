//! Which compiled copy of the CTC loss kernels runs: the portable one, or
//! the same code built for AVX2 + FMA or AVX-512 (x86_64). By default the
//! widest the CPU supports; `SORI_CTC_KERNEL=generic|avx2|avx512` (read once,
//! at the first loss) or [`force_kernel`] picks one, so every copy can be
//! tested against the references on any machine that runs it
//! (`tests/kernels.rs`).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// A compiled copy of the loss kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Portable Rust (what the compiler's baseline target allows).
    Generic,
    /// AVX2 + FMA, 256-bit vectors.
    Avx2,
    /// AVX-512 (F, BW, DQ, VL) + FMA, 512-bit vectors.
    Avx512,
}

impl Kernel {
    /// The name `SORI_CTC_KERNEL` takes.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Generic => "generic",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn supported(self) -> bool {
        match self {
            Kernel::Generic => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512bw")
                    && std::is_x86_feature_detected!("avx512dq")
                    && std::is_x86_feature_detected!("avx512vl")
                    && std::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// Every kernel, widest last.
pub const ALL_KERNELS: [Kernel; 3] = [Kernel::Generic, Kernel::Avx2, Kernel::Avx512];

const AUTO: u8 = 0;
static FORCED: AtomicU8 = AtomicU8::new(AUTO);

fn encode(k: Kernel) -> u8 {
    match k {
        Kernel::Generic => 1,
        Kernel::Avx2 => 2,
        Kernel::Avx512 => 3,
    }
}

/// Makes every later loss in this process run `kernel` (`None`: back to the
/// default). A kernel this CPU cannot run is refused with a message naming
/// it.
pub fn force_kernel(kernel: Option<Kernel>) -> Result<(), String> {
    match kernel {
        Some(k) if !k.supported() => {
            Err(format!("this CPU cannot run the {} CTC kernel", k.name()))
        }
        Some(k) => {
            FORCED.store(encode(k), Ordering::Relaxed);
            Ok(())
        }
        None => {
            FORCED.store(AUTO, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// The widest kernel this CPU runs.
pub fn detected_kernel() -> Kernel {
    if Kernel::Avx512.supported() {
        Kernel::Avx512
    } else if Kernel::Avx2.supported() {
        Kernel::Avx2
    } else {
        Kernel::Generic
    }
}

/// `SORI_CTC_KERNEL`, read once: a kernel the CPU cannot run, or an unknown
/// name, panics with a message naming the variable (a test run that asks for
/// a kernel must not silently get another).
fn from_env() -> Option<Kernel> {
    static ENV: OnceLock<Option<Kernel>> = OnceLock::new();
    *ENV.get_or_init(|| {
        let v = std::env::var("SORI_CTC_KERNEL").ok()?;
        let k = match v.as_str() {
            "" | "auto" => return None,
            "generic" => Kernel::Generic,
            "avx2" => Kernel::Avx2,
            "avx512" => Kernel::Avx512,
            other => panic!("SORI_CTC_KERNEL={other}: expected generic, avx2, avx512 or auto"),
        };
        assert!(
            k.supported(),
            "SORI_CTC_KERNEL={v}: this CPU cannot run that kernel"
        );
        Some(k)
    })
}

/// The kernel the next loss runs: [`force_kernel`]'s, else
/// `SORI_CTC_KERNEL`'s, else [`detected_kernel`].
pub fn current_kernel() -> Kernel {
    match FORCED.load(Ordering::Relaxed) {
        1 => Kernel::Generic,
        2 => Kernel::Avx2,
        3 => Kernel::Avx512,
        _ => from_env().unwrap_or_else(detected_kernel),
    }
}
