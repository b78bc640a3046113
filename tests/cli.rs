//! The `vitrine` command as a user runs it: real files in a temporary folder, the CPU backend (the GPU path has
//! its own tests), and every bad input ending in a message on stderr, a non-zero exit and no panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples");
const STYLE_PICTURE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/arbitrary/style_astronaut_300x220.png");
const CONTENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/arbitrary/content_rocket_96x72.png");
const CUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/fixtures/cup-96x64.png");

fn vitrine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vitrine")).args(args).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vitrine-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample(name: &str) -> String {
    format!("{SAMPLES}/{name}")
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Fails with the command's own output when it did not exit as expected.
fn expect_failure(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "expected failure, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "a panic reached the user: {stderr}");
    assert!(stderr.contains(needle), "stderr lacks `{needle}`: {stderr}");
}

fn expect_success(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "failed: {stderr}");
    stderr
}

#[test]
fn stylizes_a_photo_at_its_size_and_reports_json() {
    let dir = scratch("one");
    let out = dir.join("coffee19.png");
    let output = vitrine(&[
        "stylize",
        &sample("coffee.jpg"),
        "-o",
        path(&out),
        "--style",
        "19",
        "--max-size",
        "64",
        "--backend",
        "cpu",
        "--json",
    ]);
    expect_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["style"], "19");
    assert_eq!(report["backend"], "cpu");
    let styled = image::open(&out).unwrap();
    let source = image::open(sample("coffee.jpg")).unwrap();
    assert_eq!(styled.width().max(styled.height()), 64);
    let expected_h = (64.0 * source.height() as f64 / source.width() as f64).round() as u32;
    assert_eq!((report["size"][0].as_u64().unwrap(), report["size"][1].as_u64().unwrap()), (64, expected_h as u64));
}

#[test]
fn rgba_input_keeps_its_alpha() {
    let dir = scratch("alpha");
    let out = dir.join("logo.png");
    expect_success(&vitrine(&[
        "stylize",
        &sample("logo.png"),
        "-o",
        path(&out),
        "--style",
        "7",
        "--max-size",
        "60",
        "--backend",
        "cpu",
    ]));
    let styled = image::open(&out).unwrap().to_rgba8();
    let source = image::imageops::resize(
        &image::open(sample("logo.png")).unwrap().to_rgba8(),
        styled.width(),
        styled.height(),
        image::imageops::FilterType::Lanczos3,
    );
    assert!(styled.pixels().any(|p| p[3] == 0), "the logo's transparent parts are gone");
    assert!(styled.pixels().zip(source.pixels()).all(|(a, b)| a[3] == b[3]));
}

#[test]
fn folders_in_and_out_and_mixes_with_strength_and_colour() {
    let dir = scratch("folder");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in ["coffee.jpg", "rocket.jpg"] {
        std::fs::copy(sample(name), input.join(name)).unwrap();
    }
    std::fs::write(input.join("notes.txt"), "not an image").unwrap();
    let out = dir.join("out");
    let args = [
        "stylize",
        path(&input),
        "-o",
        path(&out),
        "--style",
        "3:0.5,12:0.5",
        "--strength",
        "0.8",
        "--preserve-color",
        "--max-size",
        "48",
        "--backend",
        "cpu",
    ];
    expect_success(&vitrine(&args));
    let mut written: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert_eq!(written, ["coffee_style3-0.5_12-0.5.png", "rocket_style3-0.5_12-0.5.png"]);
}

#[test]
fn a_bad_file_in_a_folder_is_reported_and_the_rest_are_written() {
    let dir = scratch("partial");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("a.jpg")).unwrap();
    std::fs::write(input.join("b.png"), b"\x89PNG\r\n\x1a\n broken").unwrap();
    let out = dir.join("out");
    let output = vitrine(&["stylize", path(&input), "-o", path(&out), "--max-size", "32", "--backend", "cpu"]);
    expect_failure(&output, "b.png");
    assert!(out.join("a_style0.png").exists());
    assert!(!out.join("b_style0.png").exists());
}

