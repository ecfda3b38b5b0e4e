//! Server configuration: a TOML file (`--config`) or command-line defaults. Unknown keys are
//! an error, so a typo never silently falls back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Data directories (or single files). Each directory is one collection: every FST file
    /// under it (not recursive) contributes to the same layers.
    pub data: Vec<PathBuf>,
    /// Folder of style files.
    #[serde(default = "default_styles")]
    pub styles: PathBuf,
    /// Public base URL used in capabilities documents (`http://host:port`); by default it is
    /// derived from the request's `Host` header.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Cache sizes.
    #[serde(default)]
    pub cache: CacheConfig,
    /// Request limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Directory watching.
    #[serde(default)]
    pub watch: WatchConfig,
    /// Connection bounds (slow or greedy clients).
    #[serde(default)]
    pub connections: ConnectionsConfig,
    /// Observation layers (points).
    #[serde(default)]
    pub obs: ObsConfig,
}

/// How observation layers are drawn and selected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObsConfig {
    /// Circle radius of a point when a request gives no `RADIUS`, pixels.
    #[serde(default = "default_point_radius")]
    pub point_radius_px: u32,
    /// Largest `RADIUS` a request may ask for, pixels (at most 32).
    #[serde(default = "default_max_point_radius")]
    pub max_point_radius_px: u32,
    /// Half the assimilation window a single `TIME` instant selects, minutes (`TIME=T`
    /// draws the observations of [T − this, T + this]).
    #[serde(default = "default_half_window")]
    pub half_window_minutes: u32,
    /// The field layer each IODA variable's O−F layer departs from, by variable
    /// (`airTemperature = "TT.P.ANAL"`); unlisted variables take the field layer named as
    /// the mapped nomvar, else the first of that nomvar by name (`obs::model`).
    #[serde(default)]
    pub model_layers: std::collections::HashMap<String, String>,
    /// Bytes of O−F model equivalents kept (9 per observation and layer: the equivalent
    /// and the layer's flags), mebibytes.
    #[serde(default = "default_model_cache")]
    pub model_cache_mb: u64,
}

fn default_point_radius() -> u32 {
    3
}
fn default_max_point_radius() -> u32 {
    16
}
fn default_half_window() -> u32 {
    180
}
fn default_model_cache() -> u64 {
    256
}

impl Default for ObsConfig {
    fn default() -> Self {
        Self {
            point_radius_px: default_point_radius(),
            max_point_radius_px: default_max_point_radius(),
            half_window_minutes: default_half_window(),
            model_layers: std::collections::HashMap::new(),
            model_cache_mb: default_model_cache(),
        }
    }
}

/// Bounds on client connections, enforced by the accept loop ([`crate::serve`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Time a connection has to send a request's headers (idle keep-alive connections
    /// included) before it is closed, milliseconds.
    #[serde(default = "default_header_timeout")]
    pub header_read_timeout_ms: u64,
    /// Open connections in total; further ones are answered `503` and closed. Capped below
    /// the process's open-file limit.
    #[serde(default = "default_max_connections")]
    pub max: usize,
    /// Open connections per client address; further ones are answered `429` and closed.
    /// 0: no per-address bound (behind a reverse proxy, every client has its address).
    #[serde(default = "default_max_per_ip")]
    pub max_per_ip: usize,
}

fn default_header_timeout() -> u64 {
    20_000
}
fn default_max_connections() -> usize {
    4096
}
fn default_max_per_ip() -> usize {
    128
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: default_header_timeout(),
            max: default_max_connections(),
            max_per_ip: default_max_per_ip(),
        }
    }
}

/// Cache sizes, in mebibytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Decoded fields.
    #[serde(default = "default_fields_mb")]
    pub fields_mb: u64,
    /// Encoded tiles and maps.
    #[serde(default = "default_tiles_mb")]
    pub tiles_mb: u64,
    /// `Cache-Control: max-age` of successful image responses, seconds.
    #[serde(default = "default_max_age")]
    pub max_age_seconds: u64,
}

