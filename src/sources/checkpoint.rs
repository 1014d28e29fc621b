//! Where a file source stopped, persisted between runs: the file's [`Fingerprint`] and
//! the offset just past the last line fully handed to the engine.
//!
//! One JSON file per source, `<data_dir>/sources/<name>.json`, replaced atomically
//! (written to a temporary file, synced, then renamed over the old one), so a crash
//! leaves either the previous checkpoint or the new one, never a torn file.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How many bytes of a file's start identify it (with its device and inode).
pub const HEAD_MAX: usize = 256;

/// What a checkpoint operation failed at.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing the checkpoint file failed.
    #[error("{path}: {error}")]
    Io {
        /// The checkpoint file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The checkpoint file is not a checkpoint (it is then ignored).
    #[error("{path}: not a valid checkpoint: {error}")]
    Invalid {
        /// The checkpoint file.
        path: PathBuf,
        /// Why it does not parse.
        error: serde_json::Error,
    },
}

/// The start of a file: its first line (with the newline), at most [`HEAD_MAX`] bytes.
///
/// A head is *complete* once it ends with a newline or holds [`HEAD_MAX`] bytes; until
/// then the file is still being written and its head can only grow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head(Vec<u8>);

impl Head {
    /// Reads the head of `file` (moves its cursor).
    pub fn read(file: &mut File) -> io::Result<Head> {
        file.seek(SeekFrom::Start(0))?;
        let mut buf = Vec::with_capacity(HEAD_MAX);
        Read::by_ref(file)
            .take(HEAD_MAX as u64)
            .read_to_end(&mut buf)?;
        if let Some(i) = memchr::memchr(b'\n', &buf) {
            buf.truncate(i + 1);
        }
        Ok(Head(buf))
    }

    /// True once the head can no longer change while the file only grows.
    pub fn is_complete(&self) -> bool {
        self.0.len() == HEAD_MAX || self.0.last() == Some(&b'\n')
    }

    /// True when `self` is how a file starting with `earlier` can look after growing
    /// (equal, or `earlier` was incomplete and is a prefix).
    pub fn continues(&self, earlier: &Head) -> bool {
        if earlier.is_complete() {
            self.0 == earlier.0
        } else {
            self.0.starts_with(&earlier.0)
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A stable hash of the head (FNV-1a, 64 bits: the same in every build and run).
    pub fn hash(&self) -> u64 {
        fnv1a(&self.0)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A file's device and inode (both 0 where the platform has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

impl FileId {
    /// The id in `meta`.
    #[cfg(unix)]
    pub fn of(meta: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// The id in `meta` (no inodes here: files are told apart by their head only).
    #[cfg(not(unix))]
    pub fn of(_meta: &fs::Metadata) -> FileId {
        FileId { dev: 0, ino: 0 }
    }
}

/// Identifies a file across renames and restarts: device, inode and the hash of its
/// head, so a new file that reuses a deleted file's inode is not mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Device and inode.
    #[serde(flatten)]
    pub id: FileId,
    /// Length of the head hashed.
    pub head_len: u32,
    /// [`Head::hash`].
    pub head_hash: u64,
}

impl Fingerprint {
    /// The fingerprint of a file with this id and head.
    pub fn new(id: FileId, head: &Head) -> Fingerprint {
        Fingerprint {
            id,
            head_len: u32::try_from(head.len()).unwrap_or(u32::MAX),
            head_hash: head.hash(),
        }
    }

    /// True when `file` (with id `id`) is the file this fingerprint was taken of.
    pub fn matches(&self, id: FileId, file: &mut File) -> io::Result<bool> {
        if id != self.id {
            return Ok(false);
        }
        file.seek(SeekFrom::Start(0))?;
        let mut buf = Vec::with_capacity(self.head_len as usize);
        Read::by_ref(file)
            .take(u64::from(self.head_len))
            .read_to_end(&mut buf)?;
        Ok(buf.len() == self.head_len as usize && fnv1a(&buf) == self.head_hash)
    }
}

/// A file source's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version of this file (1).
    pub v: u32,
    /// The path tailed (for people reading the file; not used to match).
    pub path: PathBuf,
    /// Which file the offset belongs to.
    pub fingerprint: Fingerprint,
    /// Byte offset just past the last line whose event was handed to the engine (or that
    /// was counted as ignored, unknown or rejected).
    pub offset: u64,
    /// Lines consumed up to `offset` (line numbers in logs continue from it).
    pub line: u64,
}

/// The checkpoint file of one source.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    path: PathBuf,
}

impl CheckpointStore {
    /// The checkpoint of source `name` under `data_dir` (`<data_dir>/sources/<name>.json`).
    pub fn new(data_dir: &Path, name: &str) -> Self {
        CheckpointStore {
            path: data_dir.join("sources").join(format!("{name}.json")),
        }
    }

    /// The checkpoint file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved checkpoint, `None` when there is none.
    pub fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let text = match fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(CheckpointError::Io {
                    path: self.path.clone(),
                    error,
                })
            }
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|error| CheckpointError::Invalid {
                path: self.path.clone(),
                error,
            })
    }

    /// Replaces the checkpoint atomically (temporary file, sync, rename).
    pub fn save(&self, cp: &Checkpoint) -> Result<(), CheckpointError> {
        let io_err = |error| CheckpointError::Io {
            path: self.path.clone(),
            error,
        };
        crate::runtime::write_atomic(&self.path, |w| {
            serde_json::to_writer_pretty(&mut *w, cp)?;
            w.write_all(b"\n")
        })
        .map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_the_first_line_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"abc").unwrap();
        let h1 = Head::read(&mut File::open(&p).unwrap()).unwrap();
        assert!(!h1.is_complete());
        fs::write(&p, b"abcdef\nxyz\n").unwrap();
        let h2 = Head::read(&mut File::open(&p).unwrap()).unwrap();
        assert!(h2.is_complete() && h2.len() == 7);
        assert!(h2.continues(&h1));
        fs::write(&p, b"abX\n").unwrap();
        let h3 = Head::read(&mut File::open(&p).unwrap()).unwrap();
        assert!(!h3.continues(&h2) && !h3.continues(&h1));
        fs::write(&p, vec![b'x'; 1000]).unwrap();
        let h4 = Head::read(&mut File::open(&p).unwrap()).unwrap();
        assert!(h4.is_complete() && h4.len() == HEAD_MAX);
    }

    #[test]
    fn saves_atomically_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path(), "ql");
        assert!(store.load().unwrap().is_none());
        let cp = Checkpoint {
            v: 1,
            path: "/var/log/asterisk/queue_log".into(),
            fingerprint: Fingerprint {
                id: FileId { dev: 1, ino: 2 },
                head_len: 3,
                head_hash: u64::MAX,
            },
            offset: 42,
            line: 7,
        };
        store.save(&cp).unwrap();
        store.save(&cp).unwrap();
        assert_eq!(store.load().unwrap(), Some(cp));
        assert!(!dir.path().join("sources/ql.json.tmp").exists());
        fs::write(store.path(), b"{").unwrap();
        assert!(matches!(store.load(), Err(CheckpointError::Invalid { .. })));
    }
}
