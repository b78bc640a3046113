//! The `vitrine` command as a user runs it: real files in a temporary folder, the CPU backend (the GPU path has
//! its own tests), every bad input ending in a message on stderr, its own exit code and no panic, and no run
//! that loses, replaces or fakes an image.

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

/// The JSON objects a `--json` run printed, one a line, and the final summary.
fn records(stream: &[u8]) -> (Vec<serde_json::Value>, serde_json::Value) {
    let text = String::from_utf8_lossy(stream);
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = lines.pop().unwrap_or_else(|| panic!("no JSON at all: {text}"));
    assert!(summary["summary"].is_object(), "the last object is not the summary: {summary}");
    (lines, summary["summary"].clone())
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("killed by a signal")
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
    let (lines, summary) = records(&output.stdout);
    let report = &lines[0];
    assert_eq!((summary["written"].as_u64(), summary["exit_code"].as_u64()), (Some(1), Some(0)));
    assert_eq!(report["status"], "written");
    assert_eq!(report["style"], "19");
    assert_eq!(report["backend"], "cpu");
    assert_eq!(report["tiling"]["mode"], "whole", "{report}");
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
    assert_eq!(code(&output), 1, "some inputs failed, the rest were written");
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
        (vec!["stylize", &coffee, "-o", path(&gif)], ".png, .jpg or .webp"),
        (vec!["stylize", &coffee, "-o", &coffee], "overwrite its own input"),
    ];
    for (args, needle) in cases {
        let mut args = args;
        args.extend(["--backend", "cpu"]);
        let output = vitrine(&args);
        expect_failure(&output, needle);
        assert_eq!(code(&output), 2, "a usage error: {args:?}");
    }
    assert!(!out.exists(), "a failed run left an output behind");

    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    // An input that cannot be styled: exit 1.
    let expect_input_failure = |output: Output, needle: &str| {
        expect_failure(&output, needle);
        assert_eq!(code(&output), 1, "an input's failure");
    };
    expect_input_failure(vitrine(&["stylize", path(&empty), "-o", o, "--backend", "cpu"]), "empty");
    let garbage = dir.join("garbage.jpg");
    std::fs::write(&garbage, [0xFFu8, 0xD8, 0xFF, 0x00, 1, 2, 3]).unwrap();
    expect_input_failure(vitrine(&["stylize", path(&garbage), "-o", o, "--backend", "cpu"]), "not a readable image");

    let tiny = dir.join("tiny.png");
    image::RgbImage::new(3, 3).save(&tiny).unwrap();
    expect_input_failure(vitrine(&["stylize", path(&tiny), "-o", o, "--backend", "cpu"]), "at least 5 pixels");
    let long = dir.join("long.png");
    image::RgbImage::new(9000, 8).save(&long).unwrap();
    expect_input_failure(
        vitrine(&["stylize", path(&long), "-o", o, "--max-size", "0", "--backend", "cpu"]),
        "beyond the limits of",
    );

    // The model: nothing can be done, exit 3.
    let model = dir.join("broken.safetensors");
    std::fs::write(&model, b"not a model").unwrap();
    let output = vitrine(&["stylize", &coffee, "-o", o, "--model", path(&model), "--backend", "cpu"]);
    expect_failure(&output, "damaged or is not a vitrine model");
    assert_eq!(code(&output), 3);
    let output = vitrine(&["stylize", &coffee, "-o", o, "--model", "/no/such/model", "--backend", "cpu"]);
    expect_failure(&output, "cannot read the model");
    assert_eq!(code(&output), 3);
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
    assert_eq!(code(&output), 3, "no GPU: nothing could be done");
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
    let (lines, _) = records(&output.stdout);
    assert_eq!(lines[0]["length"], 100);
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
    assert!(leftovers(&dir).is_empty(), "a temporary file was left behind: {:?}", leftovers(&dir));
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
    let (lines, _) = records(&output.stdout);
    assert_eq!(lines[0]["style"][0]["vector"], path(&file));
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
    assert_eq!(records(&output.stdout).0.len(), 2);
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
        (vec!["style", STYLE_PICTURE, "-o", path(&b_png)], "name the style file .json"),
    ];
    for (args, needle) in cases {
        let mut args = args;
        args.extend(["--backend", "cpu"]);
        let output = vitrine(&args);
        expect_failure(&output, needle);
        assert_eq!(output.status.code(), Some(2));
    }
    // For `style` the picture is the input: its failure is exit 1.
    let output = vitrine(&["style", path(&broken), "-o", path(&b_json), "--backend", "cpu"]);
    expect_failure(&output, "not a readable image");
    assert_eq!(code(&output), 1);
    assert!(!out.exists(), "a failed run left an output behind");
    assert!(!b_json.exists());
    // A preset and a style vector at once is a usage error.
    let output = vitrine(&["stylize", CONTENT, "-o", path(&out), "--style", "3", "--style-vector", path(&good)]);
    expect_failure(&output, "cannot be used with");
    assert_eq!(output.status.code(), Some(2));
}