#[test]
fn stdin_to_stdout() {
    let photo = std::fs::read(sample("rocket.jpg")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["stylize", "-", "-o", "-", "--style", "4", "--max-size", "40", "--backend", "cpu"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &photo).unwrap();
    let output = child.wait_with_output().unwrap();
    expect_success(&output);
    let styled = image::load_from_memory(&output.stdout).unwrap();
    assert_eq!(styled.width().max(styled.height()), 40);
}

#[test]
fn sheet_shows_every_style() {
    let dir = scratch("sheet");
    let out = dir.join("sheet.png");
    expect_success(&vitrine(&[
        "sheet",
        &sample("coffee.jpg"),
        "-o",
        path(&out),
        "--tile",
        "32",
        "--columns",
        "9",
        "--backend",
        "cpu",
    ]));
    let sheet = image::open(&out).unwrap();
    // 27 tiles (the photo and 26 styles) in rows of 9: three rows.
    assert_eq!(sheet.width(), 9 * (32 + 8) + 8);
    assert!(sheet.height() > 3 * 21);
}

#[test]
fn info_lists_backend_and_named_styles() {
    let output = vitrine(&["info", "--backend", "cpu", "--json"]);
    expect_success(&output);
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(info["backend"], "cpu");
    assert_eq!(info["styles"].as_array().unwrap().len(), 26);
    assert!(info["styles"].as_array().unwrap().iter().all(|s| s["name"].is_string()));
    assert_eq!(info["style_vectors"]["model"], "arbitrary_transform");
    assert_eq!(info["style_vectors"]["length"], 100);
    let text = vitrine(&["info", "--backend", "cpu"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("26 styles"));
    assert!(text.contains("arbitrary_transform (style vectors of 100 numbers)"), "{text}");
}

#[test]
fn bad_input_fails_clearly() {
    let dir = scratch("bad");
    let coffee = sample("coffee.jpg");
    let out = dir.join("out.png");
    let o = path(&out);
    let gif = dir.join("out.gif");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["stylize", &coffee, "-o", o, "--style", "26"], "0 to 25"),
        (vec!["stylize", &coffee, "-o", o, "--style", "3:nan"], "not a number"),
        (vec!["stylize", &coffee, "-o", o, "--style", "3:-1"], "negative"),
        (vec!["stylize", &coffee, "-o", o, "--style", "3:0,4:0"], "add up to zero"),
        (vec!["stylize", &coffee, "-o", o, "--style", "oil"], "INDEX"),
        (vec!["stylize", &coffee, "-o", o, "--strength", "1.5"], "from 0 to 1"),
        (vec!["stylize", "/no/such/photo.jpg", "-o", o], "does not exist"),
        (vec!["stylize", &coffee, "-o", path(&gif)], ".png or .jpg"),
        (vec!["stylize", &coffee, "-o", &coffee], "overwrite its own input"),
    ];
    for (args, needle) in cases {
        let mut args = args;
        args.extend(["--backend", "cpu"]);
        expect_failure(&vitrine(&args), needle);
    }
    assert!(!out.exists(), "a failed run left an output behind");

    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    expect_failure(&vitrine(&["stylize", path(&empty), "-o", o, "--backend", "cpu"]), "empty");
    let garbage = dir.join("garbage.jpg");
    std::fs::write(&garbage, [0xFFu8, 0xD8, 0xFF, 0x00, 1, 2, 3]).unwrap();
    expect_failure(&vitrine(&["stylize", path(&garbage), "-o", o, "--backend", "cpu"]), "not a readable image");

    let tiny = dir.join("tiny.png");
    image::RgbImage::new(3, 3).save(&tiny).unwrap();
    expect_failure(&vitrine(&["stylize", path(&tiny), "-o", o, "--backend", "cpu"]), "at least 5 pixels");
    let long = dir.join("long.png");
    image::RgbImage::new(9000, 8).save(&long).unwrap();
    expect_failure(
        &vitrine(&["stylize", path(&long), "-o", o, "--max-size", "0", "--backend", "cpu"]),
        "beyond the limits of",
    );

    let model = dir.join("broken.safetensors");
    std::fs::write(&model, b"not a model").unwrap();
    expect_failure(
        &vitrine(&["stylize", &coffee, "-o", o, "--model", path(&model), "--backend", "cpu"]),
        "damaged or is not a vitrine model",
    );
    expect_failure(
        &vitrine(&["stylize", &coffee, "-o", o, "--model", "/no/such/model", "--backend", "cpu"]),
        "cannot read the model",
    );
}

