// Workgroup-tiled convolution for the fused plan. Activations are stored in channel quads (`[quad][y][x]`, one
// vec4 per pixel per quad, f32 or f16 as `Act` says); the header `ConvTile` generates (`gpu/kernels.rs`) sets
// TILE_W x TILE_H output pixels, INVOCATIONS, OC_GROUPS x OCQ output quads per workgroup, and the workgroup arrays'
// sizes.
//
// Per quad of input channels, the workgroup loads the tile's input window with its halo into `window` once:
// padding resolved and the producer's pending work done per loaded value (its norm's scale and shift, ReLU, the
// residual add), so the conv reads a finished value and no pass of its own is needed for them. An upsampled input
// is loaded at its stored size first (`source`, each value once) and spread into the window from there. Per stage
// of kernel rows (all of a small kernel's), the quad's int8 weights for the block's output channels (4 input
// channels to a word) go to `wts`. Each invocation accumulates 4 pixels of a row x OCQ output quads in registers.
// The epilogue writes the output quads, and, when a norm follows, the tile's per-channel count, mean and M2 (Chan's
// pairwise formula, `chan` in moments.wgsl, in a fixed order: deterministic, no atomics) for `norm_finish`. A
// weighted norm (`weights_on`) counts each pixel by its weight: the count is the total weight, the mean and M2 are
// weighted, and `chan` combines such summaries unchanged.

struct TiledConvParams {
    // The conv's input as the conv sees it (after upsampling), and the stored value it is read from.
    in_quads: u32,
    in_height: u32,
    in_width: u32,
    upsample: u32,
    src_height: u32,
    src_width: u32,
    // Where the producer's norm scale and shift quads start in `affine`; `affine_on` 0: the value is stored final.
    affine_base: u32,
    affine_on: u32,
    relu: u32,
    residual_on: u32,
    // Writes the finished input value (the interior of each tile's window) to `materialised`: a stride-1 conv whose
    // output has its input's size, reading a value that is used again later (a residual block's input).
    materialise: u32,
    reflect: u32,
    out_channels: u32,
    out_height: u32,
    out_width: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride: u32,
    pad_top: u32,
    pad_left: u32,
    has_bias: u32,
    stats_on: u32,
    tiles_x: u32,
    tiles: u32,
    oc_blocks: u32,
    // Where the biases start in `scale_bias`: after the scales of every padded output channel.
    bias_offset: u32,
    // `weights_on`: the norm this conv feeds is weighted, by the plane at the output's resolution that `affine`
    // holds from quad `weights_base` on, four weights to a quad.
    weights_base: u32,
    weights_on: u32,
}

@group(0) @binding(0) var<uniform> p: TiledConvParams;
// Bindings 1 to 3, the input value, its residual and the norms' scales and shifts: pending.wgsl.
@group(0) @binding(4) var<storage, read_write> dst: array<Act>;
// `[out channel][input quad][tap]`, byte c of a word is input channel 4 * quad + c.
@group(0) @binding(5) var<storage, read> weights: array<u32>;
// Scales for every (padded) output channel, then biases.
@group(0) @binding(6) var<storage, read> scale_bias: array<f32>;
// `[out channel][tile]`: (count, mean, M2, 0).
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> materialised: array<Act>;

var<workgroup> window: array<vec4<f32>, WINDOW_CAPACITY>;
var<workgroup> source: array<vec4<f32>, SOURCE_CAPACITY>;
var<workgroup> wts: array<u32, WEIGHT_CAPACITY>;
var<workgroup> counts: array<f32, INVOCATIONS>;

const PIXEL_GROUPS: u32 = TILE_W * TILE_H / 4u;
const OC_PER_GROUP: u32 = OCQ * 4u;
const OC_PER_BLOCK: u32 = OC_GROUPS * OC_PER_GROUP;

// Index into the unpadded axis, or -1 for a zero tap, with this conv's padding mode.
fn source_index(i: i32, n: i32) -> i32 {
    return padded_index(i, n, p.reflect != 0u);
}

// The finished stored value of quad `q` at (y, x) of the stored tensor (before upsampling).
fn input_value(q: u32, y: u32, x: u32) -> vec4<f32> {
    let at = (q * p.src_height + y) * p.src_width + x;
    return load_finished(q, at, PendingWork(p.affine_base, p.affine_on, p.relu, p.residual_on));
}

// How much output pixel (oy, ox) counts in the statistics: its weight where the norm is weighted, else 1.
fn pixel_weight(oy: u32, ox: u32) -> f32 {
    if (p.weights_on == 0u) {
        return 1.0;
    }
    let i = oy * p.out_width + ox;
    return affine[p.weights_base + i / 4u][i % 4u];
}

