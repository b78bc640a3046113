//! `vitrine`: style product photos from the command line.
//!
//!     vitrine stylize photo.jpg -o out.png --style 19
//!     vitrine stylize photos/ -o styled/ --style 3:0.5,12:0.5 --strength 0.8 --preserve-color
//!     vitrine style brand-artwork.jpg -o brand.json
//!     vitrine stylize photo.jpg -o out.png --style-vector brand.json
//!     vitrine stylize photo.jpg -o out.png --style-image painting.jpg --strength 0.7
//!     vitrine sheet photo.jpg -o sheet.png
//!     vitrine info

mod failure;
mod images;
mod interrupt;
mod plan;
mod report;
mod sheet;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use vitrine::tiling::Mode;
use vitrine::{Backend, Background, BackgroundReport, Model, Options, StyleFile, StyleInput, StyleSpec, Styler};

use failure::{Failure, EXIT_SOME_FAILED};
use images::{DecodeBudget, Destination, Encoding, OutputFormat, Source};
use report::{plain, seconds, ProgressArg, Reporter};

#[derive(Parser)]
#[command(
    name = "vitrine",
    version,
    about = "Style product photos with painted looks, on the GPU or the CPU",
    after_help = "Exit codes: 0 every input written (or skipped with --skip-existing); 1 some inputs failed, every other one was written; 2 usage error, nothing written; 3 nothing could be done (the model, the GPU or the output folder)."
)]
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
    /// Print machine-readable JSON on standard output: one object per input (failures included) and a final
    /// {"summary": ...} object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct StylizeArgs {
    /// Photos or folders of photos; - reads one image from standard input.
    #[arg(required = true, value_name = "IN")]
    inputs: Vec<String>,
    /// Output file, folder (for several inputs or a folder; created if missing), or - for standard output.
    /// Default: NAME_styleSPEC.png beside each input (NAME_EXT_styleSPEC.png where two inputs share a name).
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,
    /// The output format; default: from the -o file's extension, else PNG.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<OutputFormat>,
    /// JPEG quality, 1 to 100 (default 90); for WebP, lossy at this quality (without it, WebP is lossless).
    #[arg(long, value_name = "1-100", value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: Option<u8>,
    /// Walk subfolders of input folders too, mirroring them under -o (without it they are listed and skipped).
    #[arg(short, long)]
    recursive: bool,
    /// Leave outputs that already exist as they are (a rerun does only what is missing).
    #[arg(long)]
    skip_existing: bool,
    /// [i/N], a time estimate and a line for a slow image on standard error: when it is a terminal (auto),
    /// always, or never.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    progress: ProgressArg,
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
    #[arg(long, default_value_t = vitrine::pixels::DEFAULT_MAX_SIZE, value_name = "PIXELS")]
    max_size: u32,
    /// What becomes of a plain studio backdrop: auto (keep it and paint the product; paint any other photo
    /// whole), keep, white (pure #FFFFFF, shadows included), transparent (a cut-out; PNG or WebP) or paint (the whole
    /// photo, backdrop included).
    #[arg(long, default_value = "auto", value_name = "MODE", value_parser = parse_background)]
    background: Background,
    #[command(flatten)]
    engine: EngineArgs,
}

fn parse_background(text: &str) -> Result<Background, String> {
    text.parse().map_err(|e: vitrine::Error| e.to_string())
}

/// What a styled photo's record reports beyond its size: the backdrop, and the size the network ran at.
struct Styled {
    background: BackgroundReport,
    network_size: (u32, u32),
}

/// The `--json` record of what was done with the backdrop.
fn background_record(report: &BackgroundReport) -> serde_json::Value {
    json!({
        "mode": report.mode.name(),
        "applied": report.applied.name(),
        "product": report.product.map(plain),
        "reason": report.reason.map(|reason| reason.name()),
    })
}

