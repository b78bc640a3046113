//! Which images a `stylize` run reads and where each result goes, settled before anything is written: folders
//! walked (subfolders with `--recursive`, else reported), output names that cannot collide with one another or
//! with any input, and `-o` checked against the number of inputs.
//!
//! Default names are `NAME_style{SPEC}.{png|jpg|webp}`. When two inputs bound for one folder share a stem
//! (`sku.jpg` and `sku.png`), both keep their source extension in the name (`sku_jpg_style2.png`,
//! `sku_png_style2.png`); if names still collide (two `a.jpg` from different folders into one `-o`), or an output
//! would replace one of the run's inputs, the run is refused before anything is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::failure::Failure;
use crate::images::{has_image_extension, same_file, Destination, OutputFormat, Source};

pub struct Job {
    pub source: Source,
    pub destination: Destination,
}

pub struct Plan {
    pub jobs: Vec<Job>,
    /// Folders to create before the first write.
    pub folders: Vec<PathBuf>,
    /// Subfolders passed over without `--recursive`.
    pub skipped_folders: Vec<PathBuf>,
}

pub struct Request<'a> {
    pub inputs: &'a [String],
    pub output: Option<&'a str>,
    /// Names the style in default output names.
    pub label: &'a str,
    /// `--format`, if given.
    pub format: Option<OutputFormat>,
    pub recursive: bool,
}

/// One input before its output is named: where it came from, and for a walked folder, its place below the folder.
struct Found {
    source: Source,
    /// The folder walked and the file's folder below it (empty at the top), to mirror under `-o`.
    below: PathBuf,
}

impl Request<'_> {
    /// The format of an output: `--format`, else the output file's extension, else PNG.
    pub fn format_for(&self, destination: &Destination) -> Result<OutputFormat, Failure> {
        let named = match destination {
            Destination::File(path) => Some((path, OutputFormat::from_path(path))),
            Destination::Stdout => None,
        };
        match (self.format, named) {
            (Some(format), Some((path, Some(by_name)))) if format != by_name => Err(Failure::usage(format!(
                "{} is named .{}, but --format is {}; make them agree",
                path.display(),
                path.extension().and_then(|e| e.to_str()).unwrap_or(""),
                format.extension()
            ))),
            (Some(format), _) => Ok(format),
            (None, Some((_, Some(by_name)))) => Ok(by_name),
            (None, Some((path, None))) => Err(Failure::usage(format!(
                "cannot write {}: name the output .png, .jpg or .webp, or give --format",
                path.display()
            ))),
            (None, None) => Ok(OutputFormat::Png),
        }
    }
}

pub fn plan(request: &Request) -> Result<Plan, Failure> {
    let (found, from_folder, skipped_folders) = find_inputs(request)?;
    let many = found.len() > 1 || from_folder;
    let extension = request.format.unwrap_or(OutputFormat::Png).extension();
    let suffix = format!("_style{}", request.label.replace(':', "-").replace(',', "_"));

    // Where outputs go: standard output, one named file, one folder (mirroring walked subfolders), or beside each
    // input.
    enum Target {
        Stdout,
        File(PathBuf),
        Folder(PathBuf),
        Beside,
    }
    let target = match request.output {
        Some("-") if many => {
            return Err(Failure::usage("several images cannot all go to standard output; give -o a folder"));
        }
        Some("-") => Target::Stdout,
        Some(out) if many => {
            let path = PathBuf::from(out);
            if path.exists() && !path.is_dir() || !path.exists() && OutputFormat::from_path(&path).is_some() {
                return Err(Failure::usage(format!(
                    "-o {out} names a file, but this run has {} inputs; give -o a folder for them",
                    found.len()
                )));
            }
            Target::Folder(path)
        }
        Some(out) if Path::new(out).is_dir() || out.ends_with('/') => Target::Folder(PathBuf::from(out)),
        Some(out) => Target::File(PathBuf::from(out)),
        None => Target::Beside,
    };

    let mut jobs = Vec::with_capacity(found.len());
    let mut folders = Vec::new();
    // For each default-named output: its folder, the input's stem and its extension (kept if stems collide).
    let mut default_names: Vec<Option<(PathBuf, String, String)>> = Vec::with_capacity(found.len());
    for Found { source, below } in found {
        let (stem, source_extension) = name_parts(&source);
        let folder = match (&target, &source) {
            (Target::Stdout, _) | (Target::Beside, Source::Stdin) | (Target::File(_), _) => None,
            (Target::Folder(root), _) => Some(root.join(&below)),
            (Target::Beside, Source::File(path)) => Some(path.parent().map(Path::to_path_buf).unwrap_or_default()),
        };
        let destination = match (&target, &folder) {
            (Target::File(path), _) => Destination::File(path.clone()),
            (_, Some(folder)) => Destination::File(folder.join(format!("{stem}{suffix}.{extension}"))),
            (_, None) => Destination::Stdout,
        };
        if let (Target::Folder(_), Some(folder)) = (&target, &folder) {
            if !folders.contains(folder) {
                folders.push(folder.clone());
            }
        }
        default_names.push(folder.map(|folder| (folder, stem, source_extension)));
        jobs.push(Job { source, destination });
    }

    // Inputs that share a stem in one output folder keep their source extension in the name.
    let mut by_name: HashMap<PathBuf, Vec<usize>> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if let (Destination::File(path), Some(_)) = (&job.destination, &default_names[i]) {
            by_name.entry(path_key(path)).or_default().push(i);
        }
    }
    for indices in by_name.values().filter(|v| v.len() > 1) {
        for &i in indices {
            if let Some((folder, stem, source_extension)) = &default_names[i] {
                let kept = if source_extension.is_empty() { String::new() } else { format!("_{source_extension}") };
                jobs[i].destination = Destination::File(folder.join(format!("{stem}{kept}{suffix}.{extension}")));
            }
        }
    }
    check_collisions(&jobs)?;
    for job in &jobs {
        request.format_for(&job.destination)?;
    }
    Ok(Plan { jobs, folders, skipped_folders })
}