fn weight_quad(word: u32) -> vec4<f32> {
    return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

// Loads input quad `q`'s window for the tile at (ty0, tx0) into `window`, finished (see `input_value`); an
// upsampled input through `source` first, each stored value once. The window's interior is the tile's own pixels
// when `materialise` is set (stride 1, same size): the first block of output channels writes it out as stored.
fn load_window(
    q: u32,
    block: u32,
    ty0: u32,
    tx0: u32,
    window_w: u32,
    window_h: u32,
    y_lo: u32,
    x_lo: u32,
    source_w: u32,
    source_h: u32,
    lid: u32,
) {
    let u = p.upsample;
    if (u > 1u) {
        for (var i = lid; i < source_w * source_h; i += INVOCATIONS) {
            source[i] = input_value(q, y_lo + i / source_w, x_lo + i % source_w);
        }
        workgroupBarrier();
    }
    for (var i = lid; i < window_w * window_h; i += INVOCATIONS) {
        let wy = i / window_w;
        let wx = i % window_w;
        let iy = source_index(i32(ty0 * p.stride + wy) - i32(p.pad_top), i32(p.in_height));
        let ix = source_index(i32(tx0 * p.stride + wx) - i32(p.pad_left), i32(p.in_width));
        var v = vec4<f32>(0.0);
        if (iy >= 0 && ix >= 0) {
            if (u > 1u) {
                v = source[(u32(iy) / u - y_lo) * source_w + u32(ix) / u - x_lo];
            } else {
                v = input_value(q, u32(iy), u32(ix));
            }
            let inside = wy >= p.pad_top && wy < p.pad_top + TILE_H && wx >= p.pad_left && wx < p.pad_left + TILE_W
                && ty0 + wy - p.pad_top < p.in_height && tx0 + wx - p.pad_left < p.in_width;
            if (p.materialise != 0u && block == 0u && inside) {
                materialised[(q * p.in_height + u32(iy)) * p.in_width + u32(ix)] = Act(v);
            }
        }
        window[i] = v;
    }
}

@compute @workgroup_size(INVOCATIONS)
fn conv_tiled(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = wid.y * groups.x + wid.x;
    if (group >= p.tiles * p.oc_blocks) {
        return;
    }
    let block = group / p.tiles;
    let tile = group % p.tiles;
    let ty0 = (tile / p.tiles_x) * TILE_H;
    let tx0 = (tile % p.tiles_x) * TILE_W;
    let window_w = (TILE_W - 1u) * p.stride + p.kernel_w;
    let window_h = (TILE_H - 1u) * p.stride + p.kernel_h;
    // The stored rows and columns an upsampled window reads (reflections stay inside them).
    let u = p.upsample;
    let y_lo = u32(max(i32(ty0 * p.stride) - i32(p.pad_top), 0)) / u;
    let x_lo = u32(max(i32(tx0 * p.stride) - i32(p.pad_left), 0)) / u;
    let y_hi = u32(min(i32(ty0 * p.stride + window_h) - 1 - i32(p.pad_top), i32(p.in_height) - 1)) / u;
    let x_hi = u32(min(i32(tx0 * p.stride + window_w) - 1 - i32(p.pad_left), i32(p.in_width) - 1)) / u;
    let source_w = x_hi - x_lo + 1u;
    let source_h = y_hi - y_lo + 1u;

    let pg = lid % PIXEL_GROUPS;
    let og = lid / PIXEL_GROUPS;
    let py = pg / (TILE_W / 4u);
    let px0 = (pg % (TILE_W / 4u)) * 4u;
    let first_oc = block * OC_PER_BLOCK;

    var acc: array<vec4<f32>, ACC>;
    for (var i = 0u; i < ACC; i++) {
        acc[i] = vec4<f32>(0.0);
    }
    // Kernel rows whose weights `wts` holds at once: all of a 3x3 kernel's, one row of a 9x9's. Each stage costs two
    // barriers (software adapters switch every invocation at each), so as few stages as the memory allows.
    let rows = max(1u, WEIGHT_CAPACITY / (OC_PER_BLOCK * p.kernel_w));
    for (var q = 0u; q < p.in_quads; q++) {
        for (var ky0 = 0u; ky0 < p.kernel_h; ky0 += rows) {
            let stage_rows = min(rows, p.kernel_h - ky0);
            workgroupBarrier();
            if (ky0 == 0u) {
                load_window(q, block, ty0, tx0, window_w, window_h, y_lo, x_lo, source_w, source_h, lid);
            }
            // This stage's weights: `wts[(o * stage_rows + r) * kernel_w + kx]` for the block's output channel `o`.
            let words = stage_rows * p.kernel_w;
            for (var i = lid; i < OC_PER_BLOCK * words; i += INVOCATIONS) {
                let oc = first_oc + i / words;
                var word = 0u;
                if (oc < p.out_channels) {
                    word = weights[((oc * p.in_quads + q) * p.kernel_h + ky0) * p.kernel_w + i % words];
                }
                wts[i] = word;
            }
            workgroupBarrier();
            for (var r = 0u; r < stage_rows; r++) {
                let ky = ky0 + r;
                for (var kx = 0u; kx < p.kernel_w; kx++) {
                    let at = (py * p.stride + ky) * window_w + px0 * p.stride + kx;
                    let x0 = window[at];
                    let x1 = window[at + p.stride];
                    let x2 = window[at + 2u * p.stride];
                    let x3 = window[at + 3u * p.stride];
                    for (var h = 0u; h < OCQ; h++) {
                        let w = ((og * OC_PER_GROUP + h * 4u) * stage_rows + r) * p.kernel_w + kx;
                        let next = words;
                        // Columns are output channels: `x * m` is the four dot products at once.
                        let m = mat4x4<f32>(
                            weight_quad(wts[w]),
                            weight_quad(wts[w + next]),
                            weight_quad(wts[w + 2u * next]),
                            weight_quad(wts[w + 3u * next]),
                        );
                        acc[h] += x0 * m;
                        acc[OCQ + h] += x1 * m;
                        acc[2u * OCQ + h] += x2 * m;
                        acc[3u * OCQ + h] += x3 * m;
                    }
                }
            }
        }
    }

    let oy = ty0 + py;
    // Each of the invocation's pixels' weight in the statistics (0 outside the output).
    var weight = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let ox = tx0 + px0 + j;
        if (oy < p.out_height && ox < p.out_width) {
            weight[j] = pixel_weight(oy, ox);
        }
    }
    var n = 0.0;
    var mean: array<vec4<f32>, OCQ>;
    var m2: array<vec4<f32>, OCQ>;
    for (var h = 0u; h < OCQ; h++) {
        let oc = first_oc + og * OC_PER_GROUP + h * 4u;
        let quad = oc / 4u;
        let scale = vec4<f32>(scale_bias[oc], scale_bias[oc + 1u], scale_bias[oc + 2u], scale_bias[oc + 3u]);
        var bias = vec4<f32>(0.0);
        if (p.has_bias != 0u) {
            let b = p.bias_offset + oc;
            bias = vec4<f32>(scale_bias[b], scale_bias[b + 1u], scale_bias[b + 2u], scale_bias[b + 3u]);
        }
        var sum = vec4<f32>(0.0);
        var count = 0.0;
        for (var j = 0u; j < 4u; j++) {
            let v = acc[j * OCQ + h] * scale + bias;
            acc[j * OCQ + h] = v;
            let ox = tx0 + px0 + j;
            if (oy < p.out_height && ox < p.out_width) {
                if (oc < p.out_channels) {
                    dst[(quad * p.out_height + oy) * p.out_width + ox] = Act(v);
                }
                sum += weight[j] * v;
                count += weight[j];
            }
        }
        n = count;
        mean[h] = select(vec4<f32>(0.0), sum / count, count > 0.0);
        var squares = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
            let ox = tx0 + px0 + j;
            if (oy < p.out_height && ox < p.out_width) {
                let d = acc[j * OCQ + h] - mean[h];
                squares += weight[j] * d * d;
            }
        }
        m2[h] = squares;
    }
    if (p.stats_on == 0u) {
        return;
    }

    // Pairwise over the workgroup's pixel groups, one output quad of each invocation at a time, the same tree every
    // time. `window` is free again: slot `lid` holds a mean, slot INVOCATIONS + lid its M2.
    for (var h = 0u; h < OCQ; h++) {
        workgroupBarrier();
        counts[lid] = n;
        window[lid] = mean[h];
        window[INVOCATIONS + lid] = m2[h];
        for (var s = PIXEL_GROUPS / 2u; s > 0u; s >>= 1u) {
            workgroupBarrier();
            var c: Moments;
            if (pg < s) {
                let a = Moments(counts[lid], window[lid], window[INVOCATIONS + lid]);
                let b = Moments(counts[lid + s], window[lid + s], window[INVOCATIONS + lid + s]);
                c = chan(a, b);
            }
            workgroupBarrier();
            if (pg < s) {
                counts[lid] = c.n;
                window[lid] = c.mean;
                window[INVOCATIONS + lid] = c.m2;
            }
        }
        workgroupBarrier();
        let oc = first_oc + og * OC_PER_GROUP + h * 4u;
        if (pg == 0u) {
            for (var k = 0u; k < 4u; k++) {
                if (oc + k < p.out_channels) {
                    partials[(oc + k) * p.tiles + tile] =
                        vec4<f32>(counts[lid], window[lid][k], window[INVOCATIONS + lid][k], 0.0);
                }
            }
        }
    }
}