/// Files below `dir` that a run of vitrine's must never leave: temporary files of any name it ever used.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(leftovers(&path));
        } else if name.starts_with(".vitrine-") || name.ends_with(".tmp") || name == "out.partial" {
            found.push(path);
        }
    }
    found
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn cpu(args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--backend", "cpu"]);
    vitrine(&all)
}

#[test]
fn inputs_that_share_a_stem_keep_their_extension_in_the_name() {
    let dir = scratch("stems");
    let input = dir.join("cat");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("sku.jpg")).unwrap();
    std::fs::copy(sample("logo.png"), input.join("sku.png")).unwrap();
    std::fs::copy(sample("rocket.jpg"), input.join("other.jpg")).unwrap();
    let out = dir.join("out");
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--style", "2", "--max-size", "40", "--json"]);
    expect_success(&output);
    assert_eq!(listing(&out), ["other_style2.png", "sku_jpg_style2.png", "sku_png_style2.png"]);
    // Each is its own photo's result: the JPEG's is opaque, the logo's keeps its transparency.
    assert!(image::open(out.join("sku_jpg_style2.png")).unwrap().to_rgba8().pixels().all(|p| p[3] == 255));
    assert!(image::open(out.join("sku_png_style2.png")).unwrap().to_rgba8().pixels().any(|p| p[3] == 0));
    let (lines, summary) = records(&output.stdout);
    assert_eq!(lines.len(), 3);
    assert_eq!(summary["written"], 3);
}

#[test]
fn colliding_outputs_are_refused_before_anything_is_written() {
    let dir = scratch("collide");
    for folder in ["x", "y"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        std::fs::copy(sample("coffee.jpg"), dir.join(folder).join("a.jpg")).unwrap();
    }
    let out = dir.join("out");
    let (a, b) = (dir.join("x/a.jpg"), dir.join("y/a.jpg"));
    let output = cpu(&["stylize", path(&a), path(&b), "-o", path(&out), "--max-size", "32", "--json"]);
    expect_failure(&output, "would both be written to");
    assert_eq!(code(&output), 2);
    assert!(!out.exists(), "a refused run created its output folder");
    let (lines, summary) = records(&output.stdout);
    assert!(lines.is_empty());
    assert_eq!(summary["exit_code"], 2);
    assert!(summary["error"].as_str().unwrap().contains("would both be written to"));
}

#[test]
fn an_input_named_like_an_output_is_left_untouched() {
    let dir = scratch("named-like");
    std::fs::copy(sample("rocket.jpg"), dir.join("x.jpg")).unwrap();
    std::fs::copy(sample("logo.png"), dir.join("x_style4.png")).unwrap();
    let original = std::fs::read(dir.join("x_style4.png")).unwrap();
    let output = cpu(&["stylize", path(&dir), "-o", path(&dir), "--style", "4", "--max-size", "32"]);
    expect_failure(&output, "itself an input of this run");
    assert_eq!(code(&output), 2);
    assert_eq!(std::fs::read(dir.join("x_style4.png")).unwrap(), original);
    assert_eq!(listing(&dir), ["x.jpg", "x_style4.png"]);
    // The default, beside each input, is refused the same way.
    let output = cpu(&["stylize", path(&dir), "--style", "4", "--max-size", "32"]);
    assert_eq!(code(&output), 2);
    assert_eq!(listing(&dir), ["x.jpg", "x_style4.png"]);
}