/// Refuses a run in which two outputs share a name, or an output would replace an input.
fn check_collisions(jobs: &[Job]) -> Result<(), Failure> {
    let inputs: HashMap<PathBuf, &Path> = jobs
        .iter()
        .filter_map(|job| match &job.source {
            Source::File(path) => Some((path_key(path), path.as_path())),
            Source::Stdin => None,
        })
        .collect();
    let mut outputs: HashMap<PathBuf, &Source> = HashMap::new();
    for job in jobs {
        let Destination::File(output) = &job.destination else { continue };
        let key = path_key(output);
        if let Source::File(input) = &job.source {
            if same_file(input, output) || path_key(input) == key {
                return Err(Failure::usage(format!(
                    "{} would overwrite its own input; choose another -o",
                    input.display()
                )));
            }
        }
        if let Some(input) = inputs.get(&key) {
            return Err(Failure::usage(format!(
                "the output for {} would replace {}, which is itself an input of this run; give -o another folder (nothing was written)",
                job.source,
                input.display()
            )));
        }
        if let Some(earlier) = outputs.insert(key, &job.source) {
            return Err(Failure::usage(format!(
                "{earlier} and {} would both be written to {}; style them into different folders (nothing was written)",
                job.source,
                output.display()
            )));
        }
        if output.is_dir() {
            return Err(Failure::usage(format!("{} is a folder; give a file name, or -o a folder", output.display())));
        }
    }
    Ok(())
}

/// A path made comparable with others: its folder resolved (links, `.`), or made absolute where it does not exist.
fn path_key(path: &Path) -> PathBuf {
    if let Ok(resolved) = path.canonicalize() {
        return resolved;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent().and_then(|p| p.canonicalize().ok()), absolute.file_name()) {
        (Some(folder), Some(name)) => folder.join(name),
        _ => absolute,
    }
}

/// The stem an output name starts with, and the source's extension.
fn name_parts(source: &Source) -> (String, String) {
    match source {
        Source::Stdin => ("stdin".into(), String::new()),
        Source::File(path) => {
            let part = |p: Option<&std::ffi::OsStr>| p.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (part(path.file_stem()), part(path.extension()))
        }
    }
}

type Inputs = (Vec<Found>, bool, Vec<PathBuf>);