/// The text line's note on the backdrop.
fn background_note(report: &BackgroundReport) -> String {
    match (report.product, report.reason) {
        (Some(product), _) => {
            format!(", product {:.0}% of the frame, backdrop {}", product * 100.0, report.applied.name())
        }
        (None, Some(reason)) => format!(", {}", reason.message()),
        (None, None) => String::new(),
    }
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
    /// What becomes of a plain studio backdrop: auto (keep it and paint the product; paint any other photo
    /// whole), keep, white (pure #FFFFFF, shadows included), transparent (a cut-out; PNG or WebP) or paint (the whole
    /// photo, backdrop included).
    #[arg(long, default_value = "auto", value_name = "MODE", value_parser = parse_background)]
    background: Background,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct InfoArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Print instead what the GPU plan for a WIDTHxHEIGHT image costs, per dispatch and in total (dispatches, bytes
    /// moved, workgroups, FLOPs), computed from the plan itself; no GPU needed.
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_size)]
    plan: Option<(usize, usize)>,
    /// With --plan: the kernels (fused: the product's; baseline: one kernel per op).
    #[arg(long, value_enum, default_value_t = KernelsArg::Fused, requires = "plan")]
    kernels: KernelsArg,
    /// With --plan: how activations are stored (default: what this machine's GPU would use, f32 without one).
    #[arg(long, value_enum, requires = "plan")]
    precision: Option<PrecisionArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KernelsArg {
    Fused,
    Baseline,
}

#[derive(Clone, Copy, ValueEnum)]
enum PrecisionArg {
    F32,
    F16,
}

/// `1024x768` as (width, height).
fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT, e.g. 1024x1024"))?;
    let side = |s: &str| s.trim().parse::<usize>().ok().filter(|&v| v > 0);
    match (side(w), side(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{text:?} is not WIDTHxHEIGHT with two positive whole numbers, e.g. 1024x1024")),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Auto,
    Gpu,
    Cpu,
}

/// `vitrine info --plan`: the GPU plan's cost model, as a table or (with --json) one object.
fn plan_info(args: &InfoArgs, (width, height): (usize, usize)) -> Result<u8, Failure> {
    use vitrine::gpu::{KernelSet, Precision};
    let model = load_model(&args.engine, false)?;
    let kernels = match args.kernels {
        KernelsArg::Fused => KernelSet::Fused,
        KernelsArg::Baseline => KernelSet::Baseline,
    };
    let precision = match args.precision {
        Some(PrecisionArg::F32) => Precision::F32,
        Some(PrecisionArg::F16) => Precision::F16,
        // What `GpuExecutor` would choose here, without opening a device.
        None => match pollster::block_on(vitrine::gpu::probe()) {
            Ok(adapter) if adapter.shader_f16 => Precision::F16,
            _ => Precision::F32,
        },
    };
    let (padded_w, padded_h) = model.padded_size(width as u32, height as u32);
    let cost = vitrine::gpu::plan_cost(&model.graph, padded_h, padded_w, kernels, precision)?;
    if args.engine.json {
        println!("{}", cost.to_json());
    } else {
        print!("{}", cost.render());
    }
    Ok(0)
}

/// A panic's message, kept while an image is styled so a folder run reports it as that image's failure.
static PANIC_IN_JOB: Mutex<Option<Option<String>>> = Mutex::new(None);

/// Runs `work` for one input; a panic in it (an allocation failure in a decoder, say) becomes that input's error.
fn guarded<T>(work: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    set_panic_slot(Some(None));
    let result = std::panic::catch_unwind(AssertUnwindSafe(work));
    let message = PANIC_IN_JOB.lock().map(|mut slot| slot.take().flatten()).unwrap_or_default();
    match result {
        Ok(result) => result,
        Err(_) => Err(Failure::input(format!(
            "vitrine failed unexpectedly on this image ({}); the run went on with the next",
            message.unwrap_or_else(|| "no message".into())
        ))),
    }
}

fn set_panic_slot(value: Option<Option<String>>) {
    if let Ok(mut slot) = PANIC_IN_JOB.lock() {
        *slot = value;
    }
}

/// Inside `guarded`, a panic's message is kept for the report instead of printed; elsewhere it prints as usual.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned());
        if let Ok(mut slot) = PANIC_IN_JOB.lock() {
            if let Some(kept) = slot.as_mut() {
                *kept = message;
                return;
            }
        }
        default(info);
    }));
}

/// Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set" without a runtime folder (cron,
/// containers), which reads as vitrine failing. Without a usable one, the CLI gives the process a private one
/// (mode 0700, removed at exit) before any GPU code starts.
fn private_runtime_dir() -> Option<tempfile::TempDir> {
    let given = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    if given.is_some_and(|dir| dir.is_absolute() && dir.is_dir()) {
        return None;
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix("vitrine-runtime-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let dir = builder.tempdir().ok()?;
    // Still one thread: nothing else reads the environment yet.
    std::env::set_var("XDG_RUNTIME_DIR", dir.path());
    Some(dir)
}

fn main() -> ExitCode {
    interrupt::install();
    let runtime_dir = private_runtime_dir();
    let _unfinished = runtime_dir.as_ref().map(|dir| interrupt::unfinished(dir.path()));
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage = error.use_stderr();
            if usage && std::env::args().any(|a| a == "--json") {
                // The message up to clap's tip and usage lines, on one line.
                let rendered = error.render().to_string();
                let message: Vec<&str> = rendered.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
                let message = message.join(" ");
                let summary = json!({
                    "inputs": 0, "written": 0, "skipped": 0, "failed": 0, "exit_code": failure::EXIT_USAGE,
                    "error": message.trim_start_matches("error: "),
                });
                println!("{}", json!({ "summary": summary }));
            }
            let _ = error.print();
            return ExitCode::from(if usage { failure::EXIT_USAGE } else { 0 });
        }
    };
    let (json, progress) = match &cli.command {
        Command::Stylize(args) => (args.engine.json, args.progress),
        Command::Style(args) => (args.engine.json, ProgressArg::Never),
        Command::Sheet(args) => (args.engine.json, ProgressArg::Never),
        Command::Info(args) => (args.engine.json, ProgressArg::Never),
    };
    let mut reporter = Reporter::new(json, progress);
    let result = match cli.command {
        Command::Stylize(args) => stylize(args, &mut reporter),
        Command::Style(args) => style(args, &mut reporter),
        Command::Sheet(args) => sheet(args, &mut reporter),
        Command::Info(args) => info(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {failure}");
            reporter.summary(failure.exit_code(), Some(&failure.to_string()));
            ExitCode::from(failure.exit_code())
        }
    }
}

/// The model from `--model`, else the built-in preset model, or the built-in arbitrary-style model if `vectors`.
fn load_model(engine: &EngineArgs, vectors: bool) -> Result<Model, Failure> {
    Ok(match &engine.model {
        Some(path) => {
            let what = format!("the model {}", path.display());
            let file = std::fs::File::open(path).map_err(|e| Failure::setup(format!("cannot read {what}: {e}")))?;
            let bytes = images::read_capped(file, &what).map_err(|e| Failure::setup(e.to_string()))?;
            Model::from_bytes(&bytes).map_err(|e| Failure::from(e).within(path.display()))?
        }
        None if vectors => Model::builtin_arbitrary()?,
        None => Model::builtin()?,
    })
}

/// The length of the style vectors `model` paints with, or why it takes none.
fn vector_length(model: &Model) -> Result<usize, Failure> {
    match model.style_input {
        StyleInput::Vector(length) => Ok(length),
        _ => Err(Failure::usage(format!(
            "the model `{}` paints with preset styles, not style vectors; style pictures and style vector files need an arbitrary-style model (the built-in one is used without --model)",
            model.name
        ))),
    }
}