#[test]
fn gpu_backend_without_a_gpu_says_so() {
    // Point Vulkan at a driver that does not exist and allow no other backend: no adapter can be had.
    let output = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["info", "--backend", "gpu"])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    expect_failure(&output, "--backend cpu");
    // auto falls back to the CPU and says why.
    let output = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["info", "--backend", "auto"])
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .output()
        .unwrap();
    expect_success(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("backend   cpu"));
}

#[test]
fn a_runaway_stream_is_refused_not_swallowed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["stylize", "-", "-o", "-", "--backend", "cpu"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![0u8; 1 << 20];
        // 300 MiB, past the 256 MiB cap; the reader may stop early, which ends the writes with an error.
        for _ in 0..300 {
            if std::io::Write::write_all(&mut stdin, &chunk).is_err() {
                break;
            }
        }
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    expect_failure(&output, "larger than 256 MiB");
}

/// `vitrine style` into a file; returns the file's path and its parsed JSON.
fn style_file(dir: &Path) -> (PathBuf, serde_json::Value) {
    let file = dir.join("brand.json");
    let output = vitrine(&["style", STYLE_PICTURE, "-o", path(&file), "--backend", "cpu", "--json"]);
    expect_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["length"], 100);
    (file.clone(), serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap())
}

fn pixels(file: &Path) -> Vec<u8> {
    image::open(file).unwrap().to_rgba8().into_raw()
}

#[test]
fn style_writes_a_portable_vector_file() {
    let dir = scratch("style-file");
    let (file, style) = style_file(&dir);
    assert_eq!(style["format"], "vitrine-style");
    assert_eq!(style["version"], 1);
    assert_eq!(style["model"], "arbitrary_transform");
    let vector = style["vector"].as_array().unwrap();
    assert_eq!(vector.len(), 100);
    assert!(vector.iter().all(|v| v.as_f64().is_some_and(f64::is_finite)), "{vector:?}");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 2048, "the style file is {size} bytes");
    assert!(!dir.join("brand.partial").exists(), "the temporary file was left behind");
    // To standard output, with the report on standard error.
    let output = vitrine(&["style", STYLE_PICTURE, "-o", "-", "--backend", "cpu", "--json"]);
    expect_success(&output);
    let streamed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(streamed, style);
}

/// The round trip: the vector from `vitrine style`, through its file, paints the same image as the picture.
#[test]
fn a_style_vector_file_paints_exactly_what_its_picture_paints() {
    let dir = scratch("round-trip");
    let (file, _) = style_file(&dir);
    let (via_file, via_picture) = (dir.join("via_file.png"), dir.join("via_picture.png"));
    let output = vitrine(&[
        "stylize",
        CONTENT,
        "-o",
        path(&via_file),
        "--style-vector",
        path(&file),
        "--backend",
        "cpu",
        "--json",
    ]);
    expect_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["style"][0]["vector"], path(&file));
    expect_success(&vitrine(&[
        "stylize",
        CONTENT,
        "-o",
        path(&via_picture),
        "--style-image",
        STYLE_PICTURE,
        "--backend",
        "cpu",
    ]));
    assert_eq!(std::fs::read(&via_file).unwrap(), std::fs::read(&via_picture).unwrap());

    // Strength follows Magenta (the photo's own vector blended in): unlike full strength, unlike the photo.
    let half = dir.join("half.png");
    expect_success(&vitrine(&[
        "stylize",
        CONTENT,
        "-o",
        path(&half),
        "--style-vector",
        path(&file),
        "--strength",
        "0.5",
        "--backend",
        "cpu",
    ]));
    let (full, half, photo) = (pixels(&via_file), pixels(&half), pixels(Path::new(CONTENT)));
    let differs = |a: &[u8], b: &[u8]| a.iter().zip(b).filter(|(x, y)| x.abs_diff(**y) > 8).count() * 20 > a.len();
    assert!(differs(&half, &full), "strength 0.5 looks like strength 1");
    assert!(differs(&half, &photo), "strength 0.5 looks like the photo");

    // A mix of a file and a picture, with colours kept; weights after the last `:`.
    let mixed = dir.join("mixed.png");
    let weighted = format!("{}:0.3", path(&file));
    let args = [
        "stylize",
        CONTENT,
        "-o",
        path(&mixed),
        "--style-vector",
        &weighted,
        "--style-image",
        STYLE_PICTURE,
        "--preserve-color",
        "--backend",
        "cpu",
    ];
    expect_success(&vitrine(&args));
    assert_eq!(image::open(&mixed).unwrap().to_rgba8().dimensions(), (96, 72));
}