#[test]
fn temporary_files_never_touch_a_users_files() {
    let dir = scratch("partial-names");
    // A file named as the old fixed temporary name, beside the output.
    std::fs::write(dir.join("photo.partial"), b"the user's own notes").unwrap();
    let out = dir.join("photo.png");
    expect_success(&cpu(&["stylize", &sample("coffee.jpg"), "-o", path(&out), "--max-size", "32"]));
    assert_eq!(std::fs::read(dir.join("photo.partial")).unwrap(), b"the user's own notes");
    // An input whose name is the output's old temporary name.
    let input = dir.join("shot.partial");
    std::fs::copy(sample("rocket.jpg"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    expect_success(&cpu(&["stylize", path(&input), "-o", path(&dir.join("shot.png")), "--max-size", "32"]));
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input was replaced");
    assert!(dir.join("shot.png").exists());
    // `vitrine style -o brand.json` beside a brand.partial.
    std::fs::write(dir.join("brand.partial"), b"keep me").unwrap();
    expect_success(&cpu(&["style", STYLE_PICTURE, "-o", path(&dir.join("brand.json"))]));
    assert_eq!(std::fs::read(dir.join("brand.partial")).unwrap(), b"keep me");
    assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
}

/// vitrine under a file-size limit, as a full disk: writes past it fail (SIGXFSZ ignored, so with EFBIG).
fn vitrine_on_a_full_disk(args: &[&str]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_vitrine"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_leaves_nothing_behind() {
    let dir = scratch("full-disk");
    let out = dir.join("out.png");
    let output =
        vitrine_on_a_full_disk(&["stylize", &sample("coffee.jpg"), "-o", path(&out), "--max-size", "256", "--json"]);
    expect_failure(&output, "cannot write");
    assert_eq!(code(&output), 1);
    assert_eq!(listing(&dir), Vec::<String>::new(), "a full disk left files behind");
    let (lines, summary) = records(&output.stdout);
    assert_eq!(lines[0]["status"], "failed");
    assert!(lines[0]["error"].as_str().unwrap().contains("cannot write"));
    assert_eq!(summary["failed"], 1);
    // A folder run on the full disk: every output fails, none is left half-written.
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("a.jpg")).unwrap();
    std::fs::copy(sample("rocket.jpg"), input.join("b.jpg")).unwrap();
    let styled = dir.join("styled");
    let output = vitrine_on_a_full_disk(&["stylize", path(&input), "-o", path(&styled), "--max-size", "256"]);
    assert_eq!(code(&output), 1);
    assert_eq!(listing(&styled), Vec::<String>::new());
}

#[test]
fn truncated_images_are_refused_naming_the_file() {
    let dir = scratch("truncated");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let truncate = |from: &Path, to: &str, keep: usize| {
        let bytes = std::fs::read(from).unwrap();
        assert!(bytes.len() > keep);
        std::fs::write(input.join(to), &bytes[..keep]).unwrap();
    };
    truncate(Path::new(&sample("coffee.jpg")), "cut.jpg", 3000);
    truncate(Path::new(&sample("logo.png")), "cut.png", 3000);
    let webp = dir.join("whole.webp");
    image::RgbaImage::from_fn(64, 48, |x, y| image::Rgba([(x * 4) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8, 255]))
        .save(&webp)
        .unwrap();
    let webp_len = std::fs::metadata(&webp).unwrap().len() as usize;
    truncate(&webp, "cut.webp", webp_len / 2);
    std::fs::copy(sample("rocket.jpg"), input.join("whole.jpg")).unwrap();
    let out = dir.join("out");
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32", "--json"]);
    assert_eq!(code(&output), 1, "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in ["cut.jpg", "cut.png", "cut.webp"] {
        let line = stderr.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name} not named: {stderr}"));
        assert!(line.contains("not a readable image"), "{line}");
    }
    assert!(stderr.contains("JPEG: "), "the JPEG decoder's own error is missing: {stderr}");
    assert_eq!(listing(&out), ["whole_style0.png"]);
    let (lines, summary) = records(&output.stdout);
    let failed: Vec<&str> =
        lines.iter().filter(|l| l["status"] == "failed").map(|l| l["input"].as_str().unwrap()).collect();
    assert_eq!(failed.len(), 3, "{lines:?}");
    assert!(failed.iter().all(|f| f.contains("cut.")));
    assert_eq!((summary["written"].as_u64(), summary["failed"].as_u64()), (Some(1), Some(3)));
}

#[test]
fn one_output_file_for_several_inputs_is_refused() {
    let dir = scratch("single-out");
    let single = dir.join("single.png");
    let output = cpu(&["stylize", &sample("coffee.jpg"), &sample("rocket.jpg"), "-o", path(&single)]);
    expect_failure(&output, "names a file, but this run has 2 inputs");
    assert_eq!(code(&output), 2);
    assert!(!single.exists(), "a folder or file named single.png was made");
}

#[test]
fn subfolders_are_reported_or_walked_with_recursive() {
    let dir = scratch("subfolders");
    let input = dir.join("cat");
    std::fs::create_dir_all(input.join("mugs")).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("a.jpg")).unwrap();
    std::fs::copy(sample("rocket.jpg"), input.join("mugs/b.jpg")).unwrap();
    let out = dir.join("out");
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32"]);
    let stderr = expect_success(&output);
    assert!(stderr.contains("skipped the subfolder") && stderr.contains("mugs"), "{stderr}");
    assert_eq!(listing(&out), ["a_style0.png"]);
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32", "--recursive"]);
    expect_success(&output);
    assert_eq!(listing(&out), ["a_style0.png", "mugs"]);
    assert_eq!(listing(&out.join("mugs")), ["b_style0.png"]);
}

