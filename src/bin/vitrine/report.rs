//! What a run tells its user: one line (text on stderr, or a JSON object with `--json`) per input, a final
//! summary, and with `--progress` (on a terminal by default) `[i/N]`, a time estimate and a line that keeps
//! counting while one slow image is styled.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// When standard error is a terminal.
    Auto,
    Always,
    Never,
}

/// A number as the user wrote it: `0.7`, not the `0.699999988079071` its f32 widens to (an f32's shortest
/// decimal form reads back as the same f32, so it is the number given).
pub fn plain(value: f32) -> Value {
    value.to_string().parse::<f64>().map_or(Value::Null, |v| json!(v))
}

pub fn seconds(value: Duration) -> Value {
    json!((value.as_secs_f64() * 1000.0).round() / 1000.0)
}

pub struct Reporter {
    json: bool,
    /// JSON on standard error, when standard output carries the image.
    json_to_stderr: bool,
    progress: bool,
    terminal: bool,
    total: usize,
    done: usize,
    pub written: usize,
    pub skipped: usize,
    pub failed: usize,
    started: Instant,
    ticker: Option<Ticker>,
}

impl Reporter {
    pub fn new(json: bool, progress: ProgressArg) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let progress = match progress {
            ProgressArg::Auto => terminal,
            ProgressArg::Always => true,
            ProgressArg::Never => false,
        };
        Reporter {
            json,
            json_to_stderr: false,
            progress,
            terminal,
            total: 0,
            done: 0,
            written: 0,
            skipped: 0,
            failed: 0,
            started: Instant::now(),
            ticker: None,
        }
    }

    pub fn set_total(&mut self, total: usize, json_to_stderr: bool) {
        self.total = total;
        self.json_to_stderr = json_to_stderr;
    }

    /// Prints one JSON object on the report stream.
    pub fn record(&self, value: &Value) {
        if !self.json {
            return;
        }
        if self.json_to_stderr {
            eprintln!("{value}");
        } else {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}").and_then(|_| out.flush());
        }
    }

    /// `[i/N] ` in a run of several, else nothing.
    fn counter(&self) -> String {
        if self.total > 1 {
            format!("[{}/{}] ", self.done + 1, self.total)
        } else {
            String::new()
        }
    }

    /// Says an image is being styled (with --progress), and keeps a line counting while it takes long.
    pub fn start(&mut self, what: String) {
        if !self.progress {
            return;
        }
        let line = format!("{}{what}", self.counter());
        if self.terminal {
            eprint!("\r\x1b[K{line}");
        } else {
            eprintln!("{line}");
        }
        self.ticker = Some(Ticker::start(line, self.terminal));
    }

    fn stop_ticker(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.stop();
            if self.terminal {
                eprint!("\r\x1b[K");
            }
        }
    }

    /// ", about 1m20s left" once an image is done, with --progress in a run of several.
    fn estimate(&self) -> String {
        let remaining = self.total.saturating_sub(self.done);
        if !self.progress || self.total < 2 || remaining == 0 {
            return String::new();
        }
        let per_image = self.started.elapsed().as_secs_f64() / self.done as f64;
        let left = (per_image * remaining as f64).round() as u64;
        if left >= 60 {
            format!(", about {}m{:02}s left", left / 60, left % 60)
        } else {
            format!(", about {left}s left")
        }
    }

    /// An input written: `line` for the text report, `record` for JSON.
    pub fn written(&mut self, line: &str, record: Value) {
        self.stop_ticker();
        let counter = self.counter();
        self.done += 1;
        self.written += 1;
        if self.json {
            self.record(&record);
            if self.progress {
                eprintln!("{counter}{line}{}", self.estimate());
            }
        } else {
            eprintln!("{counter}{line}{}", self.estimate());
        }
    }

    pub fn skipped(&mut self, line: &str, record: Value) {
        let counter = self.counter();
        self.done += 1;
        self.skipped += 1;
        self.record(&record);
        if !self.json || self.progress {
            eprintln!("{counter}{line}");
        }
    }

    /// An input that failed: the error always on stderr, and as a JSON object with --json.
    pub fn failed(&mut self, input: &str, output: Option<String>, message: &str) {
        self.stop_ticker();
        let counter = self.counter();
        self.done += 1;
        self.failed += 1;
        let mut record = json!({ "input": input, "status": "failed", "error": message });
        if let Some(output) = output {
            record["output"] = json!(output);
        }
        self.record(&record);
        eprintln!("{counter}error: {input}: {message}");
    }

    /// The final summary object (with --json), and the text summary of a run of several.
    pub fn summary(&mut self, exit_code: u8, error: Option<&str>) {
        self.stop_ticker();
        let mut summary = json!({
            "inputs": self.total, "written": self.written, "skipped": self.skipped, "failed": self.failed,
            "exit_code": exit_code, "seconds": seconds(self.started.elapsed()),
        });
        if let Some(error) = error {
            summary["error"] = json!(error);
        }
        self.record(&json!({ "summary": summary }));
        if !self.json && self.total > 1 && error.is_none() {
            let mut parts = vec![format!("{} written", self.written)];
            if self.skipped > 0 {
                parts.push(format!("{} skipped (already there)", self.skipped));
            }
            if self.failed > 0 {
                parts.push(format!("{} failed", self.failed));
            }
            eprintln!("{} images: {}", self.total, parts.join(", "));
        }
    }
}

/// A thread that, while one image takes long, prints how long it has taken so far: in place on a terminal each
/// second, else a line every five seconds.
struct Ticker {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Ticker {
    fn start(line: String, terminal: bool) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let every = Duration::from_secs(if terminal { 1 } else { 5 });
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let elapsed = started.elapsed().as_secs();
                if terminal {
                    eprint!("\r\x1b[K{line}, {elapsed}s");
                } else {
                    eprintln!("{line}, {elapsed}s");
                }
            }
        });
        Ticker { stop, thread }
    }

    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