#[test]
fn a_style_picture_styles_a_folder() {
    let dir = scratch("style-folder");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(CONTENT, input.join("rocket.png")).unwrap();
    std::fs::copy(CUP, input.join("cup.png")).unwrap();
    let out = dir.join("out");
    let output = vitrine(&[
        "stylize",
        path(&input),
        "-o",
        path(&out),
        "--style-image",
        STYLE_PICTURE,
        "--backend",
        "cpu",
        "--json",
    ]);
    expect_success(&output);
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
    let mut written: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert_eq!(written, ["cup_style-style_astronaut_300x220.png", "rocket_style-style_astronaut_300x220.png"]);
    // The folder run paints each photo as a run of its own would.
    let alone = dir.join("alone.png");
    expect_success(&vitrine(&[
        "stylize",
        CONTENT,
        "-o",
        path(&alone),
        "--style-image",
        STYLE_PICTURE,
        "--backend",
        "cpu",
    ]));
    assert_eq!(
        std::fs::read(&alone).unwrap(),
        std::fs::read(out.join("rocket_style-style_astronaut_300x220.png")).unwrap()
    );
}

#[test]
fn bad_style_vectors_and_pictures_fail_clearly() {
    let dir = scratch("bad-style");
    let (good, style) = style_file(&dir);
    let good_text = std::fs::read_to_string(&good).unwrap();
    let first = serde_json::to_string(&style["vector"][0]).unwrap();
    let write = |name: &str, text: String| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        file
    };
    let mut short = style.clone();
    short["vector"].as_array_mut().unwrap().pop();
    let mut nan = style.clone();
    nan["vector"][3] = serde_json::json!("NaN");
    let mut v2 = style.clone();
    v2["version"] = serde_json::json!(2);
    let mut other = style.clone();
    other["model"] = serde_json::json!("multistyle26");
    let cases = [
        (write("short.json", short.to_string()), "99 numbers"),
        (write("nan.json", nan.to_string()), "\"NaN\""),
        (write("huge.json", good_text.replacen(&first, "1e999", 1)), "out of range"),
        (write("f32inf.json", good_text.replacen(&first, "1e39", 1)), "not a finite number"),
        (write("v2.json", v2.to_string()), "version 2"),
        (write("other.json", other.to_string()), "for the model `multistyle26`"),
        (write("text.json", "not json".into()), "not JSON"),
        (dir.join("missing.json"), "cannot read the style vector file"),
    ];
    let out = dir.join("out.png");
    for (file, needle) in &cases {
        let output = vitrine(&["stylize", CONTENT, "-o", path(&out), "--style-vector", path(file), "--backend", "cpu"]);
        expect_failure(&output, needle);
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let broken = write("broken.png", "not a picture".into());
    let (negative, zero) = (format!("{}:-1", path(&good)), format!("{}:0", path(&good)));
    let (b_json, b_png) = (dir.join("b.json"), dir.join("b.png"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["stylize", CONTENT, "-o", path(&out), "--style-image", path(&broken)], "the style picture"),
        (vec!["stylize", CONTENT, "-o", path(&out), "--style-image", "/no/such/picture.png"], "does not exist"),
        (vec!["stylize", CONTENT, "-o", path(&out), "--style-vector", &negative], "non-negative"),
        (vec!["stylize", CONTENT, "-o", path(&out), "--style-vector", &zero], "add up to zero"),
        (vec!["style", path(&broken), "-o", path(&b_json)], "not a readable image"),
        (vec!["style", STYLE_PICTURE, "-o", path(&b_png)], "name the style file .json"),
    ];
    for (args, needle) in cases {
        let mut args = args;
        args.extend(["--backend", "cpu"]);
        let output = vitrine(&args);
        expect_failure(&output, needle);
        assert_eq!(output.status.code(), Some(2));
    }
    assert!(!out.exists(), "a failed run left an output behind");
    assert!(!b_json.exists());
    // A preset and a style vector at once is a usage error.
    let output = vitrine(&["stylize", CONTENT, "-o", path(&out), "--style", "3", "--style-vector", path(&good)]);
    expect_failure(&output, "cannot be used with");
    assert_eq!(output.status.code(), Some(2));
}
