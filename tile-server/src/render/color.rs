//! Colours, colour ramps and the per-request colour lookup table.

/// An RGBA colour (straight alpha).
pub type Rgba = [u8; 4];

/// Fully transparent.
pub const TRANSPARENT: Rgba = [0, 0, 0, 0];

/// Parse `#rgb`, `#rrggbb`, `#rrggbbaa`, `0xRRGGBB`, `0xAARRGGBB` (ncWMS order) or
/// `transparent`.
#[must_use]
pub fn parse_color(s: &str) -> Option<Rgba> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("transparent") || s.eq_ignore_ascii_case("none") {
        return Some(TRANSPARENT);
    }
    let hex = |t: &str| u32::from_str_radix(t, 16).ok();
    if let Some(h) = s.strip_prefix('#') {
        let v = hex(h)?;
        return match h.len() {
            3 => {
                let x = |k: u32| (((v >> k) & 0xF) * 17) as u8;
                Some([x(8), x(4), x(0), 255])
            }
            6 => Some([(v >> 16) as u8, (v >> 8) as u8, v as u8, 255]),
            8 => Some([(v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8, v as u8]),
            _ => None,
        };
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        let v = hex(h)?;
        return match h.len() {
            6 => Some([(v >> 16) as u8, (v >> 8) as u8, v as u8, 255]),
            8 => Some([(v >> 16) as u8, (v >> 8) as u8, v as u8, (v >> 24) as u8]),
            _ => None,
        };
    }
    None
}

/// What to paint outside the colour range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutOfRange {
    /// Use the end colour of the ramp.
    Extend,
    /// A fixed colour (possibly transparent).
    Color(Rgba),
}

impl OutOfRange {
    /// Parse `extend`, `transparent` or a colour.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        if s.trim().eq_ignore_ascii_case("extend") {
            Some(Self::Extend)
        } else {
            parse_color(s).map(Self::Color)
        }
    }
}

/// Linear interpolation between colour stops at `t` in [0, 1]. `stops` are (position, colour)
/// with increasing positions in [0, 1].
#[must_use]
pub fn ramp_at(stops: &[(f64, Rgba)], t: f64) -> Rgba {
    let Some(first) = stops.first() else {
        return TRANSPARENT;
    };
    if t <= first.0 {
        return first.1;
    }
    for w in stops.windows(2) {
        let (a, b) = (w[0], w[1]);
        if t <= b.0 {
            let f = if b.0 > a.0 {
                (t - a.0) / (b.0 - a.0)
            } else {
                1.0
            };
            return std::array::from_fn(|k| {
                (f64::from(a.1[k]) + f * (f64::from(b.1[k]) - f64::from(a.1[k]))).round() as u8
            });
        }
    }
    stops.last().map_or(TRANSPARENT, |s| s.1)
}

/// The colour mapping of one request: a style with its request overrides applied, ready to
/// colour millions of values. Values are in the field's native unit; the unit transform of
/// the style is folded in here.
#[derive(Debug, Clone)]
pub struct ColorMap {
    /// Unit transform: displayed = native·scale + offset.
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
    /// Lower end of the colour range (displayed unit).
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// Logarithmic spacing of the range (min must be > 0).
    pub log: bool,
    /// One colour per band, `bands` entries (continuous ramps).
    pub lut: Vec<Rgba>,
    /// Discrete intervals `[lo, hi)` → colour, sorted (interval styles; empty for ramps).
    pub intervals: Vec<(f64, f64, Rgba)>,
    /// Below `min`.
    pub below: Rgba,
    /// Above `max`.
    pub above: Rgba,
    /// Missing values.
    pub nodata: Rgba,
    /// Multiplier of alpha, 0..=255.
    pub opacity: u8,
}

impl ColorMap {
    /// Colour of one native value (NaN = missing).
    #[inline]
    #[must_use]
    pub fn color(&self, native: f32) -> Rgba {
        let c = self.color_display(
            f64::from(native) * self.scale + self.offset,
            native.is_nan(),
        );
        if self.opacity == 255 {
            c
        } else {
            [
                c[0],
                c[1],
                c[2],
                ((u16::from(c[3]) * u16::from(self.opacity)) / 255) as u8,
            ]
        }
    }

    fn color_display(&self, v: f64, missing: bool) -> Rgba {
        if missing || v.is_nan() {
            return self.nodata;
        }
        if !self.intervals.is_empty() {
            let k = self.intervals.partition_point(|iv| iv.1 <= v);
            return match self.intervals.get(k) {
                Some(iv) if v >= iv.0 => iv.2,
                Some(_) if k == 0 => self.below,
                Some(_) => TRANSPARENT,
                None => self.above,
            };
        }
        if v < self.min {
            return self.below;
        }
        if v > self.max {
            return self.above;
        }
        let t = self.position(v);
        let n = self.lut.len();
        let k = ((t * n as f64) as usize).min(n.saturating_sub(1));
        self.lut.get(k).copied().unwrap_or(TRANSPARENT)
    }

    /// Position of a displayed value in the range, 0..=1.
    #[must_use]
    pub fn position(&self, v: f64) -> f64 {
        let t = if self.log && self.min > 0.0 && v > 0.0 {
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// Displayed value at a range position 0..=1 (inverse of [`ColorMap::position`]).
    #[must_use]
    pub fn value_at(&self, t: f64) -> f64 {
        if self.log && self.min > 0.0 {
            (self.min.ln() + t * (self.max.ln() - self.min.ln())).exp()
        } else {
            self.min + t * (self.max - self.min)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse() {
        assert_eq!(parse_color("#ff0000"), Some([255, 0, 0, 255]));
        assert_eq!(parse_color("#f00"), Some([255, 0, 0, 255]));
        assert_eq!(parse_color("#ff000080"), Some([255, 0, 0, 128]));
        assert_eq!(parse_color("0x80ff0000"), Some([255, 0, 0, 128]));
        assert_eq!(parse_color("0x00ff00"), Some([0, 255, 0, 255]));
        assert_eq!(parse_color("transparent"), Some(TRANSPARENT));
        assert_eq!(parse_color("#zz0000"), None);
        assert_eq!(parse_color("red"), None);
    }

    #[test]
    fn lut_bands_and_ends() {
        let stops = [(0.0, [0, 0, 0, 255]), (1.0, [255, 255, 255, 255])];
        let cm = ColorMap {
            scale: 1.0,
            offset: 0.0,
            min: 0.0,
            max: 10.0,
            log: false,
            lut: (0..10)
                .map(|b| ramp_at(&stops, (b as f64 + 0.5) / 10.0))
                .collect(),
            intervals: vec![],
            below: [1, 2, 3, 255],
            above: [4, 5, 6, 255],
            nodata: TRANSPARENT,
            opacity: 255,
        };
        assert_eq!(cm.color(-1.0), [1, 2, 3, 255]);
        assert_eq!(cm.color(11.0), [4, 5, 6, 255]);
        assert_eq!(cm.color(f32::NAN), TRANSPARENT);
        assert_eq!(cm.color(0.5), cm.lut[0]);
        assert_eq!(cm.color(9.99), cm.lut[9]);
        assert_eq!(cm.color(10.0), cm.lut[9]);
    }
}
