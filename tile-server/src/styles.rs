//! The style registry: every `*.toml` file of the styles folder, parsed and validated once at
//! start-up (a broken style stops the server with a message naming the file and the key).
//! The schema is documented in `styles/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::render::color::{parse_color, ramp_at, ColorMap, OutOfRange, Rgba, TRANSPARENT};
use crate::render::range::{intervals_fit, range_fits, widen, DataRange};

/// What a style draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StyleKind {
    /// Continuous colour ramp between `range`.
    Ramp,
    /// Discrete intervals, each one colour.
    Intervals,
    /// Isolines every `interval`.
    Contours,
    /// Wind arrows from a vector layer (UU/VV), over a speed ramp.
    Arrows,
    /// Wind barbs from a vector layer, over a speed ramp.
    Barbs,
}

/// How values are sampled at pixel centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sampling {
    /// The nearest grid point.
    #[default]
    Nearest,
    /// Bilinear between the four surrounding points.
    Bilinear,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleFile {
    title: String,
    #[serde(rename = "type")]
    kind: StyleKind,
    #[serde(default, rename = "abstract")]
    abstract_: Option<String>,
    /// nomvars for which this style is the default (first file in name order wins).
    #[serde(default)]
    variables: Vec<String>,
    /// Offer this style for every scalar layer.
    #[serde(default)]
    generic: bool,
    #[serde(default)]
    units: Option<String>,
    #[serde(default)]
    transform: Option<TransformFile>,
    #[serde(default)]
    range: Option<[f64; 2]>,
    #[serde(default)]
    colors: Vec<String>,
    #[serde(default)]
    stops: Vec<(f64, String)>,
    #[serde(default)]
    intervals: Vec<IntervalFile>,
    #[serde(default)]
    bands: Option<u32>,
    #[serde(default)]
    log: bool,
    #[serde(default)]
    below: Option<String>,
    #[serde(default)]
    above: Option<String>,
    #[serde(default)]
    nodata: Option<String>,
    #[serde(default)]
    sampling: Sampling,
    #[serde(default)]
    interval: Option<f64>,
    #[serde(default)]
    line_color: Option<String>,
    #[serde(default = "default_true")]
    labels: bool,
    #[serde(default)]
    label_spacing: Option<u32>,
    #[serde(default)]
    spacing: Option<u32>,
    #[serde(default)]
    glyph_color: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransformFile {
    from: String,
    to: String,
    #[serde(default = "one")]
    scale: f64,
    #[serde(default)]
    offset: f64,
}

fn default_true() -> bool {
    true
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalFile {
    min: f64,
    max: f64,
    color: String,
    #[serde(default)]
    label: Option<String>,
}

/// An explicit unit conversion: displayed = native·scale + offset.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTransform {
    /// Native unit this applies to.
    pub from: String,
    /// Displayed unit.
    pub to: String,
    /// Multiplier.
    pub scale: f64,
    /// Addend.
    pub offset: f64,
}

/// A validated style.
#[derive(Debug, Clone)]
pub struct Style {
    /// Name (file stem).
    pub name: String,
    /// Human title.
    pub title: String,
    /// Description.
    pub abstract_: Option<String>,
    /// What it draws.
    pub kind: StyleKind,
    /// Default style for these nomvars.
    pub variables: Vec<String>,
    /// Offered for every scalar layer.
    pub generic: bool,
    /// Unit shown in legends (after the transform).
    pub units: Option<String>,
    /// Unit transform.
    pub transform: Option<UnitTransform>,
    /// Colour range (displayed unit).
    pub range: [f64; 2],
    /// Ramp stops, positions 0..=1.
    pub stops: Vec<(f64, Rgba)>,
    /// Intervals `[lo, hi)`, sorted, with optional labels.
    pub intervals: Vec<(f64, f64, Rgba, Option<String>)>,
    /// Default number of colour bands.
    pub bands: u32,
    /// Logarithmic ramp.
    pub log: bool,
    /// Below the range.
    pub below: OutOfRange,
    /// Above the range.
    pub above: OutOfRange,
    /// Missing values.
    pub nodata: Rgba,
    /// Sampling.
    pub sampling: Sampling,
    /// Contour interval.
    pub interval: Option<f64>,
    /// Contour line colour.
    pub line_color: Rgba,
    /// Contours: label the isolines about every this many pixels (`None`: no labels).
    pub label_spacing: Option<u32>,
    /// Glyph spacing, pixels (arrows, barbs).
    pub spacing: u32,
    /// Glyph colour.
    pub glyph_color: Rgba,
}

/// The colour range a request asks for (`COLORSCALERANGE`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ColorRange {
    /// Absent or `default`: the style's range when it suits the field, else `Auto`.
    #[default]
    Default,
    /// `auto`: the field's robust extent (2nd–98th percentile, missing values ignored).
    Auto,
    /// `min,max`.
    Fixed([f64; 2]),
}

