//! `vitrine`: style product photos from the command line.
//!
//!     vitrine stylize photo.jpg -o out.png --style 19
//!     vitrine stylize photos/ -o styled/ --style 3:0.5,12:0.5 --strength 0.8 --preserve-color
//!     vitrine style brand-artwork.jpg -o brand.json
//!     vitrine stylize photo.jpg -o out.png --style-vector brand.json
//!     vitrine stylize photo.jpg -o out.png --style-image painting.jpg --strength 0.7
//!     vitrine sheet photo.jpg -o sheet.png
//!     vitrine info

mod images;
mod sheet;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use vitrine::tiling::TileLimits;
use vitrine::{Backend, Model, Options, StyleFile, StyleInput, StyleSpec, Styler};

use images::{Destination, Source};

#[derive(Parser)]
#[command(name = "vitrine", version, about = "Style product photos with painted looks, on the GPU or the CPU")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Style one or more photos (files, folders, or - for standard input).
    Stylize(StylizeArgs),
    /// Capture a picture's look as a style vector file (JSON) for `stylize --style-vector`.
    Style(StyleArgs),
    /// Render a photo in every preset style, each labelled with its number and name.
    Sheet(SheetArgs),
    /// Show the GPU adapter, the backend in use and the model's styles.
    Info(InfoArgs),
}