/// `announce` prints why `auto` settled on the CPU; `info` reports that itself.
fn open_styler(model: Model, engine: &EngineArgs, announce: bool) -> Result<Styler, Failure> {
    let backend = match engine.backend {
        BackendArg::Auto => Backend::Auto,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Cpu => Backend::Cpu,
    };
    // Its tile limits follow this process's memory limits (`TileLimits::for_this_process`).
    let styler = Styler::new(model, backend)?;
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
                Ok(weight) => {
                    vitrine::style::check_weight(weight).map_err(|e| Failure::usage(format!("`{text}`: {e}")))?;
                    (path, weight)
                }
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

/// One input that failed, reported with the output it was bound for when that is a file (standard output has no
/// name).
fn report_input_failure(reporter: &mut Reporter, source: &Source, destination: &Destination, failure: &Failure) {
    let output = matches!(destination, Destination::File(_)).then(|| destination.to_string());
    reporter.failed(&source.to_string(), output, &failure.to_string());
}

fn stylize(args: StylizeArgs, reporter: &mut Reporter) -> Result<u8, Failure> {
    // Check the options, the style and the outputs before any image is read or any GPU is started.
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
    let label = match &choice {
        StyleChoice::Presets(spec) => spec.to_string(),
        StyleChoice::Vectors(parts) => {
            let mixed = parts.len() > 1;
            format!("-{}", parts.iter().map(|p| p.label(mixed)).collect::<Vec<_>>().join(","))
        }
    };
    let request = plan::Request {
        inputs: &args.inputs,
        output: args.output.as_deref(),
        label: &label,
        format: args.format,
        recursive: args.recursive,
    };
    let plan = plan::plan(&request)?;
    let formats = plan.jobs.iter().map(|job| request.format_for(&job.destination)).collect::<Result<Vec<_>, _>>()?;
    if args.background == Background::Transparent && formats.contains(&OutputFormat::Jpg) {
        return Err(Failure::usage(
            "--background transparent makes a cut-out, and JPEG has no transparency; name the output .png or .webp",
        ));
    }
    if args.quality.is_some() && formats.contains(&OutputFormat::Png) {
        return Err(Failure::usage(
            "--quality applies to JPEG and WebP output (PNG is lossless); drop it or write .jpg or .webp",
        ));
    }
    let to_stdout = plan.jobs.iter().any(|job| matches!(job.destination, Destination::Stdout));
    reporter.set_total(plan.jobs.len(), to_stdout);
    for folder in &plan.skipped_folders {
        eprintln!("note: skipped the subfolder {} (--recursive styles subfolders too)", folder.display());
    }

    let model = load_model(&args.engine, matches!(choice, StyleChoice::Vectors(_)))?;
    let style_report = match &choice {
        StyleChoice::Presets(spec) => {
            spec.resolve(model.style_count)?;
            json!(spec.to_string())
        }
        StyleChoice::Vectors(parts) => {
            vector_length(&model)?;
            if parts.iter().map(|p| f64::from(p.weight)).sum::<f64>() <= 0.0 {
                return Err(Failure::usage(
                    "the style weights add up to zero; give at least one part a positive weight",
                ));
            }
            for part in parts.iter().filter(|p| p.picture) {
                if !part.path.is_file() {
                    return Err(Failure::usage(format!("the style picture {} does not exist", part.path.display())));
                }
            }
            let report: Vec<_> = parts
                .iter()
                .map(|p| json!({ if p.picture { "image" } else { "vector" }: p.path.display().to_string(), "weight": plain(p.weight) }))
                .collect();
            json!(report)
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
                    true => picture_vector(&mut styler, &Source::File(part.path.clone()))
                        .map_err(|e| e.into_usage().within(format!("the style picture {}", part.path.display())))?,
                    false => file_vectors.next().ok_or_else(|| Failure::usage("a style vector file went missing"))?,
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
    // The output folders are made once everything else has been checked, before the first image.
    prepare_folders(&plan.folders)?;
    let options =
        Options { style, strength: args.strength, preserve_color: args.preserve_color, background: args.background };
    for (job, format) in plan.jobs.iter().zip(formats) {
        let (source, destination) = (&job.source, &job.destination);
        if let (true, Destination::File(path)) = (args.skip_existing, destination) {
            if path.exists() {
                let record =
                    json!({ "input": source.to_string(), "output": destination.to_string(), "status": "skipped" });
                reporter.skipped(&format!("{source} -> {destination}  (skipped: it exists)"), record);
                continue;
            }
        }
        let started = Instant::now();
        let encoding = Encoding { format, quality: args.quality };
        let result =
            guarded(|| stylize_one(&mut styler, reporter, source, destination, &options, args.max_size, encoding));
        match result {
            Ok((width, height, styled)) => {
                let elapsed = started.elapsed();
                let backend = styler.backend_name();
                let mut record = json!({
                    "input": source.to_string(),
                    "output": destination.to_string(),
                    "status": "written",
                    "format": format.extension(),
                    "size": [width, height],
                    "style": style_report,
                    "strength": plain(options.strength),
                    "preserve_color": options.preserve_color,
                    "background": background_record(&styled.background),
                    "backend": backend,
                    "tiling": tiling_report(&styler, styled.network_size),
                    "seconds": seconds(elapsed),
                });
                match (format, args.quality) {
                    (OutputFormat::Jpg, quality) => {
                        record["quality"] = json!(quality.unwrap_or(images::DEFAULT_JPEG_QUALITY))
                    }
                    (OutputFormat::Webp, Some(quality)) => record["quality"] = json!(quality),
                    (OutputFormat::Webp, None) => record["lossless"] = json!(true),
                    (OutputFormat::Png, _) => {}
                }
                let line = format!(
                    "{source} -> {destination}  ({width}x{height}, {:.3}s on {backend}{})",
                    elapsed.as_secs_f64(),
                    background_note(&styled.background)
                );
                reporter.written(&line, record);
            }
            Err(failure @ Failure::Setup(_)) => return Err(failure),
            Err(failure) => {
                report_input_failure(reporter, source, destination, &failure);
            }
        }
    }
    let code = if reporter.failed > 0 { EXIT_SOME_FAILED } else { 0 };
    reporter.summary(code, None);
    Ok(code)
}

/// Creates the output folders and checks that each takes a file, so an unwritable target stops the run before
/// the first image instead of failing every one.
fn prepare_folders(folders: &[PathBuf]) -> Result<(), Failure> {
    for folder in folders {
        let unusable = |e: std::io::Error| {
            Failure::setup(format!("cannot write into the output folder {}: {e}", folder.display()))
        };
        std::fs::create_dir_all(folder).map_err(unusable)?;
        images::temporary_beside(&folder.join("probe")).map_err(unusable)?;
    }
    Ok(())
}

/// The largest style vector file read: a real one is about a kilobyte.
const MAX_STYLE_FILE_BYTES: u64 = 1 << 20;

/// Reads a style vector file and checks it against the model it will be used with.
fn read_style_file(path: &Path, model: &Model) -> Result<Vec<f32>, Failure> {
    let what = path.display();
    let length = vector_length(model)?;
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read the style vector file {what}: {e}")))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_STYLE_FILE_BYTES + 1), &mut text)
        .map_err(|e| Failure::usage(format!("cannot read the style vector file {what}: {e}")))?;
    if text.len() as u64 > MAX_STYLE_FILE_BYTES {
        return Err(Failure::usage(format!("{what} is larger than 1 MiB; that is not a style vector file")));
    }
    let style = StyleFile::from_json(&text).map_err(|e| Failure::from(e).within(&what))?;
    if style.model != model.name {
        return Err(Failure::usage(format!(
            "{what} holds a style vector for the model `{}`, but the styling model is `{}`; make it again with `vitrine style`",
            style.model, model.name
        )));
    }
    vitrine::style::check_vector(&style.vector, length).map_err(|e| Failure::from(e).within(&what))?;
    Ok(style.vector)
}

/// The style vector of a picture, read within the style picture's budget as the centred square it is used as.
fn picture_vector(styler: &mut Styler, source: &Source) -> Result<Vec<f32>, Failure> {
    let side = styler.style_picture_side().unwrap_or(0);
    let picture = guarded(|| images::read_style_picture(source, side))?;
    let picture = images::style_square(picture, styler.limits());
    let (width, height) = picture.dimensions();
    Ok(styler.style_vector(width, height, picture.as_raw())?)
}

fn style(args: StyleArgs, reporter: &mut Reporter) -> Result<u8, Failure> {
    let source = Source::parse(&args.input);
    let destination = Destination::parse(&args.output);
    reporter.set_total(1, matches!(destination, Destination::Stdout));
    if let Destination::File(out) = &destination {
        if OutputFormat::from_path(out).is_some() {
            return Err(Failure::usage(format!(
                "{} would hold JSON, not an image; name the style file .json",
                out.display()
            )));
        }
        if out.is_dir() {
            return Err(Failure::usage(format!("{} is a folder; give a file name such as brand.json", out.display())));
        }
        if let Source::File(input) = &source {
            if images::same_file(input, out) {
                return Err(Failure::usage(format!(
                    "{} would overwrite its own input; choose another -o",
                    input.display()
                )));
            }
        }
    }
    if let Source::File(input) = &source {
        if !input.is_file() {
            return Err(Failure::usage(format!("{} does not exist", input.display())));
        }
    }
    let model = load_model(&args.engine, true)?;
    let length = vector_length(&model)?;
    let mut styler = open_styler(model, &args.engine, true)?.with_predictor(Model::builtin_predictor()?)?;
    let started = Instant::now();
    let written = picture_vector(&mut styler, &source).and_then(|vector| {
        let file = StyleFile::new(&styler.model().name, vector);
        images::write_bytes(format!("{}\n", file.to_json()).as_bytes(), &destination)?;
        Ok(file)
    });
    let file = match written {
        Ok(file) => file,
        Err(failure @ (Failure::Usage(_) | Failure::Setup(_))) => return Err(failure),
        Err(failure) => {
            report_input_failure(reporter, &source, &destination, &failure);
            reporter.summary(EXIT_SOME_FAILED, None);
            return Ok(EXIT_SOME_FAILED);
        }
    };
    let elapsed = started.elapsed();
    let record = json!({
        "input": source.to_string(), "output": destination.to_string(), "status": "written", "model": file.model,
        "length": length, "backend": styler.backend_name(), "seconds": seconds(elapsed),
    });
    let line = format!(
        "{source} -> {destination}  (style vector of {length} numbers for {}, {:.3}s on {})",
        file.model,
        elapsed.as_secs_f64(),
        styler.backend_name()
    );
    reporter.written(&line, record);
    reporter.summary(0, None);
    Ok(0)
}

/// How the network ran at this size (the photo's, or its product's box), as the planner decides for the network and
/// this process's memory: whole, layered or streamed in tiles (how many, of what side). A seller's large photos
/// tell by it why they took longer.
fn tiling_report(styler: &Styler, (width, height): (u32, u32)) -> serde_json::Value {
    match styler.tile_plan(width, height).map(|plan| plan.mode) {
        Ok(Mode::Whole) => json!({ "mode": "whole" }),
        Ok(Mode::Layered) => json!({ "mode": "layered" }),
        Ok(Mode::Streamed { tile, tiles, .. }) => json!({ "mode": "streamed", "tile": tile, "tiles": tiles.len() }),
        Err(_) => serde_json::Value::Null,
    }
}

fn stylize_one(
    styler: &mut Styler,
    reporter: &mut Reporter,
    source: &Source,
    destination: &Destination,
    options: &Options,
    max_size: u32,
    encoding: Encoding,
) -> Result<(u32, u32, Styled), Failure> {
    let photo = images::read(source, DecodeBudget::PHOTO)?;
    let photo = images::fit(photo, max_size);
    let (width, height) = photo.dimensions();
    reporter.start(format!("{source}: styling {width}x{height} on {}", styler.backend_name()));
    let styled = styler.stylize_report(width, height, photo.as_raw(), options)?;
    let image = image::RgbaImage::from_raw(width, height, styled.rgba)
        .ok_or_else(|| Failure::input("the styled image has the wrong size"))?;
    images::write(&image, destination, encoding)?;
    Ok((width, height, Styled { background: styled.background, network_size: styled.network_size }))
}

fn sheet(args: SheetArgs, reporter: &mut Reporter) -> Result<u8, Failure> {
    if args.tile < 16 || args.tile > 1024 || args.columns == 0 || args.columns > 27 {
        return Err(Failure::usage("--tile must be 16 to 1024 and --columns 1 to 27"));
    }
    let source = Source::parse(&args.input);
    let destination = Destination::parse(&args.output);
    reporter.set_total(1, matches!(destination, Destination::Stdout));
    let format = match &destination {
        Destination::Stdout => OutputFormat::Png,
        Destination::File(path) => OutputFormat::from_path(path).ok_or_else(|| {
            Failure::usage(format!("cannot write {}: name the sheet .png, .jpg or .webp", path.display()))
        })?,
    };
    if let Source::File(input) = &source {
        if !input.is_file() {
            return Err(Failure::usage(format!("{} does not exist", input.display())));
        }
    }
    let mut styler = open_styler(load_model(&args.engine, false)?, &args.engine, true)?;
    let started = Instant::now();
    let encoding = Encoding { format, quality: None };
    let result = guarded(|| {
        let photo = images::fit(images::read(&source, DecodeBudget::PHOTO)?, args.tile);
        let sheet = sheet::render(&mut styler, &photo, args.columns, args.background)?;
        images::write(&sheet, &destination, encoding)?;
        Ok(sheet.dimensions())
    });
    let (width, height) = match result {
        Ok(size) => size,
        Err(failure @ Failure::Setup(_)) => return Err(failure),
        Err(failure) => {
            report_input_failure(reporter, &source, &destination, &failure);
            reporter.summary(EXIT_SOME_FAILED, None);
            return Ok(EXIT_SOME_FAILED);
        }
    };
    let elapsed = started.elapsed();
    let styles = styler.model().style_count;
    let record = json!({
        "input": source.to_string(), "output": destination.to_string(), "status": "written", "styles": styles,
        "size": [width, height], "backend": styler.backend_name(), "seconds": seconds(elapsed),
    });
    let line = format!(
        "{source} -> {destination}  ({styles} styles, {:.3}s on {})",
        elapsed.as_secs_f64(),
        styler.backend_name()
    );
    reporter.written(&line, record);
    reporter.summary(0, None);
    Ok(0)
}

fn info(args: InfoArgs) -> Result<u8, Failure> {
    if let Some(size) = args.plan {
        return plan_info(&args, size);
    }
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
            "precision": styler.precision(),
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
        return Ok(0);
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
                "precision {}",
                match (in_use, g.shader_f16) {
                    (true, _) if styler.precision() == "f16" => "f16 activations, f32 arithmetic (shader-f16)",
                    (_, true) => "f32 (the adapter offers shader-f16: f16 activations where the GPU runs)",
                    _ => "f32 (the adapter has no shader-f16)",
                }
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
    Ok(0)
}
