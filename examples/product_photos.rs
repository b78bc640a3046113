//! Writes the backdrop analysis's test scenes (`tests/scenes/mod.rs`) as files, to look at them:
//! `cargo run --example product_photos -- OUT_DIR [--png]`.
//!
//! For each scene, OUT_DIR/<name>.jpg (the JPEG whose decoding the tests see) and OUT_DIR/<name>-alpha.png (the
//! true alpha as 8-bit grey); with `--png`, also OUT_DIR/<name>.png, the decoded photo.

#[path = "../tests/scenes/mod.rs"]
mod scenes;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let png = args.iter().any(|a| a == "--png");
    let dirs: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [dir] = dirs[..] else {
        eprintln!("usage: cargo run --example product_photos -- OUT_DIR [--png]");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot make {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let all = scenes::studio_scenes().into_iter().chain(scenes::lifestyle_scenes()).chain(scenes::framings());
    for scene in all {
        let mut files = vec![
            (format!("{}.jpg", scene.name), scene.jpeg.clone()),
            (
                format!("{}-alpha.png", scene.name),
                scenes::png_grey(scene.width, scene.height, &scenes::alpha_u8(&scene)),
            ),
        ];
        if png {
            files.push((format!("{}.png", scene.name), scenes::png_rgba(&scene)));
        }
        for (file, bytes) in files {
            let path = dir.join(file);
            if let Err(e) = std::fs::write(&path, bytes) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
        println!("{:<24} {:>4}x{:<4} {:?}", scene.name, scene.width, scene.height, scene.kind);
    }
    ExitCode::SUCCESS
}
