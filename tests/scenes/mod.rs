//! Product photos with a known answer, for the backdrop analysis: a product on a plain studio backdrop, its true
//! matte, and photos with no backdrop at all.
//!
//! Every scene is drawn here from the pictures the project ships (`www/samples/coffee.jpg`, `rocket.jpg`,
//! `logo.png`): analytic shapes, textured and shaded, whose alpha is the exact coverage of each pixel (8x8 samples),
//! composited as `alpha * product + (1 - alpha) * backdrop_with_shadow` in 8-bit sRGB values and then sent through a
//! JPEG round trip at quality 90, as a photo from a shop would be. The shadow under a product darkens the backdrop
//! and is not product: its alpha is 0. Nothing is random; the same build draws the same bytes.
//!
//! Integration tests take it with `mod scenes;`, the example with
//! `#[path = "../tests/scenes/mod.rs"] mod scenes;` (`cargo run --example product_photos -- OUT_DIR`).
#![allow(dead_code)]

use std::io::Cursor;

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{ExtendedColorType, ImageFormat, RgbImage};

/// One photo and its answer.
pub struct Scene {
    /// A short name for file names, such as `mug-on-white`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The photo, RGBA8 with alpha 255, as decoded after its JPEG round trip at quality 90.
    pub rgba: Vec<u8>,
    /// The product's true alpha, 0..1, `width * height`, row by row. Shadows are backdrop: alpha 0. All 0 for a
    /// [`Kind::Lifestyle`] photo, which has no product to cut out.
    pub alpha: Vec<f32>,
    /// The backdrop's colour at the frame's centre, before the gradient, vignette and shadow; for a lifestyle
    /// photo, the photo's colour there.
    pub backdrop: [u8; 3],
    pub kind: Kind,
    /// The JPEG file (quality 90) whose decoding is `rgba`.
    pub jpeg: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A product on a plain backdrop, wholly inside the frame, with a soft shadow.
    Studio,
    /// A white or near-white product on a white backdrop.
    WhiteOnWhite,
    /// A product on a plain backdrop, cut by the frame's bottom or right edge.
    TouchesFrame,
    /// A photo with no plain backdrop.
    Lifestyle,
}

/// Every scene with a plain backdrop: [`Kind::Studio`], [`Kind::WhiteOnWhite`] and [`Kind::TouchesFrame`].
pub fn studio_scenes() -> Vec<Scene> {
    let src = Sources::load();
    let white = [255, 255, 255];
    let mut scenes = Vec::new();

    // The mug, printed with the coffee photo, on four backdrops.
    let mug = Mug::printed(&src, 280.0);
    let (sprite, shadows) = mug.draw();
    scenes.push(Stage::new("mug-on-white", Kind::Studio, 640, 640, white).place(&sprite, &shadows, 150, 130).finish());
    let mug = Mug::printed(&src, 210.0);
    let (sprite, shadows) = mug.draw();
    scenes.push(
        Stage::new("mug-on-grey", Kind::Studio, 480, 480, [235, 235, 235]).place(&sprite, &shadows, 108, 96).finish(),
    );
    scenes.push(
        Stage::new("mug-on-blue", Kind::Studio, 480, 480, [196, 214, 236]).place(&sprite, &shadows, 96, 104).finish(),
    );
    scenes.push(
        Stage::new("mug-on-white-vignette", Kind::Studio, 560, 480, white)
            .shading(0.04, 0.06)
            .place(&sprite, &shadows, 150, 100)
            .finish(),
    );

    // A carton printed with the rocket photo.
    let (sprite, shadows) = carton(&src, 1.0);
    scenes
        .push(Stage::new("carton-on-white", Kind::Studio, 480, 560, white).place(&sprite, &shadows, 120, 90).finish());

    // A jar whose label carries the logo and lettering.
    let (sprite, shadows) = jar(&src, 1.0);
    scenes.push(Stage::new("jar-on-white", Kind::Studio, 520, 520, white).place(&sprite, &shadows, 130, 84).finish());

    // White products on white.
    let (sprite, shadows) = bowl(1.0);
    scenes.push(
        Stage::new("white-bowl-on-white", Kind::WhiteOnWhite, 560, 420, white)
            .place(&sprite, &shadows, 110, 110)
            .finish(),
    );
    let mug = Mug::white(200.0);
    let (sprite, shadows) = mug.draw();
    scenes.push(
        Stage::new("white-mug-on-white", Kind::WhiteOnWhite, 480, 480, white)
            .place(&sprite, &shadows, 110, 110)
            .finish(),
    );

    // Cut by the frame.
    let mug = Mug::printed(&src, 240.0);
    let (sprite, shadows) = mug.draw();
    scenes.push(
        Stage::new("mug-cut-bottom", Kind::TouchesFrame, 480, 400, white).place(&sprite, &shadows, 90, 150).finish(),
    );
    let (sprite, shadows) = carton(&src, 1.0);
    scenes.push(
        Stage::new("carton-cut-right", Kind::TouchesFrame, 400, 520, [235, 235, 235])
            .place(&sprite, &shadows, 200, 70)
            .finish(),
    );
    scenes
}

