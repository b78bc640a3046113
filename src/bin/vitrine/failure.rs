//! What can go wrong in a run, sorted by what a script needs to know: the exit code each kind gives.
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | every input was written (or skipped with `--skip-existing`) |
//! | 1 | some inputs failed; every other one was written |
//! | 2 | usage: the command line cannot be carried out as given; nothing was written |
//! | 3 | nothing could be done: the model, the GPU or the output folder; nothing was written |

use thiserror::Error;

pub const EXIT_SOME_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_NOTHING_DONE: u8 = 3;

#[derive(Debug, Error)]
pub enum Failure {
    /// Options, style numbers, inputs that do not exist, outputs that would collide: fix the command.
    #[error("{0}")]
    Usage(String),
    /// One input could not be read, styled or written; a run over several goes on with the next.
    #[error("{0}")]
    Input(String),
    /// The model, the GPU or the output folder: nothing can be styled until it is fixed.
    #[error("{0}")]
    Setup(String),
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    pub fn input(message: impl Into<String>) -> Self {
        Failure::Input(message.into())
    }

    pub fn setup(message: impl Into<String>) -> Self {
        Failure::Setup(message.into())
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => EXIT_USAGE,
            Failure::Input(_) => EXIT_SOME_FAILED,
            Failure::Setup(_) => EXIT_NOTHING_DONE,
        }
    }

    /// The same kind of failure with `context` in front of its message ("the style picture x.png: ...").
    pub fn within(self, context: impl std::fmt::Display) -> Self {
        match self {
            Failure::Usage(m) => Failure::Usage(format!("{context}: {m}")),
            Failure::Input(m) => Failure::Input(format!("{context}: {m}")),
            Failure::Setup(m) => Failure::Setup(format!("{context}: {m}")),
        }
    }

    /// An input's failure as a usage error: a style picture that cannot be read is a bad argument, not a bad photo.
    pub fn into_usage(self) -> Self {
        match self {
            Failure::Input(m) => Failure::Usage(m),
            other => other,
        }
    }
}

impl From<vitrine::Error> for Failure {
    fn from(error: vitrine::Error) -> Self {
        use vitrine::Error as E;
        let message = error.to_string();
        match error {
            E::ModelFormat { .. } | E::ModelVersion { .. } | E::ModelGraph { .. } | E::GpuUnavailable { .. } => {
                Failure::Setup(message)
            }
            E::StyleIndex { .. } | E::StyleWeights { .. } | E::StyleVector { .. } | E::StyleKind { .. } => {
                Failure::Usage(message)
            }
            E::Strength { .. } | E::TileSize { .. } => Failure::Usage(message),
            E::ImageTooSmall { .. }
            | E::ImageTooLarge { .. }
            | E::PixelBuffer { .. }
            | E::GpuBufferLimit { .. }
            | E::GpuFailed { .. }
            | E::Internal { .. } => Failure::Input(message),
            // The library's error is non-exhaustive: a case added later belongs to the image at hand.
            _ => Failure::Input(message),
        }
    }
}
