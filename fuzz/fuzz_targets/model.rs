//! Model files: `Model::from_bytes` on any bytes must return a model or an error, never panic, hang or allocate
//! far beyond the file's size (libFuzzer's -rss_limit_mb and -malloc_limit_mb hold the last).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vitrine::Model::from_bytes(data);
});