/// Photos with no plain backdrop: the shipped photos scaled to 400 px wide, and crops of them.
pub fn lifestyle_scenes() -> Vec<Scene> {
    let coffee = decode(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/coffee.jpg")));
    let rocket = decode(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/rocket.jpg")));
    let mut out = Vec::new();
    for (name, img) in [("coffee", &coffee), ("rocket", &rocket)] {
        let h = (img.height() as f32 * 400.0 / img.width() as f32).round() as u32;
        let small = imageops::resize(img, 400, h, FilterType::Triangle);
        out.push(photo_scene(&format!("{name}-photo"), &small));
    }
    let crop = imageops::crop_imm(&coffee, 150, 40, 320, 320).to_image();
    out.push(photo_scene("coffee-crop", &crop));
    let crop = imageops::crop_imm(&rocket, 200, 0, 300, 427).to_image();
    out.push(photo_scene("rocket-crop", &crop));
    out
}

/// One product (the printed mug, the same pixels at the same scale, 300 px tall) on white canvases of 400x420,
/// 500x500 and 1000x800, at offsets that are multiples of 4 px.
pub fn framings() -> Vec<Scene> {
    framing_stages().iter().map(Stage::finish).collect()
}

/// [`framings`] with `rgba` holding the pixels before the JPEG round trip (`jpeg` is still their JPEG), so a test
/// can see that the product's pixels are the same in each.
pub fn framings_before_jpeg() -> Vec<Scene> {
    framing_stages()
        .iter()
        .map(|stage| {
            let mut scene = stage.finish();
            scene.rgba = rgba_of(&stage_pixels(stage));
            scene
        })
        .collect()
}

fn framing_stages() -> Vec<Stage> {
    let src = Sources::load();
    let (sprite, shadows) = Mug::printed(&src, 232.0).draw();
    [(400, 420, 40, 40), (500, 500, 92, 68), (1000, 800, 412, 220)]
        .into_iter()
        .map(|(w, h, ox, oy)| {
            let name = format!("framing-{w}x{h}");
            Stage::new(&name, Kind::Studio, w, h, [255, 255, 255]).place(&sprite, &shadows, ox, oy)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Pictures

struct Tex {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Tex {
    fn from_rgb(img: &RgbImage) -> Tex {
        let px = img.pixels().map(|p| [p[0] as f32, p[1] as f32, p[2] as f32]).collect();
        Tex { w: img.width() as usize, h: img.height() as usize, px }
    }

    /// Bilinear, in pixel units (pixel centres at +0.5), clamped at the edges.
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let fx = (x - 0.5).clamp(0.0, (self.w - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let p = |x: usize, y: usize| self.px[y * self.w + x];
        let top = mix3(p(x0, y0), p(x1, y0), tx);
        let bottom = mix3(p(x0, y1), p(x1, y1), tx);
        mix3(top, bottom, ty)
    }

    fn mean(&self, r: [f32; 4]) -> [f32; 3] {
        let mut sum = [0.0f64; 3];
        let mut n = 0.0;
        for y in r[1] as usize..(r[1] + r[3]) as usize {
            for x in r[0] as usize..(r[0] + r[2]) as usize {
                let p = self.px[y * self.w + x];
                for c in 0..3 {
                    sum[c] += p[c] as f64;
                }
                n += 1.0;
            }
        }
        sum.map(|s| (s / n) as f32)
    }
}

struct Logo {
    w: usize,
    h: usize,
    /// Straight RGB and alpha 0..1.
    px: Vec<[f32; 4]>,
}

impl Logo {
    /// Bilinear on premultiplied colour; `u`, `v` in 0..1 over the picture. Returns premultiplied RGB and alpha.
    fn sample(&self, u: f32, v: f32) -> [f32; 4] {
        if !(0.0..=1.0).contains(&u) || !(0.0..=1.0).contains(&v) {
            return [0.0; 4];
        }
        let fx = (u * self.w as f32 - 0.5).clamp(0.0, (self.w - 1) as f32);
        let fy = (v * self.h as f32 - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let p = |x: usize, y: usize| {
            let q = self.px[y * self.w + x];
            [q[0] * q[3], q[1] * q[3], q[2] * q[3], q[3]]
        };
        let m = |a: [f32; 4], b: [f32; 4], t: f32| [0, 1, 2, 3].map(|i| a[i] + (b[i] - a[i]) * t);
        m(m(p(x0, y0), p(x1, y0), tx), m(p(x0, y1), p(x1, y1), tx), ty)
    }
}

struct Sources {
    coffee: Tex,
    rocket: Tex,
    logo: Logo,
}

impl Sources {
    fn load() -> Sources {
        let coffee = decode(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/coffee.jpg")));
        let rocket = decode(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/rocket.jpg")));
        let logo =
            image::load_from_memory(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/logo.png")))
                .expect("logo.png decodes")
                .to_rgba8();
        let logo = Logo {
            w: logo.width() as usize,
            h: logo.height() as usize,
            px: logo.pixels().map(|p| [p[0] as f32, p[1] as f32, p[2] as f32, p[3] as f32 / 255.0]).collect(),
        };
        Sources { coffee: Tex::from_rgb(&coffee), rocket: Tex::from_rgb(&rocket), logo }
    }
}

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).expect("a shipped sample decodes").to_rgb8()
}

// ---------------------------------------------------------------------------------------------------------------
// Small maths

fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

fn mix3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [mix(a[0], b[0], t), mix(a[1], b[1], t), mix(a[2], b[2], t)]
}

fn scale3(a: [f32; 3], k: f32) -> [f32; 3] {
    a.map(|v| v * k)
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Inside the ellipse centred at (cx, cy) with semi-axes (a, b)?
fn in_ellipse(x: f32, y: f32, cx: f32, cy: f32, a: f32, b: f32) -> bool {
    let (u, v) = ((x - cx) / a, (y - cy) / b);
    u * u + v * v <= 1.0
}

/// Inside the convex polygon whose corners go round clockwise on screen (y down)?
fn in_convex(x: f32, y: f32, pts: &[[f32; 2]]) -> bool {
    (0..pts.len()).all(|i| {
        let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
        (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) >= 0.0
    })
}

/// Lettering from the 8x8 font: is the point (`gx`, `gy`, in glyph cells from the text's top-left) ink?
fn text_ink(text: &str, gx: f32, gy: f32) -> bool {
    if gx < 0.0 || !(0.0..8.0).contains(&gy) {
        return false;
    }
    let (i, cx) = ((gx / 8.0) as usize, gx as usize % 8);
    let Some(ch) = text.chars().nth(i) else { return false };
    BASIC_FONTS.get(ch).is_some_and(|rows| rows[gy as usize] >> cx & 1 == 1)
}

/// Cylinder lighting: `nx` in -1..1 across the body, lit from the front left. A factor for the colour, and a
/// highlight to add towards white.
fn cylinder_light(nx: f32) -> (f32, f32) {
    let nx = nx.clamp(-1.0, 1.0);
    let nz = (1.0 - nx * nx).sqrt();
    let (lx, lz) = (-0.42f32, 0.907f32);
    let diffuse = (nx * lx + nz * lz).max(0.0);
    let shade = 0.34 + 0.72 * diffuse;
    let spec = 0.42 * (-((nx + 0.42) / 0.07).powi(2)).exp() + 0.10 * (-((nx - 0.62) / 0.05).powi(2)).exp();
    (shade, spec)
}

fn lit(base: [f32; 3], shade: f32, spec: f32) -> [f32; 3] {
    let c = scale3(base, shade);
    mix3(c, [255.0; 3], spec.clamp(0.0, 1.0))
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing: shapes with exact coverage

/// One opaque shape: where it is, and its colour there (defined everywhere near the shape).
struct Layer<'a> {
    /// x0, y0, x1, y1 around the shape.
    bbox: [f32; 4],
    inside: Box<dyn Fn(f32, f32) -> bool + 'a>,
    colour: Box<dyn Fn(f32, f32) -> [f32; 3] + 'a>,
}

impl<'a> Layer<'a> {
    fn new(
        bbox: [f32; 4],
        inside: impl Fn(f32, f32) -> bool + 'a,
        colour: impl Fn(f32, f32) -> [f32; 3] + 'a,
    ) -> Layer<'a> {
        Layer { bbox, inside: Box::new(inside), colour: Box::new(colour) }
    }
}

/// A product drawn on its own: straight colour and coverage per pixel.
struct Sprite {
    w: usize,
    h: usize,
    colour: Vec<[f32; 3]>,
    alpha: Vec<f32>,
}

/// A soft shadow on the backdrop: a blurred ellipse that multiplies the backdrop by down to `1 - strength`.
#[derive(Clone, Copy)]
struct Shadow {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    strength: f32,
    /// The blur, as a fraction of the radii.
    soft: f32,
}

impl Shadow {
    fn factor(&self, x: f32, y: f32) -> f32 {
        let (u, v) = ((x - self.cx) / self.rx, (y - self.cy) / self.ry);
        let d = (u * u + v * v).sqrt();
        1.0 - self.strength * (1.0 - smoothstep(1.0 - self.soft, 1.0 + self.soft, d))
    }
}

/// The darkest a shadow makes the backdrop.
const SHADOW_FLOOR: f32 = 0.7;

fn shadow_factor(shadows: &[Shadow], x: f32, y: f32) -> f32 {
    shadows.iter().map(|s| s.factor(x, y)).product::<f32>().max(SHADOW_FLOOR)
}

/// Coverage from 8x8 samples per pixel; colour from the 4x4 samples that fall on the shape (top layer first), or
/// for a sliver that none of those meets, from the centre of its covered samples.
fn rasterise(w: usize, h: usize, layers: &[Layer]) -> Sprite {
    const N: usize = 8;
    const C: usize = 4;
    let mut colour = vec![[0.0f32; 3]; w * h];
    let mut alpha = vec![0.0f32; w * h];
    let top = |x: f32, y: f32, near: &[usize]| near.iter().rev().copied().find(|&l| (layers[l].inside)(x, y));
    let mut near = Vec::with_capacity(layers.len());
    for py in 0..h {
        for px in 0..w {
            let (x0, y0) = (px as f32, py as f32);
            near.clear();
            near.extend((0..layers.len()).filter(|&l| {
                let b = layers[l].bbox;
                x0 + 1.0 > b[0] && x0 < b[2] && y0 + 1.0 > b[1] && y0 < b[3]
            }));
            if near.is_empty() {
                continue;
            }
            let mut count = 0usize;
            let mut per_layer = [(0usize, 0.0f32, 0.0f32); 16];
            for j in 0..N {
                for i in 0..N {
                    let (x, y) = (x0 + (i as f32 + 0.5) / N as f32, y0 + (j as f32 + 0.5) / N as f32);
                    if let Some(l) = top(x, y, &near) {
                        count += 1;
                        let e = &mut per_layer[l];
                        e.0 += 1;
                        e.1 += x;
                        e.2 += y;
                    }
                }
            }
            if count == 0 {
                continue;
            }
            let mut sum = [0.0f32; 3];
            let mut n = 0usize;
            for j in 0..C {
                for i in 0..C {
                    let (x, y) = (x0 + (i as f32 + 0.5) / C as f32, y0 + (j as f32 + 0.5) / C as f32);
                    if let Some(l) = top(x, y, &near) {
                        let c = (layers[l].colour)(x, y);
                        for k in 0..3 {
                            sum[k] += c[k];
                        }
                        n += 1;
                    }
                }
            }
            let c = if n > 0 {
                scale3(sum, 1.0 / n as f32)
            } else {
                let (l, e) = per_layer.iter().enumerate().max_by_key(|(_, e)| e.0).unwrap();
                (layers[l].colour)(e.1 / e.0 as f32, e.2 / e.0 as f32)
            };
            colour[py * w + px] = c;
            alpha[py * w + px] = count as f32 / (N * N) as f32;
        }
    }
    Sprite { w, h, colour, alpha }
}

// ---------------------------------------------------------------------------------------------------------------
// Products. Each draws itself into a sprite, with its shadows in the sprite's coordinates.

enum Glaze<'a> {
    /// A photo printed round the body: the region (x, y, w, h) of the picture; the handle, rim and inside glazed
    /// in `inner`.
    Printed { tex: &'a Tex, region: [f32; 4], inner: [f32; 3] },
    /// One colour all over.
    Plain([f32; 3]),
}

struct Mug<'a> {
    /// The body's width; the mug is 1.29 times as tall and about 1.33 times as wide with its handle.
    w: f32,
    glaze: Glaze<'a>,
    /// The coffee inside: the picture and the circle (cx, cy, r) of its cup's surface.
    coffee: Option<(&'a Tex, [f32; 3])>,
}

impl<'a> Mug<'a> {
    fn printed(src: &'a Sources, w: f32) -> Mug<'a> {
        Mug {
            w,
            glaze: Glaze::Printed { tex: &src.coffee, region: [40.0, 30.0, 360.0, 340.0], inner: [150.0, 40.0, 34.0] },
            coffee: Some((&src.coffee, [288.0, 142.0, 74.0])),
        }
    }

    fn white(w: f32) -> Mug<'a> {
        Mug { w, glaze: Glaze::Plain([249.0, 248.0, 246.0]), coffee: None }
    }

    fn draw(&self) -> (Sprite, Vec<Shadow>) {
        let w = self.w;
        let a = w / 2.0;
        let e = 0.12 * w;
        let body_h = 1.05 * w;
        let margin = 4.0;
        let cx = margin + a;
        let ytop = margin + e;
        let ybot = ytop + body_h;
        // The handle: an elliptical ring on the right, from normalised radius 0.72 to 1.28.
        let (hx, hy, hax, hay) = (cx + a + 0.02 * w, ytop + 0.45 * body_h, 0.24 * w, 0.27 * body_h);
        let (r_in, r_out) = (0.72f32, 1.28f32);
        let sw = (hx + hax * r_out + margin).ceil() as usize;
        let sh = (ybot + e + margin).ceil() as usize;
        let rim_w = 0.035 * w;
        let (ai, ei) = (a - rim_w, e * (a - rim_w) / a);

        let (outer, inner) = match &self.glaze {
            Glaze::Printed { inner, .. } => (None, *inner),
            Glaze::Plain(c) => (Some(*c), *c),
        };
        let body_colour = move |x: f32, y: f32| -> [f32; 3] {
            let nx = ((x - cx) / a).clamp(-1.0, 1.0);
            let nz = (1.0 - nx * nx).sqrt();
            if in_ellipse(x, y, cx, ytop, a, e) {
                // The opening: the rim, then the inside wall, then the coffee.
                if !in_ellipse(x, y, cx, ytop, ai, ei) {
                    let (shade, spec) = cylinder_light(nx);
                    return lit(inner, 0.25 + 0.85 * shade, spec * 0.6);
                }
                let (lcx, lcy, la, lb) = (cx, ytop + 0.30 * ei, 0.90 * ai, 0.72 * ei);
                if let (Some((tex, c)), true) = (self.coffee, in_ellipse(x, y, lcx, lcy, la, lb)) {
                    let (u, v) = ((x - lcx) / la, (y - lcy) / lb);
                    return scale3(tex.sample(c[0] + u * c[2], c[1] + v * c[2]), 0.95);
                }
                // The back of the inside wall is lit, its front in shadow.
                let t = ((y - ytop) / ei + 1.0) / 2.0;
                let floor = if outer.is_some() { 0.62 } else { 0.45 };
                let shade = mix(0.95, floor, t) * (1.0 - 0.25 * nx.abs());
                return scale3(inner, shade);
            }
            let (shade, spec) = cylinder_light(nx);
            // Towards the foot the body falls into its own shade.
            let foot = 1.0 - 0.12 * smoothstep(ybot - 0.2 * body_h, ybot + e, y);
            let base = match (&self.glaze, outer) {
                (Glaze::Printed { tex, region, .. }, _) => {
                    let u = 0.5 + nx.asin() / std::f32::consts::PI;
                    let v = ((y - ytop - e * nz) / body_h).clamp(0.0, 1.0);
                    tex.sample(region[0] + u * region[2], region[1] + v * region[3])
                }
                (_, Some(c)) => c,
                _ => unreachable!(),
            };
            let plain = outer.is_some();
            if plain {
                // A white glaze: soft grey shading, and a thin darker rim at the silhouette.
                let soft = 0.80 + 0.21 * shade.min(1.0);
                let edge = 1.0 - 0.07 * smoothstep(0.90, 1.0, nx.abs());
                return lit(base, soft * edge * foot, spec * 0.5);
            }
            lit(base, shade * foot, spec)
        };
        let handle_colour = move |x: f32, y: f32| -> [f32; 3] {
            let (u, v) = ((x - hx) / hax, (y - hy) / hay);
            let r = (u * u + v * v).sqrt();
            let t = ((r - r_in) / (r_out - r_in)).clamp(0.0, 1.0);
            let n = 2.0 * t - 1.0;
            let across = (1.0 - n * n).max(0.0).sqrt();
            // Lit from the upper left, the top of the ring brighter than its bottom.
            let angle = v.atan2(u);
            let shade = (0.35 + 0.6 * across) * (0.85 - 0.15 * angle.sin());
            let spec = 0.30 * (-((n + 0.2) / 0.18).powi(2)).exp() * (0.5 - 0.5 * angle.sin());
            match outer {
                Some(c) => {
                    let edge = 1.0 - 0.07 * smoothstep(0.8, 1.0, n.abs());
                    lit(c, (0.80 + 0.2 * shade) * edge, spec * 0.5)
                }
                None => lit(inner, shade, spec),
            }
        };
        let layers = [
            Layer::new(
                [hx - hax * r_out, hy - hay * r_out, hx + hax * r_out, hy + hay * r_out],
                move |x, y| {
                    let (u, v) = ((x - hx) / hax, (y - hy) / hay);
                    let r2 = u * u + v * v;
                    x > cx + 0.8 * a && r2 <= r_out * r_out && r2 >= r_in * r_in
                },
                handle_colour,
            ),
            Layer::new(
                [cx - a, ytop - e, cx + a, ybot + e],
                move |x, y| {
                    ((x - cx).abs() <= a && y >= ytop && y <= ybot)
                        || in_ellipse(x, y, cx, ytop, a, e)
                        || in_ellipse(x, y, cx, ybot, a, e)
                },
                body_colour,
            ),
        ];
        let sprite = rasterise(sw, sh, &layers);
        let shadows = vec![
            Shadow { cx: cx + 0.08 * w, cy: ybot + 0.3 * e, rx: 0.62 * w, ry: 0.16 * w, strength: 0.18, soft: 0.5 },
            Shadow { cx: cx + 0.02 * w, cy: ybot + 0.25 * e, rx: 0.52 * w, ry: 0.09 * w, strength: 0.22, soft: 0.3 },
        ];
        (sprite, shadows)
    }
}

/// A carton in three-quarter view, its front printed with a crop of the rocket photo, a band of lettering below.
fn carton(src: &Sources, k: f32) -> (Sprite, Vec<Shadow>) {
    let rocket = &src.rocket;
    let (fw, fh) = (170.0 * k, 300.0 * k);
    let (dx, dy) = (60.0 * k, 36.0 * k);
    let m = 4.0;
    let (x0, y0) = (m, m + dy);
    let (x1, y1) = (x0 + fw, y0 + fh);
    let front = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
    let side = [[x1, y0], [x1 + dx, y0 - dy], [x1 + dx, y1 - dy], [x1, y1]];
    let top = [[x0, y0], [x0 + dx, y0 - dy], [x1 + dx, y0 - dy], [x1, y0]];
    // The photo's region on the front, above a paper band.
    let region = [230.0, 10.0, 200.0, 360.0];
    let band = 0.22;
    let paper = [244.0, 241.0, 234.0];
    let ink = [28.0, 40.0, 74.0];
    let sky = rocket.mean([0.0, 0.0, 120.0, 80.0]);
    let front_colour = move |x: f32, y: f32| -> [f32; 3] {
        let (u, v) = ((x - x0) / fw, (y - y0) / fh);
        let lightness = 1.0 - 0.06 * u;
        if v < 1.0 - band {
            let c = rocket.sample(region[0] + u * region[2], region[1] + v / (1.0 - band) * region[3]);
            return scale3(c, lightness);
        }
        // Lettering on the band, 8x8 glyphs at 2.2 px a cell.
        let cell = 2.2 * k;
        let text = "LIFTOFF";
        let tw = text.len() as f32 * 8.0 * cell;
        let (gx, gy) = ((x - (x0 + (fw - tw) / 2.0)) / cell, (y - (y0 + fh * (1.0 - band * 0.62))) / cell);
        let c = if text_ink(text, gx, gy) { ink } else { paper };
        scale3(c, lightness)
    };
    let side_colour = move |x: f32, y: f32| -> [f32; 3] {
        let u = (x - x1) / dx;
        let v = (y - y0 + u * dy) / fh;
        let c = if v < 1.0 - band { mix3(sky, paper, 0.35) } else { paper };
        scale3(c, 0.78 - 0.06 * u)
    };
    let top_colour = move |x: f32, _y: f32| -> [f32; 3] {
        let u = (x - x0) / (fw + dx);
        scale3(paper, 0.97 - 0.04 * u)
    };
    let bb = |p: &[[f32; 2]]| {
        let xs = p.iter().map(|q| q[0]);
        let ys = p.iter().map(|q| q[1]);
        [
            xs.clone().fold(f32::MAX, f32::min),
            ys.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
            ys.fold(f32::MIN, f32::max),
        ]
    };
    let layers = [
        Layer::new(bb(&top), move |x, y| in_convex(x, y, &top), top_colour),
        Layer::new(bb(&side), move |x, y| in_convex(x, y, &side), side_colour),
        Layer::new(bb(&front), move |x, y| in_convex(x, y, &front), front_colour),
    ];
    let sprite = rasterise((x1 + dx + m).ceil() as usize, (y1 + m).ceil() as usize, &layers);
    let shadows = vec![
        Shadow {
            cx: x0 + 0.66 * (fw + dx),
            cy: y1 - 0.3 * dy,
            rx: 0.62 * (fw + dx),
            ry: 0.85 * dy,
            strength: 0.18,
            soft: 0.5,
        },
        Shadow {
            cx: x0 + 0.5 * fw + 0.4 * dx,
            cy: y1 - 0.3 * dy,
            rx: 0.56 * (fw + dx),
            ry: 0.5 * dy,
            strength: 0.2,
            soft: 0.25,
        },
    ];
    (sprite, shadows)
}

/// A jar with a gold lid, its cream label carrying the logo and a line of lettering.
fn jar(src: &Sources, k: f32) -> (Sprite, Vec<Shadow>) {
    let logo = &src.logo;
    let w = 220.0 * k;
    let a = w / 2.0;
    let e = 0.12 * w;
    let m = 4.0;
    let cx = m + a;
    // The lid: a slightly wider, short cylinder.
    let (la, lid_h) = (a * 1.03, 0.22 * w);
    let lid_top = m + e;
    let lid_bot = lid_top + lid_h;
    let body_top = lid_bot;
    let body_bot = body_top + 0.95 * w;
    let glass = [58.0, 92.0, 84.0];
    let gold = [196.0, 160.0, 88.0];
    let paper = [246.0, 242.0, 232.0];
    let ink = [60.0, 50.0, 44.0];
    let (label_top, label_bot) = (body_top + 0.16 * w, body_bot - 0.12 * w);
    let body_colour = move |x: f32, y: f32| -> [f32; 3] {
        let nx = ((x - cx) / a).clamp(-1.0, 1.0);
        let nz = (1.0 - nx * nx).sqrt();
        let (shade, spec) = cylinder_light(nx);
        // The label lies on the surface: its edges curve with the cylinder.
        let ys = y - e * nz;
        let in_label = ys >= label_top - e && ys <= label_bot - e && nx.abs() < 0.93;
        let foot = 1.0 - 0.12 * smoothstep(body_bot - 0.2 * w, body_bot + e, y);
        if !in_label {
            return lit(glass, shade * foot, spec);
        }
        let u = 0.5 + nx.asin() / std::f32::consts::PI; // 0..1 round the front half
        let v = (ys - (label_top - e)) / (label_bot - label_top);
        let mut c = paper;
        // The logo, 0.5 of the label's height, centred above the lettering.
        let (lu, lv) = ((u - 0.5) * (std::f32::consts::PI * a) / (0.6 * (label_bot - label_top)) + 0.5, v / 0.6 - 0.08);
        let l = logo.sample(lu, lv);
        c = [0, 1, 2].map(|i| l[i] + c[i] * (1.0 - l[3]));
        let text = "VITRINE";
        let cell = 0.017 * w;
        let arc = (u - 0.5) * std::f32::consts::PI * a;
        let tw = text.len() as f32 * 8.0 * cell;
        let (gx, gy) = ((arc + tw / 2.0) / cell, (v * (label_bot - label_top) - 0.80 * (label_bot - label_top)) / cell);
        if text_ink(text, gx, gy) {
            c = ink;
        }
        lit(c, (0.55 + 0.5 * shade) * foot, spec * 0.5)
    };
    let lid_colour = move |x: f32, y: f32| -> [f32; 3] {
        let nx = ((x - cx) / la).clamp(-1.0, 1.0);
        if in_ellipse(x, y, cx, lid_top, la, e) {
            // The lid's top face, lit from above.
            let t = ((y - lid_top) / e + 1.0) / 2.0;
            return scale3(gold, 1.02 - 0.12 * t - 0.1 * nx.abs());
        }
        let (shade, spec) = cylinder_light(nx);
        // Fine ribs round the lid.
        let rib = 1.0 - 0.07 * (0.5 + 0.5 * (nx.asin() * 60.0).cos());
        lit(gold, shade * rib, spec)
    };
    let layers = [
        Layer::new(
            [cx - a, body_top - e, cx + a, body_bot + e],
            move |x, y| ((x - cx).abs() <= a && y >= body_top && y <= body_bot) || in_ellipse(x, y, cx, body_bot, a, e),
            body_colour,
        ),
        Layer::new(
            [cx - la, lid_top - e, cx + la, lid_bot + e],
            move |x, y| {
                ((x - cx).abs() <= la && y >= lid_top && y <= lid_bot)
                    || in_ellipse(x, y, cx, lid_top, la, e)
                    || in_ellipse(x, y, cx, lid_bot, la, e)
            },
            lid_colour,
        ),
    ];
    let sprite = rasterise((cx + la + m).ceil() as usize, (body_bot + e + m).ceil() as usize, &layers);
    let shadows = vec![
        Shadow { cx: cx + 0.1 * w, cy: body_bot + 0.4 * e, rx: 0.78 * w, ry: 0.2 * w, strength: 0.16, soft: 0.6 },
        Shadow { cx: cx + 0.02 * w, cy: body_bot + 0.25 * e, rx: 0.54 * w, ry: 0.11 * w, strength: 0.22, soft: 0.3 },
    ];
    (sprite, shadows)
}

/// A white bowl: near-white glaze with soft grey shading, a thin darker rim at its outline, a foot ring.
fn bowl(k: f32) -> (Sprite, Vec<Shadow>) {
    let w = 320.0 * k;
    let a = w / 2.0;
    let e = 0.16 * w;
    let depth = 0.42 * w;
    let m = 4.0;
    let cx = m + a;
    let ytop = m + e;
    // The foot ring: a short, slightly tapering band whose lower edge is an ellipse seen from above.
    let foot_a = 0.21 * w;
    let foot_top = ytop + depth * (1.0 - (foot_a / a).powi(2)).sqrt() - 0.01 * w;
    let foot_bot = ytop + depth + 0.03 * w;
    let foot_e = e * foot_a / a;
    let taper = 0.015 * w;
    let glaze = [249.0, 249.0, 247.0];
    let rim_w = 0.02 * w;
    let (ai, ei) = (a - rim_w, e * (a - rim_w) / a);
    let bowl_colour = move |x: f32, y: f32| -> [f32; 3] {
        let nx = ((x - cx) / a).clamp(-1.0, 1.0);
        if in_ellipse(x, y, cx, ytop, a, e) {
            if !in_ellipse(x, y, cx, ytop, ai, ei) {
                return scale3(glaze, 1.0);
            }
            // The inside: lit at the back, a soft grey towards the front wall.
            let (u, v) = ((x - cx) / ai, (y - ytop) / ei);
            let t = (v + 1.0) / 2.0;
            return scale3(glaze, 0.985 - 0.09 * t * t - 0.05 * u * u);
        }
        // The outside, a half ellipsoid: normal from the ellipse (a, depth).
        let (u, v) = ((x - cx) / a, ((y - ytop) / depth).max(0.0));
        let r = (u * u + v * v).sqrt().min(1.0);
        let down = v / r.max(1e-3);
        let shade = 1.0 - 0.10 * down * down - 0.06 * (u + 0.3).max(0.0) * r;
        let edge = 1.0 - 0.08 * smoothstep(0.93, 1.0, r);
        let spec = 0.5 * (-((u + 0.45).powi(2) + (v - 0.35).powi(2)) / 0.01).exp();
        lit(glaze, shade * edge * (1.0 - 0.04 * nx.abs()), spec)
    };
    let foot_colour = move |x: f32, _y: f32| -> [f32; 3] {
        let u = ((x - cx) / foot_a).clamp(-1.0, 1.0);
        let (shade, _) = cylinder_light(u);
        scale3(glaze, 0.80 + 0.12 * shade.min(1.0) - 0.05 * smoothstep(0.85, 1.0, u.abs()))
    };
    let layers = [
        Layer::new(
            [cx - foot_a, foot_top, cx + foot_a, foot_bot + foot_e],
            move |x, y| {
                let t = ((y - foot_top) / (foot_bot - foot_top)).clamp(0.0, 1.0);
                ((x - cx).abs() <= foot_a - taper * t && y >= foot_top && y <= foot_bot)
                    || in_ellipse(x, y, cx, foot_bot, foot_a - taper, foot_e)
            },
            foot_colour,
        ),
        Layer::new(
            [cx - a, ytop - e, cx + a, ytop + depth],
            move |x, y| in_ellipse(x, y, cx, ytop, a, e) || (y >= ytop && in_ellipse(x, y, cx, ytop, a, depth)),
            bowl_colour,
        ),
    ];
    let sprite = rasterise((cx + a + m).ceil() as usize, (foot_bot + foot_e + m).ceil() as usize, &layers);
    let shadows = vec![
        Shadow { cx: cx + 0.06 * w, cy: foot_bot, rx: 0.55 * w, ry: 0.12 * w, strength: 0.16, soft: 0.5 },
        Shadow { cx: cx + 0.02 * w, cy: foot_bot, rx: 0.30 * w, ry: 0.06 * w, strength: 0.22, soft: 0.3 },
    ];
    (sprite, shadows)
}

// ---------------------------------------------------------------------------------------------------------------
// Staging: backdrop, shadow, composite, JPEG

struct Stage {
    name: String,
    kind: Kind,
    w: u32,
    h: u32,
    backdrop: [u8; 3],
    /// Top-to-bottom brightening (top brighter by half of it, bottom darker by half) and corner darkening.
    gradient: f32,
    vignette: f32,
    rgb: Vec<[f32; 3]>,
    alpha: Vec<f32>,
}

impl Stage {
    fn new(name: &str, kind: Kind, w: u32, h: u32, backdrop: [u8; 3]) -> Stage {
        Stage {
            name: name.to_string(),
            kind,
            w,
            h,
            backdrop,
            gradient: 0.0,
            vignette: 0.0,
            rgb: Vec::new(),
            alpha: vec![0.0; (w * h) as usize],
        }
    }

    fn shading(mut self, gradient: f32, vignette: f32) -> Stage {
        self.gradient = gradient;
        self.vignette = vignette;
        self
    }

    /// The backdrop, its shadows, and the sprite over them with its top-left corner at (ox, oy) (whole pixels, so
    /// the product's pixels do not depend on where it stands).
    fn place(mut self, sprite: &Sprite, shadows: &[Shadow], ox: i32, oy: i32) -> Stage {
        let (w, h) = (self.w as i32, self.h as i32);
        let b = self.backdrop.map(|v| v as f32);
        self.rgb = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                // Backdrop shading in the frame's coordinates, centre 1.
                let (fx, fy) = ((x as f32 + 0.5) / w as f32 - 0.5, (y as f32 + 0.5) / h as f32 - 0.5);
                let shading = (1.0 - self.gradient * fy) * (1.0 - self.vignette * 2.0 * (fx * fx + fy * fy));
                // Shadows and the product in the sprite's coordinates.
                let (lx, ly) = (x - ox, y - oy);
                let s = shadow_factor(shadows, lx as f32 + 0.5, ly as f32 + 0.5);
                let back = scale3(b, shading * s);
                let inside = lx >= 0 && ly >= 0 && (lx as usize) < sprite.w && (ly as usize) < sprite.h;
                let (f, al) = if inside {
                    let i = ly as usize * sprite.w + lx as usize;
                    (sprite.colour[i], sprite.alpha[i])
                } else {
                    ([0.0; 3], 0.0)
                };
                self.rgb.push([0, 1, 2].map(|c| al * f[c] + (1.0 - al) * back[c]));
                self.alpha[(y * w + x) as usize] = al;
            }
        }
        self
    }

    fn finish(&self) -> Scene {
        let rgb = stage_pixels(self);
        finish_rgb(self.name.clone(), self.kind, self.w, self.h, &rgb, self.alpha.clone(), self.backdrop)
    }
}

fn stage_pixels(stage: &Stage) -> Vec<u8> {
    stage.rgb.iter().flat_map(|p| p.map(|v| v.round().clamp(0.0, 255.0) as u8)).collect()
}

fn rgba_of(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
}

/// The JPEG round trip at quality 90.
fn finish_rgb(name: String, kind: Kind, w: u32, h: u32, rgb: &[u8], alpha: Vec<f32>, backdrop: [u8; 3]) -> Scene {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90).encode(rgb, w, h, ExtendedColorType::Rgb8).expect("JPEG encodes");
    let decoded = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).expect("JPEG decodes").to_rgba8();
    assert_eq!((decoded.width(), decoded.height()), (w, h));
    Scene { name, width: w, height: h, rgba: decoded.into_raw(), alpha, backdrop, kind, jpeg }
}

fn photo_scene(name: &str, img: &RgbImage) -> Scene {
    let (w, h) = img.dimensions();
    let c = img.get_pixel(w / 2, h / 2).0;
    finish_rgb(name.to_string(), Kind::Lifestyle, w, h, img.as_raw(), vec![0.0; (w * h) as usize], c)
}

/// Writes `bytes` to a `Vec` through a cursor: for PNG encoding in the example and tests.
pub fn png_grey(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::GrayImage::from_raw(width, height, grey.to_vec())
        .expect("grey buffer of the right size")
        .write_to(&mut out, ImageFormat::Png)
        .expect("PNG encodes");
    out.into_inner()
}

/// The scene's photo as a PNG (for looking at it where only PNG shows).
pub fn png_rgba(scene: &Scene) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::RgbaImage::from_raw(scene.width, scene.height, scene.rgba.clone())
        .expect("RGBA buffer of the right size")
        .write_to(&mut out, ImageFormat::Png)
        .expect("PNG encodes");
    out.into_inner()
}

/// The true alpha as 8-bit grey.
pub fn alpha_u8(scene: &Scene) -> Vec<u8> {
    scene.alpha.iter().map(|a| (a * 255.0).round().clamp(0.0, 255.0) as u8).collect()
}
