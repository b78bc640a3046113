//! `vitrine`: style product photos from the command line.
//!
//!     vitrine stylize photo.jpg -o out.png --style 19
//!     vitrine stylize photos/ -o styled/ --style 3:0.5,12:0.5 --strength 0.8 --preserve-color
//!     vitrine sheet photo.jpg -o sheet.png
//!     vitrine info

mod images;
mod sheet;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use vitrine::{Backend, Model, Options, StyleSpec, Styler};

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
    /// A vitrine model file to use instead of the built-in one.
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
    /// A preset (19) or a mix of presets with weights (3:0.5,12:0.5).
    #[arg(short, long, default_value = "0", value_name = "SPEC")]
    style: String,
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

fn load_model(engine: &EngineArgs) -> Result<Model, Failure> {
    Ok(match &engine.model {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("cannot read the model {}: {e}", path.display()))?;
            let bytes = images::read_capped(file, &format!("the model {}", path.display()))?;
            Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => Model::builtin()?,
    })
}

/// `announce` prints why `auto` settled on the CPU; `info` reports that itself.
fn open_styler(model: Model, engine: &EngineArgs, announce: bool) -> Result<Styler, Failure> {
    let backend = match engine.backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Cpu => Backend::Cpu,
    };
    let styler = Styler::new(model, backend)?;
    if let Some(reason) = styler.fallback_reason() {
        if announce && !engine.json {
            eprintln!("note: styling on the CPU: {reason}");
        }
    }
    Ok(styler)
}

fn stylize(args: StylizeArgs) -> Result<ExitCode, Failure> {
    let spec: StyleSpec = args.style.parse()?;
    let options = Options { style: spec.clone(), strength: args.strength, preserve_color: args.preserve_color };
    // Check the style and strength before any image is read or any GPU is started.
    let model = load_model(&args.engine)?;
    spec.resolve(model.style_count)?;
    if !(0.0..=1.0).contains(&args.strength) {
        return Err(vitrine::Error::Strength { value: args.strength }.into());
    }
    let jobs = images::plan_jobs(&args.inputs, args.output.as_deref(), &spec)?;
    let mut styler = open_styler(model, &args.engine, true)?;
    let mut failed = 0usize;
    for (source, destination) in &jobs {
        let started = Instant::now();
        match stylize_one(&mut styler, source, destination, &options, args.max_size) {
            Ok((width, height)) => {
                let seconds = started.elapsed().as_secs_f64();
                report(&args.engine, &styler, source, destination, &spec, &options, width, height, seconds);
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
    spec: &StyleSpec,
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
            "style": spec.to_string(),
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
    let mut styler = open_styler(load_model(&args.engine)?, &args.engine, true)?;
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
        eprintln!("{source} -> {destination}  ({} styles, {:.3}s on {})", styler.model().style_count, seconds, styler.backend_name());
    }
    Ok(ExitCode::SUCCESS)
}

fn info(args: InfoArgs) -> Result<ExitCode, Failure> {
    let styler = open_styler(load_model(&args.engine)?, &args.engine, false)?;
    let model = styler.model();
    let names = vitrine::model::style_names();
    // The adapter is reported even when `auto` passed it over, so the report says what this machine offers.
    let gpu = match styler.gpu() {
        Some(executor) => Some(executor.summary().clone()),
        None => pollster::block_on(vitrine::gpu::probe()).ok(),
    };
    let in_use = styler.gpu().is_some();
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
            println!("f16       {}", if g.shader_f16 { "offered by the adapter (vitrine computes in f32)" } else { "not offered" });
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
    Ok(ExitCode::SUCCESS)
}

