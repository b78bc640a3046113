//! The few vector operations the CPU path's fast kernels need, over one vector type per instruction set:
//! AVX2 + FMA (x86_64, chosen at run time), WebAssembly SIMD128 (every wasm32 build, `.cargo/config.toml`), and
//! plain arrays everywhere else. Kernels are written once, generic over `Lanes`, and instantiated inside a
//! function compiled for the instruction set (`#[target_feature]`), so every method here inlines into them.

/// A vector of `N` f32 lanes.
pub(crate) trait Lanes: Copy {
    const N: usize;
    fn splat(value: f32) -> Self;
    /// Reads `N` values from `p` (no alignment needed).
    ///
    /// # Safety
    /// `p..p + N` must be readable.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p..p + N` must be writable.
    unsafe fn store(self, p: *mut f32);
    /// `self + a * b`, fused where the instruction set has it.
    fn mul_add(self, a: Self, b: Self) -> Self;
}

/// Plain arrays: the fallback, and what the compiler vectorises for the baseline instruction set. (The wasm build
/// uses SIMD128 instead; its tests still compare this one with the reference.)
#[cfg_attr(all(target_arch = "wasm32", target_feature = "simd128"), allow(dead_code))]
#[derive(Clone, Copy)]
pub(crate) struct Portable([f32; 4]);

impl Lanes for Portable {
    const N: usize = 4;
    #[inline(always)]
    fn splat(value: f32) -> Self {
        Portable([value; 4])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Portable(std::ptr::read_unaligned(p as *const [f32; 4]))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        std::ptr::write_unaligned(p as *mut [f32; 4], self.0)
    }
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        Portable(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::Avx2;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes;
    use std::arch::x86_64::*;

    /// Eight lanes of AVX2 with FMA. Only ever used inside `#[target_feature(enable = "avx2,fma")]` functions,
    /// after `available()` said yes.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256);

    impl Avx2 {
        pub(crate) fn available() -> bool {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
    }

    impl Lanes for Avx2 {
        const N: usize = 8;
        #[inline(always)]
        fn splat(value: f32) -> Self {
            // SAFETY: only reached from code compiled for and gated on AVX2 + FMA.
            Avx2(unsafe { _mm256_set1_ps(value) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(_mm256_loadu_ps(p))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            _mm256_storeu_ps(p, self.0)
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            // SAFETY: as for `splat`.
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, self.0) })
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) use wasm::Simd128;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::Lanes;
    use std::arch::wasm32::*;

    /// Four lanes of WebAssembly SIMD (no fused multiply-add without relaxed SIMD).
    #[derive(Clone, Copy)]
    pub(crate) struct Simd128(v128);

    impl Lanes for Simd128 {
        const N: usize = 4;
        #[inline(always)]
        fn splat(value: f32) -> Self {
            Simd128(f32x4_splat(value))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd128(v128_load(p as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            Simd128(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
        }
    }
}