#[test]
fn skip_existing_does_only_what_is_missing() {
    let dir = scratch("skip");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("a.jpg")).unwrap();
    std::fs::copy(sample("rocket.jpg"), input.join("b.jpg")).unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("a_style0.png"), b"done before").unwrap();
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32", "--skip-existing", "--json"]);
    expect_success(&output);
    assert_eq!(std::fs::read(out.join("a_style0.png")).unwrap(), b"done before");
    assert!(image::open(out.join("b_style0.png")).is_ok());
    let (lines, summary) = records(&output.stdout);
    assert_eq!(lines[0]["status"], "skipped");
    assert_eq!(lines[1]["status"], "written");
    assert_eq!((summary["skipped"].as_u64(), summary["written"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn progress_counts_images_and_estimates_the_time_left() {
    let dir = scratch("progress");
    let out = dir.join("out");
    let args = ["stylize", &sample("coffee.jpg"), &sample("rocket.jpg"), "-o", path(&out), "--max-size", "32"];
    let mut with_progress = args.to_vec();
    with_progress.extend(["--progress", "always"]);
    let stderr = expect_success(&cpu(&with_progress));
    assert!(stderr.contains("[1/2] ") && stderr.contains("[2/2] "), "{stderr}");
    assert!(stderr.contains("left"), "no time estimate: {stderr}");
    assert!(stderr.contains("styling 32x"), "no line while an image is styled: {stderr}");
    // One image: a line as it starts, so a slow photo is not silence.
    let one = dir.join("one.png");
    let stderr = expect_success(&cpu(&[
        "stylize",
        &sample("coffee.jpg"),
        "-o",
        path(&one),
        "--max-size",
        "32",
        "--progress",
        "always",
    ]));
    assert!(stderr.contains("coffee.jpg: styling 32x"), "{stderr}");
    // Not a terminal and not asked for: no progress lines.
    let stderr = expect_success(&cpu(&args));
    assert!(!stderr.contains("styling") && !stderr.contains("left"), "{stderr}");
}

#[test]
fn every_output_format_reads_back() {
    let dir = scratch("formats");
    let logo = sample("logo.png");
    // By extension for one file, with the alpha channel where the format holds one. The whole frame is painted
    // (`paint`), the content the lossy bound below was set on: the logo painted alone on its kept transparent
    // backdrop has harder edges, which cost lossy WebP more.
    for (name, alpha) in [("logo.png", true), ("logo.webp", true), ("logo.jpg", false)] {
        let out = dir.join(name);
        let args = ["stylize", &logo, "-o", path(&out), "--style", "7", "--max-size", "48", "--background", "paint"];
        expect_success(&cpu(&args));
        let format = image::ImageFormat::from_path(&out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(image::guess_format(&bytes).unwrap(), format, "{name} is not what its name says");
        let read = image::load_from_memory(&bytes).unwrap().to_rgba8();
        assert_eq!(read.width(), 48);
        assert_eq!(read.pixels().any(|p| p[3] == 0), alpha, "{name}: alpha kept {alpha}");
    }
    // Lossless WebP: the same pixels as the PNG. Lossy WebP at --quality: alpha kept, close, and smaller.
    assert_eq!(pixels(&dir.join("logo.webp")), pixels(&dir.join("logo.png")));
    let lossy = dir.join("lossy.webp");
    let output = cpu(&[
        "stylize",
        &logo,
        "-o",
        path(&lossy),
        "--style",
        "7",
        "--max-size",
        "48",
        "--quality",
        "80",
        "--json",
        "--background",
        "paint",
    ]);
    expect_success(&output);
    assert_eq!(records(&output.stdout).0[0]["quality"], 80);
    let (lossy_pixels, exact) = (pixels(&lossy), pixels(&dir.join("logo.png")));
    assert_ne!(lossy_pixels, exact);
    let mean_error =
        lossy_pixels.iter().zip(&exact).map(|(a, b)| a.abs_diff(*b) as f64).sum::<f64>() / exact.len() as f64;
    assert!(mean_error < 12.0, "lossy WebP is {mean_error} levels off on average");
    assert!(image::open(&lossy).unwrap().to_rgba8().pixels().any(|p| p[3] == 0), "lossy WebP lost the alpha");
    assert!(std::fs::metadata(&lossy).unwrap().len() < std::fs::metadata(dir.join("logo.webp")).unwrap().len());
    // --format for a folder run, --quality for JPEG.
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("c.jpg")).unwrap();
    let sizes: Vec<u64> = ["20", "95"]
        .iter()
        .map(|quality| {
            let out = dir.join(format!("q{quality}"));
            let output =
                cpu(&["stylize", path(&input), "-o", path(&out), "--format", "jpg", "--quality", quality, "--json"]);
            expect_success(&output);
            assert_eq!(records(&output.stdout).0[0]["quality"], quality.parse::<u64>().unwrap());
            let file = out.join("c_style0.jpg");
            assert_eq!(image::guess_format(&std::fs::read(&file).unwrap()).unwrap(), image::ImageFormat::Jpeg);
            std::fs::metadata(file).unwrap().len()
        })
        .collect();
    assert!(sizes[0] < sizes[1], "quality changes nothing: {sizes:?}");
    let webp_folder = dir.join("webp");
    expect_success(&cpu(&["stylize", path(&input), "-o", path(&webp_folder), "--format", "webp"]));
    let webp = std::fs::read(webp_folder.join("c_style0.webp")).unwrap();
    assert_eq!(image::guess_format(&webp).unwrap(), image::ImageFormat::WebP);
    // Disagreements are usage errors.
    let (x_jpg, x_png) = (dir.join("x.jpg"), dir.join("x.png"));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-o", path(&x_jpg), "--format", "png"], "make them agree"),
        (vec!["-o", path(&x_png), "--quality", "50"], "PNG is lossless"),
        (vec!["-o", path(&x_jpg), "--quality", "0"], "1..=100"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["stylize", logo.as_str()];
        args.extend(extra);
        let output = cpu(&args);
        expect_failure(&output, needle);
        assert_eq!(code(&output), 2);
    }
}

#[test]
fn exit_codes_tell_what_happened() {
    let dir = scratch("exit-codes");
    let good = dir.join("good.png");
    assert_eq!(code(&cpu(&["stylize", &sample("coffee.jpg"), "-o", path(&good), "--max-size", "32"])), 0);
    // 1: some inputs failed, the others were written.
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(sample("coffee.jpg"), input.join("a.jpg")).unwrap();
    std::fs::write(input.join("b.jpg"), b"not a photo").unwrap();
    let out = dir.join("out");
    assert_eq!(code(&cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32"])), 1);
    assert_eq!(listing(&out), ["a_style0.png"]);
    // 2: usage, from vitrine's checks and from the argument parser.
    assert_eq!(code(&cpu(&["stylize", &sample("coffee.jpg"), "--style", "99"])), 2);
    assert_eq!(code(&cpu(&["stylize", "/no/such/file.jpg"])), 2);
    assert_eq!(code(&cpu(&["stylize", &sample("coffee.jpg"), "--no-such-option"])), 2);
    // 3: nothing could be done: an output folder that cannot be made, a model that cannot be read.
    std::fs::write(dir.join("blocker"), b"a file where the folder should go").unwrap();
    let blocked = dir.join("blocker/styled");
    let output = cpu(&["stylize", path(&input), "-o", path(&blocked), "--max-size", "32"]);
    expect_failure(&output, "cannot write into the output folder");
    assert_eq!(code(&output), 3);
    assert_eq!(code(&cpu(&["stylize", &sample("coffee.jpg"), "--model", "/no/such/model"])), 3);
    // The help lists them.
    let help = String::from_utf8_lossy(&vitrine(&["--help"]).stdout).into_owned();
    assert!(help.contains("Exit codes: 0") && help.contains("3 nothing could be done"), "{help}");
}

#[test]
fn json_reports_every_input_and_a_summary_on_every_path() {
    let dir = scratch("json-paths");
    let coffee = sample("coffee.jpg");
    // One file, with numbers as given.
    let one = dir.join("one.png");
    let output = cpu(&["stylize", &coffee, "-o", path(&one), "--strength", "0.7", "--max-size", "32", "--json"]);
    expect_success(&output);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(text.contains("\"strength\":0.7,"), "{text}");
    let (lines, summary) = records(&output.stdout);
    assert_eq!((lines.len(), summary["written"].as_u64(), summary["exit_code"].as_u64()), (1, Some(1), Some(0)));
    // One file that fails: JSON on stdout too, not only text on stderr.
    let broken = dir.join("broken.jpg");
    std::fs::write(&broken, b"not a photo").unwrap();
    let output = cpu(&["stylize", path(&broken), "-o", path(&one), "--json"]);
    assert_eq!(code(&output), 1);
    let (lines, summary) = records(&output.stdout);
    assert_eq!(lines[0]["status"], "failed");
    assert_eq!(lines[0]["input"], path(&broken));
    assert!(lines[0]["error"].as_str().unwrap().contains("not a readable image"));
    assert_eq!((summary["failed"].as_u64(), summary["exit_code"].as_u64()), (Some(1), Some(1)));
    // Usage errors, from vitrine and from the argument parser, and a setup failure: a summary with the error.
    for (args, exit) in [
        (vec!["stylize", coffee.as_str(), "--style", "99", "--json"], 2),
        (vec!["stylize", coffee.as_str(), "--json", "--no-such-option"], 2),
        (vec!["stylize", coffee.as_str(), "--model", "/no/such/model", "--json"], 3),
    ] {
        let output = cpu(&args);
        assert_eq!(code(&output), exit);
        let (lines, summary) = records(&output.stdout);
        assert!(lines.is_empty());
        assert_eq!(summary["exit_code"], exit);
        assert!(!summary["error"].as_str().unwrap().is_empty());
    }
    // A style mix keeps its weights as given.
    let (file, _) = style_file(&dir);
    let weighted = format!("{}:0.3", path(&file));
    let output = cpu(&[
        "stylize",
        CONTENT,
        "-o",
        path(&one),
        "--style-vector",
        &weighted,
        "--style-image",
        STYLE_PICTURE,
        "--json",
    ]);
    expect_success(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"weight\":0.3}"));
    // The image on standard output: the JSON on standard error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["stylize", "-", "-o", "-", "--max-size", "32", "--backend", "cpu", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &std::fs::read(&coffee).unwrap()).unwrap();
    let output = child.wait_with_output().unwrap();
    expect_success(&output);
    assert!(image::load_from_memory(&output.stdout).is_ok());
    let (lines, summary) = records(&output.stderr);
    assert_eq!((lines[0]["output"].as_str(), summary["written"].as_u64()), (Some("(stdout)"), Some(1)));
    // `style` and `sheet` report the same way.
    let output = cpu(&["style", path(&broken), "-o", path(&dir.join("b.json")), "--json"]);
    assert_eq!(code(&output), 1);
    assert_eq!(records(&output.stdout).0[0]["status"], "failed");
    let output = cpu(&["sheet", &coffee, "-o", path(&dir.join("sheet.png")), "--tile", "16", "--json"]);
    expect_success(&output);
    assert_eq!(records(&output.stdout).0[0]["status"], "written");
}

/// Mesa's Vulkan driver that `make test` installs: the GPU tests' device, and the driver that complains without
/// a runtime folder.
const LAVAPIPE_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

#[test]
fn a_clean_run_without_xdg_runtime_dir_prints_no_error() {
    // Without the driver, nothing would complain and the test could not fail.
    assert!(Path::new(LAVAPIPE_ICD).exists(), "{LAVAPIPE_ICD} is missing: install mesa-vulkan-drivers");
    let dir = scratch("xdg");
    let out = dir.join("out.png");
    let without_runtime_dir = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vitrine"))
            .args(args)
            .env_remove("XDG_RUNTIME_DIR")
            .env("WGPU_BACKEND", "vulkan")
            .env("VK_ICD_FILENAMES", LAVAPIPE_ICD)
            .output()
            .unwrap()
    };
    // The GPU path is probed (auto) through the driver.
    let output = without_runtime_dir(&["stylize", &sample("coffee.jpg"), "-o", path(&out), "--max-size", "32"]);
    let stderr = expect_success(&output);
    assert!(!stderr.to_lowercase().contains("error"), "{stderr}");
    let output = without_runtime_dir(&["info"]);
    let stderr = expect_success(&output);
    assert!(!stderr.to_lowercase().contains("error"), "{stderr}");
    // The driver was loaded: `info` names its adapter.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("llvmpipe"), "info did not reach lavapipe:\n{stdout}");
}

/// A PNG decompression bomb: a 29999x29999 8-bit grayscale image of zeros, 900 MB decoded, in about 870 KB (one
/// dynamic-Huffman deflate block in which a 258-byte match costs two bits).
fn png_bomb(file: &Path) {
    const SIDE: u32 = 29_999;
    struct Bits {
        bytes: Vec<u8>,
        acc: u64,
        count: u32,
    }
    impl Bits {
        /// A header field or extra bits: least significant bit first.
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.count;
            self.count += count;
            while self.count >= 8 {
                self.bytes.push(self.acc as u8);
                self.acc >>= 8;
                self.count -= 8;
            }
        }
        /// A Huffman code: most significant bit first.
        fn code(&mut self, code: u64, length: u32) {
            let reversed = (0..length).fold(0, |r, i| r | ((code >> i) & 1) << (length - 1 - i));
            self.put(reversed, length);
        }
    }
    let mut bits = Bits { bytes: vec![0x78, 0x01], acc: 0, count: 0 };
    bits.put(1, 1); // the final block
    bits.put(2, 2); // dynamic Huffman codes
    bits.put(286 - 257, 5);
    bits.put(2 - 1, 5);
    bits.put(18 - 4, 4);
    // Code-length code: 18 (a run of zeros) in 1 bit, lengths 1 and 2 in 2 bits each.
    const ORDER: [u64; 18] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for symbol in ORDER {
        bits.put(
            match symbol {
                18 => 1,
                1 | 2 => 2,
                _ => 0,
            },
            3,
        );
    }
    let (run, one, two) = ((0b0, 1), (0b10, 2), (0b11, 2));
    // Literal/length lengths: 0 -> 2, 1..=255 none, 256 -> 2, 257..=284 none, 285 (length 258) -> 1.
    bits.code(two.0, two.1);
    for zeros in [138, 117] {
        bits.code(run.0, run.1);
        bits.put(zeros - 11, 7);
    }
    bits.code(two.0, two.1);
    bits.code(run.0, run.1);
    bits.put(28 - 11, 7);
    bits.code(one.0, one.1);
    // Distance lengths: codes 0 and 1 in 1 bit each.
    bits.code(one.0, one.1);
    bits.code(one.0, one.1);
    // The data: one literal zero, then matches of 258 at distance 1 (symbol 285 is `0`, distance 0 is `0`).
    let total = u64::from(SIDE) * u64::from(SIDE + 1);
    let (matches, rest) = ((total - 1) / 258, (total - 1) % 258);
    bits.code(0b10, 2);
    for _ in 0..matches {
        bits.put(0, 2);
    }
    for _ in 0..rest {
        bits.code(0b10, 2);
    }
    bits.code(0b11, 2); // end of block
    bits.put(0, 7); // out with the last partial byte
    let mut zlib = bits.bytes;
    let adler = ((total % 65521) << 16 | 1) as u32;
    zlib.extend(adler.to_be_bytes());

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { 0xEDB8_8320 ^ (crc >> 1) } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        png.extend(&body);
        png.extend(crc32(&body).to_be_bytes());
    };
    let mut header = SIDE.to_be_bytes().to_vec();
    header.extend(SIDE.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]);
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &zlib);
    chunk(b"IEND", &[]);
    std::fs::write(file, png).unwrap();
}