/// Request-time overrides (ncWMS parameters).
#[derive(Debug, Clone, Default)]
pub struct StyleOverrides {
    /// `COLORSCALERANGE`.
    pub range: ColorRange,
    /// `NUMCOLORBANDS`.
    pub bands: Option<u32>,
    /// `LOGSCALE`.
    pub log: Option<bool>,
    /// `ABOVEMAXCOLOR`.
    pub above: Option<OutOfRange>,
    /// `BELOWMINCOLOR`.
    pub below: Option<OutOfRange>,
    /// `OPACITY` in percent.
    pub opacity: Option<u8>,
}

impl StyleOverrides {
    /// A stable text form for cache keys.
    #[must_use]
    pub fn key(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.range, self.bands, self.log, self.above, self.below, self.opacity
        )
    }
}

/// Errors of a style file.
#[derive(Debug, thiserror::Error)]
#[error("style {path}: {message}")]
pub struct StyleError {
    /// File.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// A ramp stop: position in 0..=1 and colour.
type RampStop = (f64, Rgba);

/// An interval `[lo, hi)` of an interval style, with its colour and optional legend label.
type Interval = (f64, f64, Rgba, Option<String>);

/// A colour of a style file, or the message naming its key `what`.
fn key_color(what: &str, s: &str) -> Result<Rgba, String> {
    parse_color(s).ok_or_else(|| format!("{what}: `{s}` is not a colour"))
}

/// `below` / `above` of a style file: `extend` (also when absent) or a colour.
fn out_of_range(what: &str, s: Option<&str>) -> Result<OutOfRange, String> {
    match s {
        None => Ok(OutOfRange::Extend),
        Some(s) => {
            OutOfRange::parse(s).ok_or_else(|| format!("{what}: `{s}` is not `extend` or a colour"))
        }
    }
}

/// Ramp stops at positions 0..=1, from `colors` (evenly spaced) or `stops` (at their values),
/// and the range that `stops` span.
fn ramp_stops(
    colors: &[String],
    stops: &[(f64, String)],
) -> Result<(Vec<RampStop>, Option<[f64; 2]>), String> {
    if !colors.is_empty() && !stops.is_empty() {
        return Err("give either `colors` or `stops`, not both".into());
    }
    let mut out = Vec::new();
    let n = colors.len();
    for (k, c) in colors.iter().enumerate() {
        let t = if n > 1 {
            k as f64 / (n - 1) as f64
        } else {
            0.0
        };
        out.push((t, key_color("colors", c)?));
    }
    if stops.is_empty() {
        return Ok((out, None));
    }
    let lo = stops.first().map_or(0.0, |s| s.0);
    let hi = stops.last().map_or(1.0, |s| s.0);
    if stops.windows(2).any(|w| w[1].0 <= w[0].0) || hi <= lo {
        return Err("`stops` values must increase".into());
    }
    for (v, c) in stops {
        out.push(((v - lo) / (hi - lo), key_color("stops", c)?));
    }
    Ok((out, Some([lo, hi])))
}

/// The `intervals` of a style file: each must be non-empty, and all sorted and disjoint.
fn parse_intervals(intervals: &[IntervalFile]) -> Result<Vec<Interval>, String> {
    let mut out = Vec::new();
    for iv in intervals {
        if iv.max.partial_cmp(&iv.min) != Some(std::cmp::Ordering::Greater) {
            return Err(format!("interval [{}, {}) is empty", iv.min, iv.max));
        }
        out.push((
            iv.min,
            iv.max,
            key_color("intervals.color", &iv.color)?,
            iv.label.clone(),
        ));
    }
    if out.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err("`intervals` must be sorted and must not overlap".into());
    }
    Ok(out)
}