/// The run's inputs in order: files as given, folders walked in name order.
fn find_inputs(request: &Request) -> Result<Inputs, Failure> {
    let mut found = Vec::new();
    let mut from_folder = false;
    let mut skipped_folders = Vec::new();
    // An output folder inside a walked folder is not walked: a rerun must not style its own results.
    let output_folder = request.output.filter(|out| *out != "-").map(|out| path_key(Path::new(out)));
    for input in request.inputs {
        if input == "-" {
            if found.iter().any(|f: &Found| matches!(f.source, Source::Stdin)) {
                return Err(Failure::usage("standard input (-) can be read only once"));
            }
            found.push(Found { source: Source::Stdin, below: PathBuf::new() });
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            from_folder = true;
            let before = found.len();
            let depth = if request.recursive { usize::MAX } else { 1 };
            let walk = walkdir::WalkDir::new(path).min_depth(1).max_depth(depth).sort_by_file_name();
            let walk = walk.into_iter().filter_entry(|entry| {
                !(entry.file_type().is_dir() && output_folder.as_ref() == Some(&path_key(entry.path())))
            });
            for entry in walk {
                let entry = entry.map_err(|e| Failure::usage(format!("cannot list {input}: {e}")))?;
                let file = entry.path();
                if entry.file_type().is_dir() {
                    if !request.recursive {
                        skipped_folders.push(file.to_path_buf());
                    }
                    continue;
                }
                if file.is_file() && has_image_extension(file) {
                    let below = file
                        .parent()
                        .and_then(|parent| parent.strip_prefix(path).ok())
                        .map(Path::to_path_buf)
                        .unwrap_or_default();
                    found.push(Found { source: Source::File(file.to_path_buf()), below });
                }
            }
            if found.len() == before {
                let hint = if skipped_folders.is_empty() { "" } else { " (its subfolders are read with --recursive)" };
                return Err(Failure::usage(format!("{input} holds no PNG, JPEG or WebP images{hint}")));
            }
        } else if path.is_file() {
            found.push(Found { source: Source::File(path.to_path_buf()), below: PathBuf::new() });
        } else {
            return Err(Failure::usage(format!("{input} does not exist")));
        }
    }
    Ok((found, from_folder, skipped_folders))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str, files: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vitrine-plan-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for file in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"").unwrap();
        }
        dir
    }

    fn names(plan: &Plan) -> Vec<String> {
        plan.jobs
            .iter()
            .map(|job| match &job.destination {
                Destination::File(path) => path.file_name().unwrap().to_string_lossy().into_owned(),
                Destination::Stdout => "-".into(),
            })
            .collect()
    }

    fn request<'a>(inputs: &'a [String], output: Option<&'a str>, recursive: bool) -> Request<'a> {
        Request { inputs, output, label: "2", format: None, recursive }
    }

    #[test]
    fn a_shared_stem_keeps_the_source_extension() {
        let dir = folder("stems", &["a.jpg", "a.png", "b.webp"]);
        let inputs = [dir.to_string_lossy().into_owned()];
        let out = dir.join("out").to_string_lossy().into_owned();
        let plan = plan(&request(&inputs, Some(&out), false)).unwrap();
        assert_eq!(names(&plan), ["a_jpg_style2.png", "a_png_style2.png", "b_style2.png"]);
    }

    #[test]
    fn subfolders_are_mirrored_with_recursive_and_reported_without() {
        let dir = folder("walk", &["a.jpg", "sub/a.jpg", "sub/deeper/c.png"]);
        let inputs = [dir.to_string_lossy().into_owned()];
        let out = dir.join("..").join(format!("vitrine-plan-{}-walk-out", std::process::id()));
        let out_text = out.to_string_lossy().into_owned();
        let flat = plan(&request(&inputs, Some(&out_text), false)).unwrap();
        assert_eq!(names(&flat), ["a_style2.png"]);
        assert_eq!(flat.skipped_folders, [dir.join("sub")]);
        let deep = plan(&request(&inputs, Some(&out_text), true)).unwrap();
        assert_eq!(names(&deep), ["a_style2.png", "a_style2.png", "c_style2.png"]);
        assert_eq!(deep.folders, [out.clone(), out.join("sub"), out.join("sub/deeper")]);
        assert!(deep.skipped_folders.is_empty());
    }

    #[test]
    fn the_same_name_from_two_folders_is_refused() {
        let dir = folder("two", &["x/a.jpg", "y/a.jpg"]);
        let inputs =
            [dir.join("x/a.jpg").to_string_lossy().into_owned(), dir.join("y/a.jpg").to_string_lossy().into_owned()];
        let out = dir.join("out").to_string_lossy().into_owned();
        let Err(Failure::Usage(message)) = plan(&request(&inputs, Some(&out), false)) else { panic!("not refused") };
        assert!(message.contains("would both be written to"), "{message}");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let dir = folder("inplace", &["x.png", "x_style2.png"]);
        let inputs = [dir.to_string_lossy().into_owned()];
        let out = dir.to_string_lossy().into_owned();
        let Err(Failure::Usage(message)) = plan(&request(&inputs, Some(&out), false)) else { panic!("not refused") };
        assert!(message.contains("itself an input"), "{message}");
    }

    #[test]
    fn one_output_file_for_several_inputs_is_refused() {
        let dir = folder("single", &["a.jpg", "b.jpg"]);
        let inputs =
            [dir.join("a.jpg").to_string_lossy().into_owned(), dir.join("b.jpg").to_string_lossy().into_owned()];
        let out = dir.join("single.png").to_string_lossy().into_owned();
        let Err(Failure::Usage(message)) = plan(&request(&inputs, Some(&out), false)) else { panic!("not refused") };
        assert!(message.contains("names a file"), "{message}");
        assert!(!dir.join("single.png").exists());
    }
}
