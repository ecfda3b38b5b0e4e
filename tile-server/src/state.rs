//! Shared state of the server: configuration, the live catalog, styles, caches, limits and
//! metrics. Cheap to clone (an `Arc`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use grids::GridCache;
use tokio::sync::Semaphore;

use crate::cache::ByteLru;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::render::range::RangeCache;
use crate::render::FieldValues;
use crate::serve::ConnectionStats;
use crate::source::{build_snapshot, list_files, CatalogLimits, Snapshot};
use crate::styles::{StyleError, StyleRegistry};

/// The state behind every route.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// See [`AppState`].
pub struct Inner {
    /// Configuration.
    pub config: Config,
    /// Styles.
    pub styles: StyleRegistry,
    /// The current catalog.
    pub snapshot: RwLock<Arc<Snapshot>>,
    /// Grids, shared by all files.
    pub grids: GridCache,
    /// Decoded fields.
    pub fields: ByteLru<String, Arc<FieldValues>>,
    /// Decoded vector components.
    pub components: ByteLru<String, Arc<(FieldValues, FieldValues)>>,
    /// Encoded images.
    pub tiles: ByteLru<String, Arc<Vec<u8>>>,
    /// Capabilities documents, keyed by catalog generation, version, base URL and layer
    /// filter (a new catalog makes new keys; old ones age out).
    pub capabilities: ByteLru<String, Arc<String>>,
    /// Render slots.
    pub renders: Arc<Semaphore>,
    /// The render-memory budget, one permit per KiB (`limits.render_budget_mb`).
    pub render_budget: Arc<Semaphore>,
    /// Metrics.
    pub metrics: Metrics,
    /// Colour-range extents of fields (automatic colour ranges).
    pub ranges: RangeCache,
    /// Counters of the accept loop (zero when the router is driven without it).
    pub connections: Arc<ConnectionStats>,
    /// Observation layers indexed so far.
    pub obs: crate::obs::ObsLayers,
    generation: AtomicU64,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Load styles and build the first catalog.
    pub fn new(config: Config) -> Result<Self, StyleError> {
        let styles = StyleRegistry::load(&config.styles)?;
        let mb = 1024 * 1024;
        let inner = Inner {
            styles,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            grids: GridCache::new(32),
            fields: ByteLru::new((config.cache.fields_mb * mb) as usize),
            components: ByteLru::new((config.cache.fields_mb * mb / 2) as usize),
            tiles: ByteLru::new((config.cache.tiles_mb * mb) as usize),
            capabilities: ByteLru::new(16 * mb as usize),
            renders: Arc::new(Semaphore::new(config.limits.max_concurrent_renders.max(1))),
            render_budget: Arc::new(Semaphore::new(
                (config.limits.render_budget_mb.max(1) * 1024) as usize,
            )),
            metrics: Metrics::default(),
            ranges: RangeCache::default(),
            connections: Arc::default(),
            obs: crate::obs::ObsLayers::new((config.obs.model_cache_mb * mb) as usize),
            generation: AtomicU64::new(0),
            config,
        };
        let s = Self(Arc::new(inner));
        s.reload();
        Ok(s)
    }

    /// The current catalog.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(
            &self
                .snapshot
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Rescan the data paths and swap in a new catalog (unchanged files are not reopened).
    pub fn reload(&self) {
        let prev = self.snapshot();
        let paths: Vec<PathBuf> = list_files(&self.config.data);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let limits = CatalogLimits {
            max_grid_points: self.config.limits.max_grid_points,
        };
        let next = build_snapshot(&paths, Some(&prev), &self.grids, generation, limits);
        tracing::info!(
            "catalog generation {generation}: {} files, {} layers",
            next.files.len(),
            next.layers.len()
        );
        *self
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(next);
        self.metrics.reloads.fetch_add(1, Ordering::Relaxed);
    }
}
