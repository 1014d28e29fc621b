//! Typed configuration (TOML + `CCPULSE__` environment overrides), validated in one place.

/// A configuration error, naming the file and the key.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The config file (or `<defaults>`/`<env>`).
    pub file: String,
    /// The offending key (dotted path).
    pub key: String,
    /// What is wrong.
    pub message: String,
}
