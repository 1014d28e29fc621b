//! The engine's state between runs: a checkpoint in `data_dir/engine.json` holding the
//! whole engine and, per source, the position after the last event the engine received.
//! Sources resume from those positions, so a restart (even after `kill -9`, from the
//! last periodic checkpoint) neither loses nor repeats an event.

use crate::config::Config;
use crate::engine::{CheckpointError, Engine, EngineOptions};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Checkpoint file format version.
const VERSION: u32 = 1;

/// Why the engine state could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing the file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The file is not a checkpoint of this format.
    #[error("{path}: not an engine checkpoint: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The engine refused the state (format version, incompatible config).
    #[error("{path}: {error}")]
    Engine {
        /// The file.
        path: PathBuf,
        /// The engine's reason.
        error: CheckpointError,
    },
}

/// Source positions by source name.
pub type Positions = BTreeMap<String, serde_json::Value>;

/// The checkpoint file as read back: the engine's state left as text for
/// [`Engine::restore`].
#[derive(serde::Deserialize)]
struct Document<'a> {
    v: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
    #[serde(default)]
    positions: Positions,
    #[serde(borrow)]
    engine: Option<&'a serde_json::value::RawValue>,
}

/// Where the engine checkpoint lives.
#[derive(Debug, Clone)]
pub struct EngineStore {
    path: PathBuf,
}

impl EngineStore {
    /// The checkpoint under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        EngineStore {
            path: data_dir.join("engine.json"),
        }
    }

    /// The checkpoint file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved engine, source positions and checkpoint id (`None` in a checkpoint
    /// written before ids), `None` when nothing was saved.
    pub fn load(
        &self,
        cfg: &Config,
        opts: EngineOptions,
    ) -> Result<Option<Restored>, PersistError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(PersistError::Io {
                    path: self.path.clone(),
                    error,
                })
            }
        };
        let invalid = |message: String| PersistError::Invalid {
            path: self.path.clone(),
            message,
        };
        // One pass over the file: the engine's part stays raw text (no JSON tree of a
        // state that is tens of MB for a large center) and is parsed once by the engine.
        let doc: Document<'_> =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if doc.v.as_ref().and_then(|v| v.as_u64()) != Some(u64::from(VERSION)) {
            return Err(invalid(format!("expected \"v\": {VERSION}")));
        }
        let engine_doc = doc.engine.ok_or_else(|| invalid("no \"engine\"".into()))?;
        let engine = Engine::restore(cfg, opts, engine_doc.get().as_bytes()).map_err(|error| {
            PersistError::Engine {
                path: self.path.clone(),
                error,
            }
        })?;
        Ok(Some(Restored {
            engine,
            positions: doc.positions,
            id: doc.id.as_ref().and_then(|v| v.as_u64()),
        }))
    }

    /// Streams checkpoint `id` of `engine` with `positions` into a temporary file beside
    /// the checkpoint, without an in-memory copy of the state (the engine must not change
    /// meanwhile); [`Staged::commit`] then makes it the checkpoint, atomically.
    pub fn stage(
        &self,
        engine: &Engine,
        positions: &Positions,
        id: u64,
    ) -> Result<Staged, PersistError> {
        let io_err = |error| PersistError::Io {
            path: self.path.clone(),
            error,
        };
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        let tmp = tmp_path(&self.path);
        let mut out =
            io::BufWriter::with_capacity(1 << 18, fs::File::create(&tmp).map_err(io_err)?);
        let pos = serde_json::to_vec(positions).map_err(|e| PersistError::Invalid {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        write!(out, "{{\"v\":{VERSION},\"id\":{id},\"positions\":").map_err(io_err)?;
        out.write_all(&pos).map_err(io_err)?;
        out.write_all(b",\"engine\":").map_err(io_err)?;
        engine
            .checkpoint_to(&mut out)
            .map_err(|error| match error {
                CheckpointError::Corrupt(e) if e.is_io() => io_err(io::Error::other(e)),
                error => PersistError::Engine {
                    path: self.path.clone(),
                    error,
                },
            })?;
        out.write_all(b"}\n").map_err(io_err)?;
        let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
        Ok(Staged {
            file,
            tmp,
            path: self.path.clone(),
        })
    }
}

/// Fills `tmp` (its directory created first) through `write`, buffered, and syncs it
/// to disk: the first half of replacing a state file atomically (the caller renames it
/// in, see [`write_atomic`]).
pub fn write_synced(
    tmp: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(dir) = tmp.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut out = io::BufWriter::with_capacity(1 << 16, fs::File::create(tmp)?);
    write(&mut out)?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// `<path>.tmp`, where a new version of `path` is written before it is renamed in.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// Replaces `path` atomically with what `write` writes: [`write_synced`] into
/// [`tmp_path`], then a rename (a crash leaves the old version or the new one).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = tmp_path(path);
    write_synced(&tmp, write)?;
    fs::rename(&tmp, path)
}

/// What [`EngineStore::load`] found.
#[derive(Debug)]
pub struct Restored {
    /// The engine as it was saved.
    pub engine: Engine,
    /// The source positions it was taken at.
    pub positions: Positions,
    /// The checkpoint's id (readers that save their own state alongside match it).
    pub id: Option<u64>,
}

/// A checkpoint written to its temporary file, not yet the checkpoint: [`Staged::commit`]
/// syncs and renames it (slow on a busy disk: a blocking thread's work).
#[derive(Debug)]
pub struct Staged {
    file: fs::File,
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// Syncs the temporary file and renames it over the checkpoint.
    pub fn commit(self) -> Result<(), PersistError> {
        let io_err = |error| PersistError::Io {
            path: self.path.clone(),
            error,
        };
        self.file.sync_all().map_err(io_err)?;
        drop(self.file);
        fs::rename(&self.tmp, &self.path).map_err(io_err)
    }
}