/// The colour range as the style's kind has it: ramps need their stops and an explicit
/// `range`, interval styles span their intervals, contours need a positive `interval`.
fn kind_range(
    f: &StyleFile,
    stops: &[RampStop],
    intervals: &[Interval],
    range: Option<[f64; 2]>,
) -> Result<Option<[f64; 2]>, String> {
    match f.kind {
        StyleKind::Ramp | StyleKind::Arrows | StyleKind::Barbs => {
            if stops.len() < 2 {
                return Err("a ramp needs at least two `colors` or `stops`".into());
            }
            if range.is_none() {
                return Err("a ramp needs an explicit `range = [min, max]`".into());
            }
            Ok(range)
        }
        StyleKind::Intervals => match (intervals.first(), intervals.last()) {
            (Some(first), Some(last)) => Ok(Some([first.0, last.1])),
            _ => Err("an interval style needs `intervals`".into()),
        },
        StyleKind::Contours => match f.interval {
            Some(i) if i > 0.0 && i.is_finite() => Ok(range.or(Some([0.0, 1.0]))),
            _ => Err("contours need a positive `interval`".into()),
        },
    }
}

/// The colour range, checked present, non-empty, finite, and positive for a logarithmic ramp.
fn checked_range(range: Option<[f64; 2]>, log: bool) -> Result<[f64; 2], String> {
    let Some(range) = range else {
        return Err("missing `range`".into());
    };
    if range[1].partial_cmp(&range[0]) != Some(std::cmp::Ordering::Greater)
        || !range[0].is_finite()
        || !range[1].is_finite()
    {
        return Err(format!("range {range:?} is empty"));
    }
    if log && range[0] <= 0.0 {
        return Err("a logarithmic ramp needs range min > 0".into());
    }
    Ok(range)
}

/// The `transform` of a style file, checked finite and invertible.
fn unit_transform(t: Option<TransformFile>) -> Result<Option<UnitTransform>, String> {
    match t {
        Some(t) if t.scale == 0.0 || !t.scale.is_finite() || !t.offset.is_finite() => {
            Err("transform.scale must be finite and non-zero".into())
        }
        Some(t) => Ok(Some(UnitTransform {
            from: t.from,
            to: t.to,
            scale: t.scale,
            offset: t.offset,
        })),
        None => Ok(None),
    }
}