#[test]
fn a_decompression_bomb_is_refused_and_the_run_goes_on() {
    let dir = scratch("bomb");
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let bomb = input.join("a_bomb.png");
    png_bomb(&bomb);
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!((800_000..950_000).contains(&size), "the bomb is {size} bytes");
    std::fs::copy(sample("coffee.jpg"), input.join("b.jpg")).unwrap();
    let out = dir.join("out");
    let output = cpu(&["stylize", path(&input), "-o", path(&out), "--max-size", "32", "--json"]);
    assert_eq!(code(&output), 1, "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a_bomb.png") && stderr.contains("29999x29999") && stderr.contains("MiB"), "{stderr}");
    assert_eq!(listing(&out), ["b_style0.png"], "the run did not go on with the next file");
    let (lines, _) = records(&output.stdout);
    assert_eq!((lines[0]["status"].as_str(), lines[1]["status"].as_str()), (Some("failed"), Some("written")));
    // As a style picture: refused before the styler reads it.
    let output = cpu(&["stylize", CONTENT, "-o", path(&dir.join("x.png")), "--style-image", path(&bomb)]);
    expect_failure(&output, "the style picture");
    assert!(String::from_utf8_lossy(&output.stderr).contains("29999x29999"));
    assert_eq!(code(&output), 2);
    let styled = dir.join("styled");
    let output = cpu(&["stylize", path(&input), "-o", path(&styled), "--style-image", path(&bomb)]);
    assert_eq!(code(&output), 2);
    assert!(!styled.exists(), "a refused run made its output folder");
    let output = cpu(&["style", path(&bomb), "-o", path(&dir.join("bomb.json"))]);
    expect_failure(&output, "29999x29999");
    assert!(!dir.join("bomb.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A style picture is used as a 256 px square, so one too large to decode whole within its 256 MiB is read scaled
/// down where the format allows: a 28-megapixel baseline JPEG (281 MB decoded whole) is decoded at a fraction of
/// its size in the DCT domain, and its style is the style of the same picture made small first.
#[test]
fn a_style_picture_too_large_to_decode_whole_is_read_scaled_down() {
    let dir = scratch("large-style-picture");
    let (width, height) = (6400u32, 4400u32);
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        let band = ((x / 160 + y / 110) % 3) as u8;
        image::Rgb([(x * 255 / width) as u8, [40, 150, 230][band as usize], (y * 255 / height) as u8])
    });
    let large = dir.join("large.jpg");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&large).unwrap());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut file, 90).encode_image(&picture).unwrap();
    drop(file);
    let small = dir.join("small.png");
    image::imageops::resize(&picture, 800, 550, image::imageops::FilterType::Triangle).save(&small).unwrap();
    drop(picture);
    let vector = |picture: &Path, name: &str| {
        let file = dir.join(name);
        expect_success(&cpu(&["style", path(picture), "-o", path(&file)]));
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        json["vector"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>()
    };
    let (from_large, from_small) = (vector(&large, "large.json"), vector(&small, "small.json"));
    let dot: f64 = from_large.iter().zip(&from_small).map(|(a, b)| a * b).sum();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let cosine = dot / (norm(&from_large) * norm(&from_small));
    assert!(cosine > 0.99, "the large picture's style vector is {cosine} from the small copy's");
    // Truncated, it is refused on the scaled path too, not painted from what is there.
    let truncated = dir.join("truncated.jpg");
    let bytes = std::fs::read(&large).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let output = cpu(&["style", path(&truncated), "-o", path(&dir.join("truncated.json"))]);
    expect_failure(&output, "not a readable image");
    assert!(!dir.join("truncated.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A catalogue run stopped by SIGTERM (cron, a container stopping) or Ctrl-C ends by that signal, as a shell expects,
/// and leaves nothing of its own behind: the private runtime folder it made is removed, no temporary file stays
/// beside the outputs, and the outputs finished before the signal are whole.
#[cfg(unix)]
#[test]
fn a_run_stopped_by_a_signal_leaves_nothing_unfinished() {
    let dir = scratch("interrupt");
    let (input, temporary, out) = (dir.join("in"), dir.join("tmp"), dir.join("out"));
    std::fs::create_dir_all(&input).unwrap();
    std::fs::create_dir_all(&temporary).unwrap();
    for i in 0..40 {
        std::fs::copy(sample("coffee.jpg"), input.join(format!("{i:02}.jpg"))).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_vitrine"))
        .args(["stylize", path(&input), "-o", path(&out), "--max-size", "256", "--backend", "cpu"])
        .env_remove("XDG_RUNTIME_DIR")
        .env("TMPDIR", &temporary)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let finished = || if out.is_dir() { listing(&out).iter().filter(|name| name.ends_with(".png")).count() } else { 0 };
    while finished() < 2 {
        assert!(started.elapsed().as_secs() < 120, "no output within two minutes");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(listing(&temporary).len(), 1, "the private runtime folder was not made");
    let signal = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(signal.success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "not ended by its SIGTERM: {status:?}");
    assert!(listing(&temporary).is_empty(), "the runtime folder stayed: {:?}", listing(&temporary));
    let written = listing(&out);
    assert!(written.len() < 40, "the run finished before the signal: {written:?}");
    for name in &written {
        assert!(!name.starts_with(".vitrine-"), "a temporary file stayed: {name}");
        image::open(out.join(name)).unwrap_or_else(|e| panic!("{name} is not a whole image: {e}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn style_numbers_beyond_a_sane_range_are_refused() {
    let dir = scratch("style-numbers");
    let out = dir.join("out.png");
    let output = cpu(&["stylize", CONTENT, "-o", path(&out), "--style", "0:3e38,1:3e38"]);
    expect_failure(&output, "beyond the range 0 to 1000000");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("add up to zero"));
    assert_eq!(code(&output), 2);
    let (file, style) = style_file(&dir);
    let huge = format!("{}:3e38", path(&file));
    let output = cpu(&["stylize", CONTENT, "-o", path(&out), "--style-vector", &huge]);
    expect_failure(&output, "beyond the range 0 to 1000000");
    for (name, value) in [("e30.json", 1e30), ("3e38.json", 3e38), ("101.json", 101.0)] {
        let mut bad = style.clone();
        bad["vector"] = serde_json::json!(vec![value; 100]);
        let file = dir.join(name);
        std::fs::write(&file, bad.to_string()).unwrap();
        let output = cpu(&["stylize", CONTENT, "-o", path(&out), "--style-vector", path(&file)]);
        expect_failure(&output, "beyond the range -100 to 100");
        assert_eq!(code(&output), 2);
    }
    assert!(!out.exists());
}

#[test]
fn background_modes_keep_whiten_cut_out_or_paint_and_say_so() {
    let dir = scratch("background");
    let mug = sample("studio-mug.jpg");
    let run = |mode: &str, name: &str| {
        let out = dir.join(name);
        let output = cpu(&[
            "stylize",
            &mug,
            "-o",
            path(&out),
            "--style",
            "7",
            "--max-size",
            "160",
            "--background",
            mode,
            "--json",
        ]);
        expect_success(&output);
        let record = records(&output.stdout).0.remove(0);
        (record["background"].clone(), image::open(&out).unwrap().to_rgba8())
    };
    let (kept, kept_image) = run("auto", "auto.png");
    assert_eq!(kept["mode"], "auto");
    assert_eq!(kept["applied"], "kept");
    let product = kept["product"].as_f64().unwrap();
    assert!(product > 0.1 && product < 0.5, "{kept}");
    assert!(kept["reason"].is_null());
    // The top-left corner is far from the mug: the photo's own backdrop, the same pixels as the decoded photo.
    let photo = image::open(&mug).unwrap().resize(160, 160, image::imageops::FilterType::Lanczos3).to_rgba8();
    for (x, y) in [(2, 2), (150, 5), (5, 150)] {
        let (a, b) = (kept_image.get_pixel(x, y).0, photo.get_pixel(x, y).0);
        assert!(a.iter().zip(b).all(|(p, q)| p.abs_diff(q) <= 2), "({x}, {y}): {a:?} vs {b:?}");
    }
    let (white, white_image) = run("white", "white.png");
    assert_eq!(white["applied"], "white");
    assert_eq!(white_image.get_pixel(2, 2).0, [255, 255, 255, 255]);
    let (cut, cut_image) = run("transparent", "cut.webp");
    assert_eq!(cut["applied"], "transparent");
    assert_eq!(cut_image.get_pixel(2, 2).0[3], 0);
    assert_eq!(cut_image.get_pixel(80, 80).0[3], 255);
    let (painted, _) = run("paint", "paint.png");
    assert_eq!((painted["mode"].as_str(), painted["applied"].as_str()), (Some("paint"), Some("painted")));
    assert!(painted["product"].is_null());
    // A photo without a plain backdrop is painted whole, and the record says why.
    let output =
        cpu(&["stylize", &sample("coffee.jpg"), "-o", path(&dir.join("coffee.png")), "--max-size", "96", "--json"]);
    let record = records(&output.stdout).0.remove(0);
    assert_eq!(record["background"]["applied"], "painted");
    assert_eq!(record["background"]["reason"], "no-plain-backdrop");
    // A cut-out cannot be a JPEG; an unknown mode names the ones there are. Nothing is written.
    let jpeg = dir.join("cut.jpg");
    let refused = cpu(&["stylize", &mug, "-o", path(&jpeg), "--background", "transparent"]);
    expect_failure(&refused, ".png or .webp");
    assert_eq!(code(&refused), 2);
    assert!(!jpeg.exists());
    let unknown = cpu(&["stylize", &mug, "-o", path(&dir.join("x.png")), "--background", "grey"]);
    expect_failure(&unknown, "auto, keep, white, transparent, paint");
    assert_eq!(code(&unknown), 2);
    // The contact sheet takes the mode too.
    let sheet = dir.join("sheet.png");
    expect_success(&cpu(&["sheet", &mug, "-o", path(&sheet), "--tile", "32", "--background", "white"]));
    assert!(sheet.exists());
}