/// Limits that keep one client from exhausting the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest WIDTH of `GetMap` / `GetLegendGraphic`.
    #[serde(default = "default_max_size")]
    pub max_width: u32,
    /// Largest HEIGHT.
    #[serde(default = "default_max_size")]
    pub max_height: u32,
    /// Renders running at once; further requests wait for a slot.
    #[serde(default = "default_renders")]
    pub max_concurrent_renders: usize,
    /// Memory all renders together may hold, mebibytes: each render reserves its estimated
    /// peak bytes ([`crate::maps::render_cost`]) before it starts and waits (up to
    /// `render_wait_ms`, then 503) while the budget is taken by others. A request whose
    /// image alone exceeds the budget is refused (400).
    #[serde(default = "default_render_budget_mb")]
    pub render_budget_mb: u64,
    /// How long a request waits for a render slot and budget before a 503.
    #[serde(default = "default_wait_ms")]
    pub render_wait_ms: u64,
    /// Largest XYZ zoom level.
    #[serde(default = "default_max_zoom")]
    pub max_zoom: u8,
    /// Most layers one `GetMap` may stack (WMS `LayerLimit`).
    #[serde(default = "default_max_layers")]
    pub max_layers: usize,
    /// Largest field (ni·nj points) published as a layer; larger fields are skipped at
    /// catalog build, before any grid is computed from their header.
    #[serde(default = "default_max_grid_points")]
    pub max_grid_points: u64,
}

/// Directory watching.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Watch the data directories for new or rewritten files.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Quiet time after the last change before the catalog is rebuilt, milliseconds.
    #[serde(default = "default_debounce")]
    pub debounce_ms: u64,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_styles() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../styles"))
}
fn default_fields_mb() -> u64 {
    512
}
fn default_tiles_mb() -> u64 {
    128
}
fn default_max_age() -> u64 {
    300
}
fn default_max_size() -> u32 {
    4096
}
fn default_renders() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get) * 2
}
fn default_render_budget_mb() -> u64 {
    2048
}
fn default_wait_ms() -> u64 {
    10_000
}
fn default_max_layers() -> usize {
    8
}
fn default_max_grid_points() -> u64 {
    50_000_000
}
fn default_max_zoom() -> u8 {
    14
}
fn default_true() -> bool {
    true
}
fn default_debounce() -> u64 {
    300
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            fields_mb: default_fields_mb(),
            tiles_mb: default_tiles_mb(),
            max_age_seconds: default_max_age(),
        }
    }
}
impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_width: default_max_size(),
            max_height: default_max_size(),
            max_concurrent_renders: default_renders(),
            render_budget_mb: default_render_budget_mb(),
            render_wait_ms: default_wait_ms(),
            max_zoom: default_max_zoom(),
            max_layers: default_max_layers(),
            max_grid_points: default_max_grid_points(),
        }
    }
}
impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            debounce_ms: default_debounce(),
        }
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid (syntax, unknown key, wrong type).
    #[error("invalid config {path}: {message}")]
    Invalid {
        /// Path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The bundled sample file, served when no data is given.
#[must_use]
pub fn bundled_sample() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/sample/sample.fst"))
}

impl Config {
    /// Defaults around a list of data paths.
    #[must_use]
    pub fn with_data(data: Vec<PathBuf>) -> Self {
        Self {
            listen: default_listen(),
            data,
            styles: default_styles(),
            base_url: None,
            cache: CacheConfig::default(),
            limits: LimitsConfig::default(),
            watch: WatchConfig::default(),
            connections: ConnectionsConfig::default(),
            obs: ObsConfig::default(),
        }
    }

    /// Parse TOML text (`path` only for messages; relative paths in the file are resolved
    /// against the file's folder).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for d in &mut c.data {
            if d.is_relative() {
                *d = base.join(&*d);
            }
        }
        if c.styles.is_relative() {
            c.styles = base.join(&c.styles);
        }
        if c.data.is_empty() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: "`data` lists no directory".into(),
            });
        }
        if c.limits.render_budget_mb == 0 {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: "limits.render_budget_mb must be at least 1".into(),
            });
        }
        if c.limits.max_concurrent_renders == 0 {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: "limits.max_concurrent_renders must be at least 1".into(),
            });
        }
        Ok(c)
    }

    /// Read a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors() {
        let e = Config::parse("data = ['x']\nbogus = 1\n", Path::new("/etc/c.toml")).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Config::parse(
            "data = ['x']\n[cache]\nfield_mb = 1\n",
            Path::new("/etc/c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("field_mb"), "{e}");
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let c = Config::parse(
            "data = ['run']\nstyles = 's'\n[limits]\nmax_width = 512\n",
            Path::new("/etc/fst/c.toml"),
        )
        .unwrap();
        assert_eq!(c.data, vec![PathBuf::from("/etc/fst/run")]);
        assert_eq!(c.styles, PathBuf::from("/etc/fst/s"));
        assert_eq!(c.limits.max_width, 512);
        assert_eq!(c.limits.max_height, 4096);
    }
}