#[derive(Args)]
struct EngineArgs {
    /// Where the network runs: the GPU if one can be had (auto), only the GPU, or only the CPU.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// A vitrine model file to use instead of the built-in one (the preset model, or for style pictures and
    /// style vectors the arbitrary-style model).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Print machine-readable JSON (one object per line) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StylizeArgs {
    /// Photos or folders of photos; - reads one image from standard input.
    #[arg(required = true, value_name = "IN")]
    inputs: Vec<String>,
    /// Output file, folder (for several inputs or a folder), or - for standard output (PNG).
    /// Default: NAME_styleSPEC.png beside each input.
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,
    /// A preset (19) or a mix of presets with weights (3:0.5,12:0.5). Default: 0.
    #[arg(short, long, value_name = "SPEC", conflicts_with_all = ["style_image", "style_vector"])]
    style: Option<String>,
    /// Paint in the look of any picture (PNG, JPEG or WebP). Repeat it, or add --style-vector, to mix looks;
    /// PICTURE:WEIGHT weighs one part of a mix (a suffix after the last `:` is a weight only if it is a number).
    #[arg(long, value_name = "PICTURE[:WEIGHT]")]
    style_image: Vec<String>,
    /// Paint with a style vector file from `vitrine style`. Repeatable and weighable like --style-image.
    #[arg(long, value_name = "FILE[:WEIGHT]")]
    style_vector: Vec<String>,
    /// How much of the style to apply: 0 keeps the photo, 1 is the full style.
    #[arg(long, default_value_t = 1.0)]
    strength: f32,
    /// Keep the photo's own colours and take only the styled brightness.
    #[arg(long)]
    preserve_color: bool,
    /// Scale photos down so the longer side is at most this many pixels; 0 keeps the full size.
    #[arg(long, default_value_t = 1024, value_name = "PIXELS")]
    max_size: u32,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct StyleArgs {
    /// The picture whose look to capture (PNG, JPEG or WebP; its centred square is used), or - for standard input.
    #[arg(value_name = "PICTURE")]
    input: String,
    /// Where to write the style vector file (JSON), or - for standard output.
    #[arg(short, long, value_name = "OUT")]
    output: String,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct SheetArgs {
    /// The photo to show in every style.
    #[arg(value_name = "IN")]
    input: String,
    /// Where to write the sheet (PNG or JPEG), or - for standard output.
    #[arg(short, long, value_name = "OUT")]
    output: String,
    /// Longer side of each tile in pixels.
    #[arg(long, default_value_t = 256, value_name = "PIXELS")]
    tile: u32,
    /// Tiles per row.
    #[arg(long, default_value_t = 6)]
    columns: u32,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Auto,
    Gpu,
    Cpu,
}

/// A failure to report: the message, and the exit code (2 for bad input, as usage errors are).
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stylize(args) => stylize(args),
        Command::Style(args) => style(args),
        Command::Sheet(args) => sheet(args),
        Command::Info(args) => info(args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The model from `--model`, else the built-in preset model, or the built-in arbitrary-style model if `vectors`.
fn load_model(engine: &EngineArgs, vectors: bool) -> Result<Model, Failure> {
    Ok(match &engine.model {
        Some(path) => {
            let file =
                std::fs::File::open(path).map_err(|e| format!("cannot read the model {}: {e}", path.display()))?;
            let bytes = images::read_capped(file, &format!("the model {}", path.display()))?;
            Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None if vectors => Model::builtin_arbitrary()?,
        None => Model::builtin()?,
    })
}

/// The length of the style vectors `model` paints with, or why it takes none.
fn vector_length(model: &Model) -> Result<usize, Failure> {
    match model.style_input {
        StyleInput::Vector(length) => Ok(length),
        _ => Err(Failure(format!(
            "the model `{}` paints with preset styles, not style vectors; style pictures and style vector files need an arbitrary-style model (the built-in one is used without --model)",
            model.name
        ))),
    }
}

/// Whole-image tensors may take 60% of the memory available now (Linux), so a photo styles exactly, layer by layer,
/// wherever the machine can hold it; beyond that it streams in tiles.
fn tile_limits() -> TileLimits {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    let defaults = TileLimits::default();
    match available {
        Some(bytes) => TileLimits { host_budget: bytes / 10 * 6, ..defaults },
        None => defaults,
    }
}

/// `announce` prints why `auto` settled on the CPU; `info` reports that itself.
fn open_styler(model: Model, engine: &EngineArgs, announce: bool) -> Result<Styler, Failure> {
    let backend = match engine.backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Cpu => Backend::Cpu,
    };
    let styler = Styler::new(model, backend)?.with_tile_limits(tile_limits());
    if let Some(reason) = styler.fallback_reason() {
        if announce && !engine.json {
            eprintln!("note: styling on the CPU: {reason}");
        }
    }
    Ok(styler)
}

/// One part of a style-vector mix: a style picture or a style vector file, and its weight.
struct VectorPart {
    path: PathBuf,
    weight: f32,
    picture: bool,
}

impl VectorPart {
    /// `PATH` or `PATH:WEIGHT`: the text after the last `:` is a weight only if it parses as a number, so paths
    /// that hold colons still work (name a file whose name ends in `:NUMBER` as `PATH:1`).
    fn parse(text: &str, picture: bool) -> Result<Self, Failure> {
        let (path, weight) = match text.rsplit_once(':') {
            Some((path, suffix)) if !path.is_empty() => match suffix.trim().parse::<f32>() {
                Ok(weight) if weight.is_finite() && weight >= 0.0 => (path, weight),
                Ok(_) => return Err(Failure(format!("the weight in `{text}` must be a non-negative finite number"))),
                Err(_) => (text, 1.0),
            },
            _ => (text, 1.0),
        };
        Ok(VectorPart { path: PathBuf::from(path), weight, picture })
    }

    /// How the part is named in reports and output names: the file's stem, and the weight if one was given.
    fn label(&self, mixed: bool) -> String {
        let stem = self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if mixed {
            format!("{stem}:{}", self.weight)
        } else {
            stem
        }
    }
}

/// What `stylize` paints with.
enum StyleChoice {
    Presets(StyleSpec),
    /// Style pictures and style vector files, blended into one vector.
    Vectors(Vec<VectorPart>),
}

fn stylize(args: StylizeArgs) -> Result<ExitCode, Failure> {
    // Check the style and strength before any image is read or any GPU is started.
    if !(0.0..=1.0).contains(&args.strength) {
        return Err(vitrine::Error::Strength { value: args.strength }.into());
    }
    let choice = if args.style_image.is_empty() && args.style_vector.is_empty() {
        StyleChoice::Presets(args.style.as_deref().unwrap_or("0").parse()?)
    } else {
        let pictures = args.style_image.iter().map(|text| VectorPart::parse(text, true));
        let files = args.style_vector.iter().map(|text| VectorPart::parse(text, false));
        StyleChoice::Vectors(pictures.chain(files).collect::<Result<_, _>>()?)
    };
    let model = load_model(&args.engine, matches!(choice, StyleChoice::Vectors(_)))?;
    let (label, style_report) = match &choice {
        StyleChoice::Presets(spec) => {
            spec.resolve(model.style_count)?;
            (spec.to_string(), json!(spec.to_string()))
        }
        StyleChoice::Vectors(parts) => {
            vector_length(&model)?;
            if parts.iter().map(|p| p.weight).sum::<f32>() <= 0.0 {
                return Err(Failure(
                    "the style weights add up to zero; give at least one part a positive weight".into(),
                ));
            }
            for part in parts.iter().filter(|p| p.picture) {
                if !part.path.is_file() {
                    return Err(Failure(format!("the style picture {} does not exist", part.path.display())));
                }
            }
            let mixed = parts.len() > 1;
            let labels: Vec<String> = parts.iter().map(|p| p.label(mixed)).collect();
            let report: Vec<_> = parts
                .iter()
                .map(|p| json!({ if p.picture { "image" } else { "vector" }: p.path.display().to_string(), "weight": p.weight }))
                .collect();
            (format!("-{}", labels.join(",")), json!(report))
        }
    };
    // Style files are read and checked before the styler starts; style pictures need it.
    let file_vectors = match &choice {
        StyleChoice::Vectors(parts) => parts
            .iter()
            .filter(|p| !p.picture)
            .map(|p| read_style_file(&p.path, &model))
            .collect::<Result<Vec<_>, _>>()?,
        StyleChoice::Presets(_) => Vec::new(),
    };
    let jobs = images::plan_jobs(&args.inputs, args.output.as_deref(), &label)?;
    let mut styler = open_styler(model, &args.engine, true)?;
    let style = match choice {
        StyleChoice::Presets(spec) => spec,
        StyleChoice::Vectors(parts) => {
            // Attached always: it makes the pictures' vectors, and the photo's own vector for strength below 1.
            styler = styler.with_predictor(Model::builtin_predictor()?)?;
            let mut file_vectors = file_vectors.into_iter();
            let mut vectors = Vec::with_capacity(parts.len());
            for part in &parts {
                let vector = match part.picture {
                    true => picture_vector(&mut styler, &images::Source::File(part.path.clone()))?,
                    false => file_vectors.next().ok_or("a style vector file went missing")?,
                };
                vectors.push((vector, part.weight));
            }
            // One part is used exactly as it is, so a file and its picture give the same image bit for bit.
            let vector = match vectors.as_slice() {
                [(vector, _)] => vector.clone(),
                _ => {
                    vitrine::style::blend_vectors(&vectors.iter().map(|(v, w)| (v.as_slice(), *w)).collect::<Vec<_>>())?
                }
            };
            StyleSpec::Vector(vector)
        }
    };
    let options = Options { style, strength: args.strength, preserve_color: args.preserve_color };
    let mut failed = 0usize;
    for (source, destination) in &jobs {
        let started = Instant::now();
        match stylize_one(&mut styler, source, destination, &options, args.max_size) {
            Ok((width, height)) => {
                let seconds = started.elapsed().as_secs_f64();
                report(&args.engine, &styler, source, destination, &style_report, &options, width, height, seconds);
            }
            Err(Failure(message)) => {
                failed += 1;
                if args.engine.json {
                    let line = json!({ "input": source.to_string(), "error": message });
                    println!("{line}");
                }
                eprintln!("error: {}: {message}", source);
            }
        }
    }
    if failed > 0 {
        if jobs.len() > 1 {
            eprintln!("{failed} of {} images failed; the others were written", jobs.len());
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// The largest style vector file read: a real one is about a kilobyte.
const MAX_STYLE_FILE_BYTES: u64 = 1 << 20;

/// Reads a style vector file and checks it against the model it will be used with.
fn read_style_file(path: &Path, model: &Model) -> Result<Vec<f32>, Failure> {
    let what = path.display();
    let length = vector_length(model)?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the style vector file {what}: {e}"))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_STYLE_FILE_BYTES + 1), &mut text)
        .map_err(|e| format!("cannot read the style vector file {what}: {e}"))?;
    if text.len() as u64 > MAX_STYLE_FILE_BYTES {
        return Err(Failure(format!("{what} is larger than 1 MiB; that is not a style vector file")));
    }
    let style = StyleFile::from_json(&text).map_err(|e| format!("{what}: {e}"))?;
    if style.model != model.name {
        return Err(Failure(format!(
            "{what} holds a style vector for the model `{}`, but the styling model is `{}`; make it again with `vitrine style`",
            style.model, model.name
        )));
    }
    vitrine::style::check_vector(&style.vector, length).map_err(|e| format!("{what}: {e}"))?;
    Ok(style.vector)
}

/// The style vector of a picture, scaled down first only if it is beyond the styler's limits.
fn picture_vector(styler: &mut Styler, source: &images::Source) -> Result<Vec<f32>, Failure> {
    let failed = |message: String| Failure(format!("the style picture {source}: {message}"));
    let picture = images::read(source).map_err(|Failure(message)| failed(message))?;
    let picture = images::fit_within(picture, styler.limits());
    let (width, height) = picture.dimensions();
    styler.style_vector(width, height, picture.as_raw()).map_err(|e| failed(e.to_string()))
}

fn style(args: StyleArgs) -> Result<ExitCode, Failure> {
    let source = Source::parse(&args.input);
    let destination = Destination::parse(&args.output);
    if let Destination::File(out) = &destination {
        let extension = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if ["png", "jpg", "jpeg", "webp"].contains(&extension.as_str()) {
            return Err(Failure(format!("{} would hold JSON, not an image; name the style file .json", out.display())));
        }
        if out.is_dir() {
            return Err(Failure(format!("{} is a folder; give a file name such as brand.json", out.display())));
        }
        if let Source::File(input) = &source {
            if images::same_file(input, out) {
                return Err(Failure(format!("{} would overwrite its own input; choose another -o", input.display())));
            }
        }
    }
    if let Source::File(input) = &source {
        if !input.is_file() {
            return Err(Failure(format!("{} does not exist", input.display())));
        }
    }
    let model = load_model(&args.engine, true)?;
    let length = vector_length(&model)?;
    let mut styler = open_styler(model, &args.engine, true)?.with_predictor(Model::builtin_predictor()?)?;
    let started = Instant::now();
    let vector = picture_vector(&mut styler, &source)?;
    let file = StyleFile::new(&styler.model().name, vector);
    images::write_bytes(format!("{}\n", file.to_json()).as_bytes(), &destination)?;
    let seconds = started.elapsed().as_secs_f64();
    if args.engine.json {
        let line = json!({
            "input": source.to_string(), "output": destination.to_string(), "model": file.model, "length": length,
            "backend": styler.backend_name(), "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        // With the file on standard output, the report goes to standard error.
        if matches!(destination, Destination::Stdout) {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    } else {
        eprintln!(
            "{source} -> {destination}  (style vector of {length} numbers for {}, {seconds:.3}s on {})",
            file.model,
            styler.backend_name()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn stylize_one(
    styler: &mut Styler,
    source: &Source,
    destination: &Destination,
    options: &Options,
    max_size: u32,
) -> Result<(u32, u32), Failure> {
    let photo = images::read(source)?;
    let photo = images::fit(photo, max_size);
    let (width, height) = photo.dimensions();
    let styled = styler.stylize(width, height, photo.as_raw(), options)?;
    let styled = image::RgbaImage::from_raw(width, height, styled).ok_or("the styled image has the wrong size")?;
    images::write(&styled, destination)?;
    Ok((width, height))
}

#[allow(clippy::too_many_arguments)]
fn report(
    engine: &EngineArgs,
    styler: &Styler,
    source: &Source,
    destination: &Destination,
    style: &serde_json::Value,
    options: &Options,
    width: u32,
    height: u32,
    seconds: f64,
) {
    let backend = styler.backend_name();
    if engine.json {
        let line = json!({
            "input": source.to_string(),
            "output": destination.to_string(),
            "size": [width, height],
            "style": style,
            "strength": options.strength,
            "preserve_color": options.preserve_color,
            "backend": backend,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        // With the image on standard output, the report goes to standard error.
        if matches!(destination, Destination::Stdout) {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    } else {
        eprintln!("{source} -> {destination}  ({width}x{height}, {seconds:.3}s on {backend})");
    }
}

fn sheet(args: SheetArgs) -> Result<ExitCode, Failure> {
    if args.tile < 16 || args.tile > 1024 || args.columns == 0 || args.columns > 27 {
        return Err(Failure("--tile must be 16 to 1024 and --columns 1 to 27".into()));
    }
    let source = Source::parse(&args.input);
    let destination = Destination::parse(&args.output);
    let photo = images::fit(images::read(&source)?, args.tile);
    let mut styler = open_styler(load_model(&args.engine, false)?, &args.engine, true)?;
    let started = Instant::now();
    let sheet = sheet::render(&mut styler, &photo, args.columns)?;
    images::write(&sheet, &destination)?;
    let seconds = started.elapsed().as_secs_f64();
    if args.engine.json {
        let line = json!({
            "input": source.to_string(), "output": destination.to_string(),
            "styles": styler.model().style_count, "size": [sheet.width(), sheet.height()],
            "backend": styler.backend_name(), "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        println!("{line}");
    } else {
        eprintln!(
            "{source} -> {destination}  ({} styles, {:.3}s on {})",
            styler.model().style_count,
            seconds,
            styler.backend_name()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn info(args: InfoArgs) -> Result<ExitCode, Failure> {
    let styler = open_styler(load_model(&args.engine, false)?, &args.engine, false)?;
    let model = styler.model();
    let names = vitrine::model::style_names();
    // The adapter is reported even when `auto` passed it over, so the report says what this machine offers.
    let gpu = match styler.gpu() {
        Some(executor) => Some(executor.summary().clone()),
        None => pollster::block_on(vitrine::gpu::probe()).ok(),
    };
    let in_use = styler.gpu().is_some();
    // The arbitrary-style pair: any picture as the style, through a style vector.
    let (arbitrary, predictor) = (Model::builtin_arbitrary()?, Model::builtin_predictor()?);
    let vector_len = match arbitrary.style_input {
        StyleInput::Vector(length) => length,
        _ => 0,
    };
    let predictor_side = predictor.input_size.map_or(0, |(h, _)| h);
    if args.engine.json {
        let line = json!({
            "version": env!("CARGO_PKG_VERSION"),
            "backend": styler.backend_name(),
            "gpu_fallback_reason": styler.fallback_reason(),
            "adapter_in_use": in_use,
            "adapter": gpu.as_ref().map(|g| json!({
                "name": g.name, "backend": g.backend, "device_type": g.device_type, "software": g.software,
                "shader_f16": g.shader_f16, "max_storage_binding": g.max_storage_binding,
            })),
            "model": { "name": model.name, "styles": model.style_count, "min_side": model.min_side,
                       "spatial_multiple": model.spatial_multiple },
            "limits": { "max_side": styler.limits().max_side, "max_pixels": styler.limits().max_pixels },
            "styles": (0..model.style_count).map(|i| json!({"id": i, "name": names.get(i)})).collect::<Vec<_>>(),
            "style_vectors": { "model": arbitrary.name, "length": vector_len, "min_side": arbitrary.min_side,
                               "predictor": predictor.name, "predictor_side": predictor_side },
        });
        println!("{line}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("vitrine {}", env!("CARGO_PKG_VERSION"));
    println!("backend   {}", styler.backend_name());
    if let Some(reason) = styler.fallback_reason() {
        println!("          (the GPU is not used: {reason})");
    }
    match &gpu {
        Some(g) => {
            let kind = if g.software { "software renderer" } else { "hardware" };
            println!("adapter   {} ({}, {kind}){}", g.name, g.backend, if in_use { "" } else { ", not in use" });
            println!(
                "f16       {}",
                if g.shader_f16 { "offered by the adapter (vitrine computes in f32)" } else { "not offered" }
            );
            println!("buffers   up to {} MiB per binding", g.max_storage_binding / (1024 * 1024));
        }
        None => println!("adapter   none found"),
    }
    let limits = styler.limits();
    println!("model     {} ({} styles, smallest side {} px)", model.name, model.style_count, model.min_side);
    println!("limits    {} px a side, {} megapixels", limits.max_side, limits.max_pixels / (1024 * 1024));
    println!("styles");
    for i in 0..model.style_count {
        println!("  {i:>2}  {}", names.get(i).map(String::as_str).unwrap_or("(unnamed)"));
    }
    println!("any picture as the style (--style-image, --style-vector, vitrine style)");
    println!("  model     {} (style vectors of {vector_len} numbers)", arbitrary.name);
    println!("  predictor {} (picture to vector, at {predictor_side}x{predictor_side})", predictor.name);
    Ok(ExitCode::SUCCESS)
}
