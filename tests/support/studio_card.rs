//! A product on a studio backdrop drawn with integer arithmetic alone, so every target makes the same bytes: the
//! photo with which the backdrop analysis is held to one matte natively (`tests/backdrop.rs`) and in wasm
//! (`tests/web.rs`). Floating-point drawing (`exp`, `hypot`) may differ between targets in the last bit.

/// 160x128: a dark rounded box with a lighter band and a square hole showing the backdrop, anti-aliased by 4x4
/// samples, over white with a soft shadow below and to its right.
pub fn studio_card() -> (u32, u32, Vec<u8>) {
    let (w, h) = (160u32, 128u32);
    // Inside the product, in quarter pixels: a box with cut corners and a hole.
    let inside = |qx: i64, qy: i64| {
        let (x0, x1, y0, y1) = (4 * 40, 4 * 120, 4 * 24, 4 * 96);
        let corner = 4 * 10;
        let in_box = qx >= x0 && qx < x1 && qy >= y0 && qy < y1;
        let cut = (qx - x0).min(x1 - 1 - qx) + (qy - y0).min(y1 - 1 - qy) < corner;
        let hole = (4 * 88..4 * 104).contains(&qx) && (4 * 44..4 * 60).contains(&qy);
        in_box && !cut && !hole
    };
    let mut rgba = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let cover: i64 = (0..4)
                .flat_map(|sy| (0..4).map(move |sx| (sy, sx)))
                .filter(|&(sy, sx)| inside(4 * x + sx, 4 * y + sy))
                .count() as i64;
            // The shadow: darker the nearer to the box moved 6 px right and 8 down, up to 60 levels, fading over 12 px.
            let (dx, dy) = ((46 - x).max(x - 125).max(0), (32 - y).max(y - 103).max(0));
            // Light through the hole reaches the backdrop seen in it.
            let through_hole = (88..104).contains(&x) && (44..60).contains(&y);
            let shade = if through_hole { 0 } else { (60 - 5 * (dx + dy)).max(0) };
            let backdrop = 255 - shade;
            let band = if (52..60).contains(&y) { 60 } else { 0 };
            let product = [40 + band + x / 8, 48 + band, 70 + band + y / 8];
            for value in product {
                rgba.push(((cover * value + (16 - cover) * backdrop + 8) / 16) as u8);
            }
            rgba.push(255);
        }
    }
    (w, h, rgba)
}

/// FNV-1a, 64 bits: a digest of the matte to compare across targets.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}
