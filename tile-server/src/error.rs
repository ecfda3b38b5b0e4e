//! One error type for the whole API, and one table from error kind to HTTP status and OGC
//! exception code. WMS routes render errors as an OGC `ServiceExceptionReport`; the other
//! routes as a small JSON object.

use std::fmt::Write as _;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::render::RenderError;
use crate::routes::wms::WmsVersion;
use crate::source::SourceError;

/// Result alias of the server.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The layer does not exist.
    #[error("layer `{0}` is not defined")]
    LayerNotDefined(String),
    /// The style does not exist or does not apply to the layer.
    #[error("style `{0}` is not defined for this layer")]
    StyleNotDefined(String),
    /// The CRS is unknown or unsupported.
    #[error("CRS `{0}` is not supported")]
    InvalidCrs(String),
    /// A dimension value is not one the layer has.
    #[error("invalid value `{value}` for dimension {dim}")]
    InvalidDimensionValue {
        /// Dimension name.
        dim: &'static str,
        /// The value asked for.
        value: String,
    },
    /// A dimension parameter was given empty.
    #[error("dimension {0} needs a value")]
    MissingDimensionValue(&'static str),
    /// The output format is not supported.
    #[error("format `{0}` is not supported")]
    InvalidFormat(String),
    /// The `GetFeatureInfo` point is outside the image.
    #[error("invalid point: {0}")]
    InvalidPoint(String),
    /// A required parameter is missing.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter does not parse or is out of range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Unknown WMS request or service.
    #[error("operation `{0}` is not supported")]
    OperationNotSupported(String),
    /// A path that names nothing (tiles out of range, unknown files).
    #[error("not found: {0}")]
    NotFound(String),
    /// The render budget (bytes or slots) stayed exhausted for the whole wait: transient.
    #[error("server busy: the render budget is exhausted, retry later")]
    Busy,
    /// The request alone needs more render memory than the whole budget allows.
    #[error("the request needs {needed} bytes of render memory, more than the server's budget of {budget}; ask for a smaller image or fewer layers")]
    TooExpensive {
        /// Estimated bytes of the request.
        needed: u64,
        /// `limits.render_budget_mb` in bytes.
        budget: u64,
    },
    /// A layer's data cannot give the field asked for.
    #[error("layer `{layer}`: {source}")]
    Data {
        /// The layer.
        layer: String,
        /// Why (transient or not: see the table); boxed, as the rare case.
        source: Box<SourceError>,
    },
    /// The rendering pipeline refused the request or failed.
    #[error("{0}")]
    Render(RenderError),
    /// A fault of the server.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The one mapping table: HTTP status and OGC exception code of every kind.
    ///
    /// 503 means "transient, retry" (and carries `Retry-After`); a record that can never
    /// decode is the data's fault and answers 500 `DataCorrupt`, which proxies and clients
    /// do not retry.
    #[must_use]
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::LayerNotDefined(_) => (StatusCode::NOT_FOUND, "LayerNotDefined"),
            Self::StyleNotDefined(_) => (StatusCode::BAD_REQUEST, "StyleNotDefined"),
            Self::InvalidCrs(_) | Self::Render(RenderError::Crs { .. }) => {
                (StatusCode::BAD_REQUEST, "InvalidCRS")
            }
            Self::InvalidDimensionValue { .. } => {
                (StatusCode::BAD_REQUEST, "InvalidDimensionValue")
            }
            Self::MissingDimensionValue(_) => (StatusCode::BAD_REQUEST, "MissingDimensionValue"),
            Self::InvalidFormat(_) => (StatusCode::BAD_REQUEST, "InvalidFormat"),
            Self::InvalidPoint(_) => (StatusCode::BAD_REQUEST, "InvalidPoint"),
            Self::MissingParameter(_) => (StatusCode::BAD_REQUEST, "MissingParameterValue"),
            Self::InvalidParameter { .. } | Self::TooExpensive { .. } => {
                (StatusCode::BAD_REQUEST, "InvalidParameterValue")
            }
            Self::OperationNotSupported(_) => (StatusCode::BAD_REQUEST, "OperationNotSupported"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NotFound"),
            Self::Busy => (StatusCode::SERVICE_UNAVAILABLE, "ServerBusy"),
            Self::Data { source, .. } => match source.as_ref() {
                SourceError::Changed { .. } | SourceError::Unreadable { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "DataUnavailable")
                }
                SourceError::Undecodable { .. }
                | SourceError::NotAField { .. }
                | SourceError::Grid { .. }
                | SourceError::TooLarge { .. } => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "DataCorrupt")
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "NoApplicableCode"),
            },
            Self::Render(_) | Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "NoApplicableCode")
            }
        }
    }

    /// A data error of `layer`.
    #[must_use]
    pub fn data(layer: &str, source: SourceError) -> Self {
        Self::Data {
            layer: layer.to_string(),
            source: Box::new(source),
        }
    }

    /// Shorthand for [`ApiError::InvalidParameter`].
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }

    /// Log server-side errors once, with the causes the client does not see (the full
    /// path of a file, fst-core's own message).
    fn log(&self) {
        let status = self.status_and_code().0;
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            let mut text = self.to_string();
            let mut cause: Option<&dyn std::error::Error> = match self {
                Self::Data { source, .. } => std::error::Error::source(source.as_ref()),
                _ => None,
            };
            while let Some(c) = cause {
                let _ = write!(text, " <- {c}");
                cause = c.source();
            }
            tracing::error!("{text}");
        }
    }

    /// The response headers every rendering of this error carries (`Retry-After` on 503).
    fn decorate(&self, r: &mut Response) {
        if self.status_and_code().0 == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
    }
}

impl From<RenderError> for ApiError {
    fn from(e: RenderError) -> Self {
        Self::Render(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "error": code, "message": self.to_string() }).to_string();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.decorate(&mut r);
        r
    }
}

/// An [`ApiError`] answered as an OGC `ServiceExceptionReport` (WMS routes).
#[derive(Debug)]
pub struct WmsError {
    /// The error.
    pub error: ApiError,
    /// The WMS version asked for (its own content type and schema version).
    pub version: WmsVersion,
}

/// Escape text for XML content and attribute values.
#[must_use]
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

impl IntoResponse for WmsError {
    fn into_response(self) -> Response {
        self.error.log();
        let (status, code) = self.error.status_and_code();
        let msg = xml_escape(&self.error.to_string());
        let root = match self.version {
            WmsVersion::V111 => "<ServiceExceptionReport version=\"1.1.1\">".to_string(),
            WmsVersion::V130 => "<ServiceExceptionReport version=\"1.3.0\" \
                 xmlns=\"http://www.opengis.net/ogc\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:schemaLocation=\"http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">"
                .to_string(),
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{root}\n  \
             <ServiceException code=\"{code}\">{msg}</ServiceException>\n</ServiceExceptionReport>\n"
        );
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.version.exception_type()),
        );
        self.error.decorate(&mut r);
        r
    }
}
