//! Every hostile model file in tests/bad/ fails with the typed error tests/bad/expected.json names, without a
//! panic, and without allocating more than the file's own size could justify.
//!
//! A counting allocator watches the peak heap growth while each file loads. This binary holds one test, so no
//! other test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use vitrine::{Error, Model};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Loading may hold the parsed header and the tensors it copies out (int8 weights, f32 tables), a few times the
/// file's size, plus a fixed allowance for parser bookkeeping.
const ALLOWED_BYTES_PER_FILE_BYTE: usize = 6;
const ALLOWED_FIXED_BYTES: usize = 256 * 1024;

fn kind(error: &Error) -> &'static str {
    match error {
        Error::ModelFormat { .. } => "ModelFormat",
        Error::ModelVersion { .. } => "ModelVersion",
        Error::ModelGraph { .. } => "ModelGraph",
        _ => "other",
    }
}

/// Loads `bytes` and returns the result with the peak heap growth it caused.
fn load_measured(bytes: &[u8]) -> (Result<Model, Error>, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = Model::from_bytes(bytes);
    (result, PEAK.load(Ordering::Relaxed) - before)
}

#[test]
fn hostile_model_files_fail_cleanly_within_their_size() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let expected: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let on_disk = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "safetensors"))
        .count();
    assert_eq!(on_disk, expected.len(), "every file in tests/bad has an expected error, and every entry a file");

    let mut failures = Vec::new();
    for (file, want) in &expected {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let outcome = std::panic::catch_unwind(|| load_measured(&bytes));
        let Ok((result, peak)) = outcome else {
            failures.push(format!("{file}: panicked"));
            continue;
        };
        let budget = bytes.len() * ALLOWED_BYTES_PER_FILE_BYTE + ALLOWED_FIXED_BYTES;
        match result {
            Ok(_) => failures.push(format!("{file}: loaded, expected {want}")),
            Err(error) => {
                println!("{file}: {} ({peak} bytes at peak) {error}", kind(&error));
                if kind(&error) != want {
                    failures.push(format!("{file}: got {} ({error}), expected {want}", kind(&error)));
                }
            }
        }
        if peak > budget {
            failures.push(format!("{file}: allocated {peak} bytes for a {}-byte file", bytes.len()));
        }
    }
    // The small valid model every bad file is cut from loads, so each bad file fails for its own fault alone.
    let base = std::fs::read(dir.join("base/tiny_model.safetensors")).unwrap();
    let tiny = Model::from_bytes(&base).unwrap();
    assert_eq!(tiny.style_count, 26);
    // Its format version 1 twin (f32 tables, the same values) loads to the same graph: f16 widens exactly, and the
    // version 1 cases above fail for their faults, not for their version.
    let v1 = Model::from_bytes(&std::fs::read(dir.join("base/tiny_model_v1.safetensors")).unwrap()).unwrap();
    assert_eq!(v1.graph, tiny.graph);
    // The real model stays within the same budget, so the bound is not vacuous.
    let real =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/multistyle26.vitrine.safetensors")).unwrap();
    let (result, peak) = load_measured(&real);
    assert!(result.is_ok());
    println!("the shipped model: {peak} bytes at peak for {} bytes", real.len());
    assert!(peak <= real.len() * ALLOWED_BYTES_PER_FILE_BYTE + ALLOWED_FIXED_BYTES);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