impl Style {
    fn from_file(name: String, f: StyleFile, path: &Path) -> Result<Self, StyleError> {
        Self::validate(name, f).map_err(|message| StyleError {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Check a parsed style file and fill in its defaults; errors are messages naming the key.
    fn validate(name: String, f: StyleFile) -> Result<Self, String> {
        let (stops, stops_range) = ramp_stops(&f.colors, &f.stops)?;
        let intervals = parse_intervals(&f.intervals)?;
        let range = kind_range(&f, &stops, &intervals, f.range.or(stops_range))?;
        let range = checked_range(range, f.log)?;
        let bands = f.bands.unwrap_or(250);
        if !(2..=250).contains(&bands) {
            return Err(format!("bands = {bands}: must be in 2..=250"));
        }
        let transform = unit_transform(f.transform)?;
        let color_or = |what: &str, s: &Option<String>, default: Rgba| match s {
            Some(s) => key_color(what, s),
            None => Ok(default),
        };
        Ok(Style {
            name,
            title: f.title,
            abstract_: f.abstract_,
            kind: f.kind,
            variables: f.variables.iter().map(|v| v.trim().to_string()).collect(),
            generic: f.generic,
            units: f.units.or_else(|| transform.as_ref().map(|t| t.to.clone())),
            transform,
            range,
            stops,
            intervals,
            bands,
            log: f.log,
            below: out_of_range("below", f.below.as_deref())?,
            above: out_of_range("above", f.above.as_deref())?,
            nodata: color_or("nodata", &f.nodata, TRANSPARENT)?,
            sampling: f.sampling,
            interval: f.interval,
            line_color: color_or("line_color", &f.line_color, [0, 0, 0, 255])?,
            label_spacing: f
                .labels
                .then(|| f.label_spacing.unwrap_or(180).clamp(48, 2048)),
            spacing: f.spacing.unwrap_or(32).clamp(8, 256),
            glyph_color: color_or("glyph_color", &f.glyph_color, [0, 0, 0, 255])?,
        })
    }

    /// True for styles drawn from a vector (UU/VV) layer.
    #[must_use]
    pub fn is_vector(&self) -> bool {
        matches!(self.kind, StyleKind::Arrows | StyleKind::Barbs)
    }

    /// Whether the colour range applies to this style: ramps (also the speed ramp under
    /// wind glyphs) and interval styles (drawn as classes over their own range only, as a
    /// continuous ramp through the classes' colours over another); contours keep their
    /// interval.
    #[must_use]
    pub fn has_color_range(&self) -> bool {
        self.kind != StyleKind::Contours
    }

    /// Whether the style's own colours suit data whose robust extent (displayed unit) is
    /// `data`: its range for ramps, its classes for interval styles.
    fn suits(&self, data: [f64; 2]) -> bool {
        if self.kind == StyleKind::Intervals {
            let iv: Vec<(f64, f64)> = self.intervals.iter().map(|i| (i.0, i.1)).collect();
            intervals_fit(&iv, data)
        } else {
            range_fits(self.range, data)
        }
    }

    /// Whether an interval style draws its classes over `range`: only over its own range;
    /// another range (requested, or from the data) is drawn as a continuous ramp through
    /// the classes' colours.
    fn draws_intervals(&self, range: [f64; 2]) -> bool {
        self.kind == StyleKind::Intervals
            && range[0].to_bits() == self.range[0].to_bits()
            && range[1].to_bits() == self.range[1].to_bits()
    }

    /// The colour range (displayed unit) a request uses over a field whose extent is
    /// `data` (native unit; `None`: unknown, or a field with no value): the requested one,
    /// else the style's when it suits the data, else the data's robust extent.
    #[must_use]
    pub fn range_in_use(&self, o: &StyleOverrides, data: Option<&DataRange>) -> [f64; 2] {
        let auto = data.filter(|_| self.has_color_range()).map(|d| {
            let r = d.robust();
            let (scale, offset) = self
                .transform
                .as_ref()
                .map_or((1.0, 0.0), |t| (t.scale, t.offset));
            widen(r[0] * scale + offset, r[1] * scale + offset)
        });
        match (o.range, auto) {
            (ColorRange::Fixed(r), _) => r,
            (ColorRange::Auto, Some(a)) => a,
            (ColorRange::Default, Some(a)) if !self.suits(a) => a,
            _ => self.range,
        }
    }

    /// The colour map of a request over a field whose extent `data` gives (called only
    /// when the range depends on the data): the range from [`Style::range_in_use`].
    #[must_use]
    pub fn color_map_for(
        &self,
        o: &StyleOverrides,
        data: impl FnOnce() -> Option<DataRange>,
    ) -> ColorMap {
        let data = (self.has_color_range() && !matches!(o.range, ColorRange::Fixed(_)))
            .then(data)
            .flatten();
        self.color_map_in(o, self.range_in_use(o, data.as_ref()))
    }

    /// The colour map of a request when the field is not at hand: a requested `min,max`,
    /// else the style's own range.
    #[must_use]
    pub fn color_map(&self, o: &StyleOverrides) -> ColorMap {
        self.color_map_in(o, self.range_in_use(o, None))
    }

    /// The colour map of a request with the colour range `range` (displayed unit).
    #[must_use]
    pub fn color_map_in(&self, o: &StyleOverrides, range: [f64; 2]) -> ColorMap {
        let bands = o.bands.unwrap_or(self.bands).clamp(2, 250) as usize;
        let log = o.log.unwrap_or(self.log) && range[0] > 0.0;
        let is_iv = self.draws_intervals(range);
        let class_ramp: Vec<RampStop>;
        let stops = if self.kind == StyleKind::Intervals {
            let n = self.intervals.len().max(2) - 1;
            class_ramp = (self.intervals.iter().enumerate())
                .map(|(k, iv)| (k as f64 / n as f64, iv.2))
                .collect();
            &class_ramp
        } else {
            &self.stops
        };
        let lut: Vec<Rgba> = (0..bands)
            .map(|b| ramp_at(stops, (b as f64 + 0.5) / bands as f64))
            .collect();
        let end = |which: OutOfRange, edge: Rgba| match which {
            OutOfRange::Extend => edge,
            OutOfRange::Color(c) => c,
        };
        let first = lut.first().copied().unwrap_or(TRANSPARENT);
        let last = lut.last().copied().unwrap_or(TRANSPARENT);
        let mut intervals: Vec<(f64, f64, Rgba)> =
            self.intervals.iter().map(|i| (i.0, i.1, i.2)).collect();
        let (ifirst, ilast) = (
            intervals.first().map_or(TRANSPARENT, |i| i.2),
            intervals.last().map_or(TRANSPARENT, |i| i.2),
        );
        if !is_iv {
            intervals.clear();
        }
        let (scale, offset) = self
            .transform
            .as_ref()
            .map_or((1.0, 0.0), |t| (t.scale, t.offset));
        ColorMap {
            scale,
            offset,
            min: range[0],
            max: range[1],
            log,
            lut,
            intervals,
            below: end(
                o.below.unwrap_or(self.below),
                if is_iv { ifirst } else { first },
            ),
            above: end(
                o.above.unwrap_or(self.above),
                if is_iv { ilast } else { last },
            ),
            nodata: self.nodata,
            opacity: o
                .opacity
                .map_or(255, |p| ((u16::from(p.min(100)) * 255) / 100) as u8),
        }
    }
}

/// All styles, by name. Immutable after start-up.
#[derive(Debug, Clone, Default)]
pub struct StyleRegistry {
    styles: BTreeMap<String, Style>,
}

impl StyleRegistry {
    /// Load and validate every `*.toml` file of `dir`.
    pub fn load(dir: &Path) -> Result<Self, StyleError> {
        let rd = std::fs::read_dir(dir).map_err(|e| StyleError {
            path: dir.to_path_buf(),
            message: format!("cannot read the styles folder: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut styles = BTreeMap::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| StyleError {
                path: p.clone(),
                message: format!("cannot read: {e}"),
            })?;
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(StyleError {
                    path: p.clone(),
                    message: "style names are [A-Za-z0-9_-]+".into(),
                });
            }
            let f: StyleFile = toml::from_str(&text).map_err(|e| StyleError {
                path: p.clone(),
                message: e.message().to_string(),
            })?;
            styles.insert(name.clone(), Style::from_file(name, f, &p)?);
        }
        if styles.is_empty() {
            return Err(StyleError {
                path: dir.to_path_buf(),
                message: "no style files (*.toml)".into(),
            });
        }
        Ok(Self { styles })
    }

    /// A style by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Style> {
        self.styles.get(name)
    }

    /// All styles.
    pub fn iter(&self) -> impl Iterator<Item = &Style> {
        self.styles.values()
    }

    /// The styles offered for a layer: its variable's own styles first (the default), then
    /// generic ones. Vector layers get the vector styles first.
    #[must_use]
    pub fn for_layer(&self, nomvar: &str, vector: bool) -> Vec<&Style> {
        let mut own: Vec<&Style> = Vec::new();
        if vector {
            own.extend(self.iter().filter(|s| s.is_vector()));
        }
        // Colour styles before line styles: the first one is the layer's default.
        let mine = |s: &&Style| !s.is_vector() && s.variables.iter().any(|v| v == nomvar);
        own.extend(
            self.iter()
                .filter(mine)
                .filter(|s| s.kind != StyleKind::Contours),
        );
        own.extend(
            self.iter()
                .filter(mine)
                .filter(|s| s.kind == StyleKind::Contours),
        );
        // Generic colour styles before generic line styles too: a variable without a style
        // of its own gets a colour ramp as its default, not isolines at a fixed interval.
        let generic = |s: &&Style| !s.is_vector() && s.generic;
        let colour_first = self
            .iter()
            .filter(generic)
            .filter(|s| s.kind != StyleKind::Contours)
            .chain(
                self.iter()
                    .filter(generic)
                    .filter(|s| s.kind == StyleKind::Contours),
            );
        for s in colour_first {
            if !own.iter().any(|o| o.name == s.name) {
                own.push(s);
            }
        }
        own
    }
}
