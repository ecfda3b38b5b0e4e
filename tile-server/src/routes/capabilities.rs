//! The WMS capabilities document (1.3.0 and 1.1.1), cached per catalog generation. The two
//! versions share one walk over the catalog; [`WmsVersion`] says how each element is spelled.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::wms::{base_url, WmsVersion};
use crate::dims::{self, iso};
use crate::error::xml_escape as esc;
use crate::obs::wms::{fingerprint, time_extent, Summary};
use crate::params::Params;
use crate::render::to_web_mercator;
use crate::source::{bbox_pm180, Layer, Snapshot};
use crate::state::AppState;

/// CRSs listed in capabilities (any other EPSG code of a 2-D map CRS also works through
/// PROJ).
pub const ADVERTISED_CRS: [&str; 6] = [
    "EPSG:3857",
    "EPSG:4326",
    "CRS:84",
    "EPSG:3978",
    "EPSG:3995",
    "EPSG:900913",
];

/// The capabilities response.
pub(crate) fn capabilities(
    state: &AppState,
    headers: &HeaderMap,
    p: &Params,
    version: WmsVersion,
    obs: &[Summary],
) -> Response {
    let base = base_url(state, headers);
    let snap = state.snapshot();
    let only = p.get("layers").filter(|l| !l.is_empty());
    // Built once per catalog generation (and version, host, filter): a capabilities document
    // of many layers takes milliseconds, and clients ask for it often.
    let key = format!(
        "{}|{}|{base}|{}|{}",
        snap.generation,
        version.number(),
        only.unwrap_or(""),
        fingerprint(obs)
    );
    let x = state.capabilities.get(&key).unwrap_or_else(|| {
        let doc = Document {
            state,
            base: &base,
            version,
            obs,
        };
        let x = Arc::new(doc.xml(&snap, only));
        state.capabilities.put(key, Arc::clone(&x));
        x
    });
    let mut r = x.as_str().to_owned().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(version.capabilities_type()),
    );
    r
}

/// What one capabilities document is written for.
struct Document<'a> {
    state: &'a AppState,
    base: &'a str,
    version: WmsVersion,
    /// The observation layers (listed as a group of their own, after the fields).
    obs: &'a [Summary],
}

