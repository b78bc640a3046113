// `Moments` and `chan`, the pairwise combination of norm statistics tiled.wgsl (each tile's, per quad of output
// channels) and norm_finish.wgsl (the tiles', per channel, scalars splatted into the vector) both take; the loader
// prepends this to both, so the arithmetic exists once.

// (count, mean, M2) of up to four channels that share the count, one lane each.
struct Moments {
    n: f32,
    mean: vec4<f32>,
    m2: vec4<f32>,
}

// Chan et al.'s pairwise combination of two summaries: exact for either side empty, and the same tree of calls gives
// the same bits every run.
fn chan(a: Moments, b: Moments) -> Moments {
    if (b.n == 0.0) {
        return a;
    }
    if (a.n == 0.0) {
        return b;
    }
    let n = a.n + b.n;
    let d = b.mean - a.mean;
    return Moments(n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n));
}