impl Document<'_> {
    fn xml(&self, snap: &Snapshot, only: Option<&str>) -> String {
        let only: Option<Vec<&str>> = only.map(|l| l.split(',').collect());
        let mut x = String::new();
        self.root_open(&mut x, snap.generation);
        self.service(&mut x);
        self.requests(&mut x);
        x.push_str("  <Layer>\n    <Title>fstgis</Title>\n");
        let crs_tag = self.version.crs_key();
        for c in ADVERTISED_CRS {
            let _ = writeln!(x, "    <{crs_tag}>{c}</{crs_tag}>");
        }
        let layers: Vec<&Arc<Layer>> = snap
            .layers
            .values()
            .filter(|l| only.as_ref().is_none_or(|o| o.contains(&l.name.as_str())))
            .collect();
        let obs: Vec<&Summary> = self
            .obs
            .iter()
            .filter(|s| {
                only.as_ref()
                    .is_none_or(|o| o.contains(&s.layer.name.as_str()))
            })
            .collect();
        let all = layers
            .iter()
            .map(|l| bbox_pm180(l.bbox))
            .chain(obs.iter().map(|s| s.extent.bbox))
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
            .unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        self.geo_bbox(&mut x, all, "    ");
        for l in layers {
            self.layer(&mut x, l);
        }
        if !obs.is_empty() {
            self.observations(&mut x, &obs);
        }
        x.push_str("  </Layer>\n</Capability>\n");
        x.push_str(match self.version {
            WmsVersion::V111 => "</WMT_MS_Capabilities>\n",
            WmsVersion::V130 => "</WMS_Capabilities>\n",
        });
        x
    }

    fn root_open(&self, x: &mut String, generation: u64) {
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = match self.version {
            WmsVersion::V111 => writeln!(
                x,
                "<WMT_MS_Capabilities version=\"1.1.1\" updateSequence=\"{generation}\">"
            ),
            WmsVersion::V130 => writeln!(
                x,
                "<WMS_Capabilities version=\"1.3.0\" updateSequence=\"{generation}\" xmlns=\"http://www.opengis.net/wms\" \
                 xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:schemaLocation=\"http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd\">"
            ),
        };
    }

    fn url(&self) -> String {
        esc(&format!("{}/wms?", self.base))
    }

    fn service(&self, x: &mut String) {
        let name = match self.version {
            WmsVersion::V111 => "OGC:WMS",
            WmsVersion::V130 => "WMS",
        };
        let _ = write!(
            x,
            "<Service>\n  <Name>{name}</Name>\n  <Title>fstgis: RPN standard files (FST)</Title>\n  <Abstract>Weather model fields served directly from FST files.</Abstract>\n  \
             <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{}\"/>\n  <Fees>none</Fees>\n  <AccessConstraints>none</AccessConstraints>\n",
            self.url()
        );
        // Size limits are elements of 1.3.0 only.
        if self.version == WmsVersion::V130 {
            let lim = &self.state.config.limits;
            let _ = write!(
                x,
                "  <LayerLimit>{}</LayerLimit>\n  <MaxWidth>{}</MaxWidth>\n  <MaxHeight>{}</MaxHeight>\n",
                lim.max_layers.max(1),
                lim.max_width,
                lim.max_height
            );
        }
        x.push_str("</Service>\n<Capability>\n");
    }

    fn requests(&self, x: &mut String) {
        let dcp = format!(
            "<DCPType><HTTP><Get><OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{}\"/></Get></HTTP></DCPType>",
            self.url()
        );
        x.push_str("  <Request>\n");
        let _ = writeln!(
            x,
            "    <GetCapabilities><Format>{}</Format>{dcp}</GetCapabilities>",
            self.version.capabilities_type()
        );
        let _ = writeln!(x, "    <GetMap><Format>image/png</Format>{dcp}</GetMap>");
        let _ = writeln!(x, "    <GetFeatureInfo><Format>application/json</Format><Format>text/plain</Format><Format>text/xml</Format>{dcp}</GetFeatureInfo>");
        x.push_str("  </Request>\n");
        let exception_format = match self.version {
            WmsVersion::V111 => "application/vnd.ogc.se_xml",
            WmsVersion::V130 => "XML",
        };
        let _ = writeln!(
            x,
            "  <Exception><Format>{exception_format}</Format></Exception>"
        );
    }

    fn geo_bbox(&self, x: &mut String, b: [f64; 4], ind: &str) {
        let e = b[2].min(180.0);
        let _ = match self.version {
            WmsVersion::V111 => writeln!(
                x,
                "{ind}<LatLonBoundingBox minx=\"{}\" miny=\"{}\" maxx=\"{e}\" maxy=\"{}\"/>",
                b[0], b[1], b[3]
            ),
            WmsVersion::V130 => writeln!(
                x,
                "{ind}<EX_GeographicBoundingBox><westBoundLongitude>{}</westBoundLongitude><eastBoundLongitude>{e}</eastBoundLongitude>\
                 <southBoundLatitude>{}</southBoundLatitude><northBoundLatitude>{}</northBoundLatitude></EX_GeographicBoundingBox>",
                b[0], b[1], b[3]
            ),
        };
    }

    /// The projected bounding boxes of a layer: EPSG:4326 (authority axis order in 1.3.0,
    /// plus CRS:84 there) and EPSG:3857.
    fn bounding_boxes(&self, x: &mut String, b: [f64; 4], ind: &str) {
        let tag = self.version.crs_key();
        let (w, s, e, n) = (b[0], b[1], b[2], b[3]);
        match self.version {
            WmsVersion::V111 => {
                let _ = writeln!(x, "{ind}<BoundingBox SRS=\"EPSG:4326\" minx=\"{w}\" miny=\"{s}\" maxx=\"{e}\" maxy=\"{n}\"/>");
            }
            WmsVersion::V130 => {
                let _ = writeln!(x, "{ind}<BoundingBox CRS=\"CRS:84\" minx=\"{w}\" miny=\"{s}\" maxx=\"{e}\" maxy=\"{n}\"/>");
                let _ = writeln!(x, "{ind}<BoundingBox CRS=\"EPSG:4326\" minx=\"{s}\" miny=\"{w}\" maxx=\"{n}\" maxy=\"{e}\"/>");
            }
        }
        let (x0, y0) = to_web_mercator(w, s);
        let (x1, y1) = to_web_mercator(e, n);
        let _ = writeln!(
            x,
            "{ind}<BoundingBox {tag}=\"EPSG:3857\" minx=\"{x0}\" miny=\"{y0}\" maxx=\"{x1}\" maxy=\"{y1}\"/>"
        );
    }

    fn dimensions(&self, x: &mut String, l: &Layer, ind: &str) {
        let dt = dims::default_time(l).map(iso).unwrap_or_default();
        let times = dims::time_extent(&l.times);
        let runs = dims::time_extent(&l.runs);
        let dr = l.runs.last().map(|t| iso(*t)).unwrap_or_default();
        let levels: Vec<String> = l.levels.iter().map(dims::level_text).collect();
        // The level a request without ELEVATION draws (the run and time by default may lack
        // the layer's first level).
        let dl = esc(&dims::default_level(l).unwrap_or_default());
        let levels = esc(&levels.join(","));
        let lunits = esc(if l.level_units.is_empty() {
            "code"
        } else {
            &l.level_units
        });
        match self.version {
            // 1.1.1 declares a dimension and gives its values in a separate Extent.
            WmsVersion::V111 => {
                let _ = write!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\"/>\n{ind}<Dimension name=\"elevation\" units=\"{lunits}\"/>\n{ind}<Dimension name=\"reference_time\" units=\"ISO8601\"/>\n");
                let _ = writeln!(
                    x,
                    "{ind}<Extent name=\"time\" default=\"{dt}\" nearestValue=\"0\">{times}</Extent>"
                );
                let _ = writeln!(
                    x,
                    "{ind}<Extent name=\"elevation\" default=\"{dl}\">{levels}</Extent>"
                );
                let _ = writeln!(
                    x,
                    "{ind}<Extent name=\"reference_time\" default=\"{dr}\">{runs}</Extent>"
                );
            }
            WmsVersion::V130 => {
                let _ = writeln!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\" default=\"{dt}\" nearestValue=\"0\">{times}</Dimension>");
                let _ = writeln!(
                    x,
                    "{ind}<Dimension name=\"elevation\" units=\"{lunits}\" default=\"{dl}\">{levels}</Dimension>"
                );
                let _ = writeln!(x, "{ind}<Dimension name=\"reference_time\" units=\"ISO8601\" default=\"{dr}\">{runs}</Dimension>");
            }
        }
    }

    /// The observation layers: a group (a layer with a title and no name) after the fields.
    fn observations(&self, x: &mut String, obs: &[&Summary]) {
        x.push_str("    <Layer>\n      <Title>Observations</Title>\n");
        x.push_str("      <Abstract>Observations of the IODA files and io-pool sets: one layer per variable (and channel); suffixes .ObsError, .HofX and .OmB (ObsValue − HofX) where the file has them. TIME selects an assimilation window; by default only observations with QC flag 0 (EffectiveQC, else PreQC) are drawn, QC=N draws flags 0 to N (QC=3: NCEP prepbufr's usable quality marks), QC=all every observation; RADIUS sets the circle radius in pixels.</Abstract>\n");
        let all = obs
            .iter()
            .map(|s| s.extent.bbox)
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
            .unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        self.geo_bbox(x, all, "      ");
        let ind = "        ";
        for s in obs {
            let l = &s.layer;
            let _ = write!(
                x,
                "      <Layer queryable=\"1\" opaque=\"0\">\n{ind}<Name>{}</Name>\n{ind}<Title>{}</Title>\n{ind}<Abstract>variable {}; units {}</Abstract>\n",
                esc(&l.name),
                esc(&l.title()),
                esc(&l.variable),
                esc(l.units.as_deref().unwrap_or("unknown"))
            );
            self.geo_bbox(x, s.extent.bbox, ind);
            self.bounding_boxes(x, s.extent.bbox, ind);
            if let Some((extent, default)) = time_extent(&s.extent) {
                match self.version {
                    WmsVersion::V111 => {
                        let _ = writeln!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\"/>");
                        let _ = writeln!(
                            x,
                            "{ind}<Extent name=\"time\" default=\"{default}\">{extent}</Extent>"
                        );
                    }
                    WmsVersion::V130 => {
                        let _ = writeln!(x, "{ind}<Dimension name=\"time\" units=\"ISO8601\" default=\"{default}\">{extent}</Dimension>");
                    }
                }
            }
            for (name, title) in &s.styles {
                let href = esc(&format!(
                    "{}/wms?SERVICE=WMS&VERSION={}&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={}&STYLE={name}",
                    self.base,
                    self.version.number(),
                    l.name
                ));
                let _ = writeln!(
                    x,
                    "{ind}<Style><Name>{}</Name><Title>{}</Title><LegendURL width=\"110\" height=\"300\"><Format>image/png</Format>\
                     <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{href}\"/></LegendURL></Style>",
                    esc(name),
                    esc(title)
                );
            }
            x.push_str("      </Layer>\n");
        }
        x.push_str("    </Layer>\n");
    }

    fn layer(&self, x: &mut String, l: &Layer) {
        let ind = "      ";
        let _ = write!(
            x,
            "    <Layer queryable=\"1\" opaque=\"0\">\n{ind}<Name>{}</Name>\n{ind}<Title>{}</Title>\n",
            esc(&l.name),
            esc(&l.title)
        );
        let _ = writeln!(
            x,
            "{ind}<Abstract>nomvar {} typvar {} etiket {}; native unit {}; grid {}</Abstract>",
            esc(&l.nomvar),
            esc(&l.typvar),
            esc(&l.etiket),
            esc(if l.units.is_empty() {
                "unknown"
            } else {
                &l.units
            }),
            l.grid.grtyp()
        );
        let b = bbox_pm180(l.bbox);
        self.geo_bbox(x, b, ind);
        self.bounding_boxes(x, b, ind);
        self.dimensions(x, l, ind);
        for s in self.state.styles.for_layer(&l.nomvar, l.vector) {
            let href = esc(&format!(
                "{}/wms?SERVICE=WMS&VERSION={}&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER={}&STYLE={}",
                self.base,
                self.version.number(),
                l.name,
                s.name
            ));
            let _ = writeln!(
                x,
                "{ind}<Style><Name>{}</Name><Title>{}</Title><LegendURL width=\"110\" height=\"300\"><Format>image/png</Format>\
                 <OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{href}\"/></LegendURL></Style>",
                esc(&s.name),
                esc(&s.title)
            );
        }
        x.push_str("    </Layer>\n");
    }
}
