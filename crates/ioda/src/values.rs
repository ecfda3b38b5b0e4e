//! Typed values of a variable, its attributes, and the missing-value rule.

/// A variable's values in their storage type, flattened in row-major order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Values {
    /// Signed 8-bit integers.
    I8(Vec<i8>),
    /// Signed 16-bit integers.
    I16(Vec<i16>),
    /// Signed 32-bit integers.
    I32(Vec<i32>),
    /// Signed 64-bit integers.
    I64(Vec<i64>),
    /// Unsigned 8-bit integers.
    U8(Vec<u8>),
    /// Unsigned 16-bit integers.
    U16(Vec<u16>),
    /// Unsigned 32-bit integers.
    U32(Vec<u32>),
    /// Unsigned 64-bit integers.
    U64(Vec<u64>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 64-bit floats.
    F64(Vec<f64>),
    /// Strings (variable-length, fixed-length, or char arrays with the string axis removed).
    Text(Vec<String>),
}

/// Applies `$body` to the vector inside any numeric variant, or `$text` to the strings.
macro_rules! each_values {
    ($values:expr, $v:ident => $body:expr, $s:ident => $text:expr) => {
        match $values {
            Values::I8($v) => $body,
            Values::I16($v) => $body,
            Values::I32($v) => $body,
            Values::I64($v) => $body,
            Values::U8($v) => $body,
            Values::U16($v) => $body,
            Values::U32($v) => $body,
            Values::U64($v) => $body,
            Values::F32($v) => $body,
            Values::F64($v) => $body,
            Values::Text($s) => $text,
        }
    };
}

impl Values {
    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        each_values!(self, v => v.len(), s => s.len())
    }

    /// True when there are no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage type's name, as netCDF spells it.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Values::I8(_) => "byte",
            Values::I16(_) => "short",
            Values::I32(_) => "int",
            Values::I64(_) => "int64",
            Values::U8(_) => "ubyte",
            Values::U16(_) => "ushort",
            Values::U32(_) => "uint",
            Values::U64(_) => "uint64",
            Values::F32(_) => "float",
            Values::F64(_) => "double",
            Values::Text(_) => "string",
        }
    }

    /// Element `index` as `f64` (integers above 2^53 round), or `None` for strings
    /// and out-of-range indices.
    #[must_use]
    // The macro applies one cast to every numeric type, `f64` included.
    #[allow(clippy::unnecessary_cast)]
    pub fn get_f64(&self, index: usize) -> Option<f64> {
        each_values!(self, v => v.get(index).map(|x| *x as f64), _s => None)
    }

    /// Every element as `f64` (integers above 2^53 round, strings are NaN), in one pass per
    /// type rather than a type dispatch per element.
    #[must_use]
    #[allow(clippy::unnecessary_cast)] // one cast for every numeric type, `f64` included
    pub fn to_f64_vec(&self) -> Vec<f64> {
        each_values!(self, v => v.iter().map(|x| *x as f64).collect(), s => vec![f64::NAN; s.len()])
    }

    /// Element `index` as text: numbers in their shortest round-trip form.
    #[must_use]
    pub fn get_text(&self, index: usize) -> Option<String> {
        each_values!(self, v => v.get(index).map(ToString::to_string), s => s.get(index).cloned())
    }

    /// Appends the values of `other`, which must have the same storage type.
    pub(crate) fn extend(&mut self, other: Values) -> Result<(), (&'static str, &'static str)> {
        match (self, other) {
            (Values::I8(a), Values::I8(b)) => a.extend(b),
            (Values::I16(a), Values::I16(b)) => a.extend(b),
            (Values::I32(a), Values::I32(b)) => a.extend(b),
            (Values::I64(a), Values::I64(b)) => a.extend(b),
            (Values::U8(a), Values::U8(b)) => a.extend(b),
            (Values::U16(a), Values::U16(b)) => a.extend(b),
            (Values::U32(a), Values::U32(b)) => a.extend(b),
            (Values::U64(a), Values::U64(b)) => a.extend(b),
            (Values::F32(a), Values::F32(b)) => a.extend(b),
            (Values::F64(a), Values::F64(b)) => a.extend(b),
            (Values::Text(a), Values::Text(b)) => a.extend(b),
            (a, b) => return Err((a.type_name(), b.type_name())),
        }
        Ok(())
    }
}

/// An attribute value; integer attributes widen to `i64` (exactly), floats to `f64` (exactly).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttrValue {
    /// Integers of any width that fit in `i64`.
    Ints(Vec<i64>),
    /// Unsigned 64-bit integers when one of them is above `i64::MAX` (`u64::MAX`, a `uint64`
    /// variable's usual `_FillValue`): as floats they lost their low bits and matched nothing.
    UInts(Vec<u64>),
    /// Floats of either width.
    Floats(Vec<f64>),
    /// Strings: one per element; fixed-length and variable-length alike.
    Text(Vec<String>),
}

impl AttrValue {
    /// The first element as a string, when the attribute is text.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AttrValue::Text(v) => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// The first element as `f64`, when the attribute is numeric.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Ints(v) => v.first().map(|x| *x as f64),
            AttrValue::UInts(v) => v.first().map(|x| *x as f64),
            AttrValue::Floats(v) => v.first().copied(),
            AttrValue::Text(_) => None,
        }
    }

    /// The first element as `i64`, when the attribute is an integer that fits.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            AttrValue::Ints(v) => v.first().copied(),
            AttrValue::UInts(v) => v.first().and_then(|x| i64::try_from(*x).ok()),
            _ => None,
        }
    }
}

impl std::fmt::Display for AttrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn join<T: std::fmt::Display>(
            f: &mut std::fmt::Formatter<'_>,
            v: &[T],
        ) -> std::fmt::Result {
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            Ok(())
        }
        match self {
            AttrValue::Ints(v) => join(f, v),
            AttrValue::UInts(v) => join(f, v),
            AttrValue::Floats(v) => join(f, v),
            AttrValue::Text(v) => {
                let quoted: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
                join(f, &quoted)
            }
        }
    }
}

/// A named attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Name as stored.
    pub name: String,
    /// Value.
    pub value: AttrValue,
}

/// Finds an attribute by name.
#[must_use]
pub fn find_attribute<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a AttrValue> {
    attributes.iter().find(|a| a.name == name).map(|a| &a.value)
}

/// Floats whose magnitude exceeds this are missing: every writer's float fill
/// (`f32::MAX`, `-0.99·f32::MAX`, netCDF's 9.97e36) is beyond it, no observation is (eva's rule).
pub const FLOAT_MISSING_THRESHOLD: f64 = 1.0e30;
/// 32-bit integers that mean missing in IODA files whatever `_FillValue` says:
/// OOPS's missing value and bufr2ioda's `i32::MAX`.
pub const INT32_MISSING: [i64; 2] = [-2_147_483_643, 2_147_483_647];
/// 64-bit integers that mean missing: OOPS, bufr2ioda (`i64::MAX`) and netCDF's default fill.
pub const INT64_MISSING: [i64; 3] = [
    -9_223_372_036_854_775_801,
    9_223_372_036_854_775_807,
    -9_223_372_036_854_775_806,
];
/// The OOPS missing string.
pub const STRING_MISSING: &str = "*** MISSING ***";

/// `x` as an `i64` when it is an integer well inside `i64`'s range (NaN, fractions,
/// infinities and magnitudes from 9e18 up are none).
pub(crate) fn exact_i64(x: f64) -> Option<i64> {
    (x.fract() == 0.0 && x.abs() < 9.0e18).then_some(x as i64)
}

/// The missing mask of `values`: an element is missing if it equals `_FillValue` or
/// `missing_value` (compared in the storage type), is NaN or beyond
/// [`FLOAT_MISSING_THRESHOLD`] (floats), equals one of the sentinels above (32/64-bit
/// integers), equals netCDF's default fill of its type when there is no `_FillValue`
/// (integers other than bytes), or is the OOPS missing string.
#[must_use]
pub fn missing_mask(values: &Values, attributes: &[Attribute]) -> Vec<bool> {
    let fills: Vec<&AttrValue> = ["_FillValue", "missing_value"]
        .iter()
        .filter_map(|name| find_attribute(attributes, name))
        .collect();
    let int_fills: Vec<i64> = fills
        .iter()
        .filter_map(|v| match v {
            AttrValue::Ints(x) => x.first().copied(),
            // Above i64::MAX: only a uint64 variable can hold it (see `u64_fills`).
            AttrValue::UInts(x) => x.first().and_then(|x| i64::try_from(*x).ok()),
            // A float fill on an integer variable only counts when it is an integer.
            AttrValue::Floats(x) => x.first().and_then(|f| exact_i64(*f)),
            AttrValue::Text(_) => None,
        })
        .collect();
    // A uint64 variable's fills in its own type, `u64::MAX` included (it matched nothing when
    // the attribute was a float).
    let u64_fills: Vec<u64> = fills
        .iter()
        .filter_map(|v| match v {
            AttrValue::Ints(x) => x.first().and_then(|x| u64::try_from(*x).ok()),
            AttrValue::UInts(x) => x.first().copied(),
            AttrValue::Floats(x) => x
                .first()
                .filter(|f| f.fract() == 0.0 && (0.0..2f64.powi(64)).contains(*f))
                .map(|f| *f as u64),
            AttrValue::Text(_) => None,
        })
        .collect();
    let float_fills: Vec<f64> = fills.iter().filter_map(|v| v.as_f64()).collect();
    // Without `_FillValue`, netCDF's default fill of the type marks values never written
    // (netCDF4-python masks them too; like it, bytes are exempt).
    let default_fill = |fill: i64| {
        if find_attribute(attributes, "_FillValue").is_none() {
            Some(fill)
        } else {
            None
        }
    };
    let int_mask = |x: i64, sentinels: &[i64], default: Option<i64>| {
        int_fills.contains(&x) || sentinels.contains(&x) || default == Some(x)
    };
    match values {
        Values::I8(v) => v
            .iter()
            .map(|x| int_mask(i64::from(*x), &[], None))
            .collect(),
        Values::I16(v) => {
            let d = default_fill(-32_767);
            v.iter().map(|x| int_mask(i64::from(*x), &[], d)).collect()
        }
        Values::I32(v) => {
            let d = default_fill(-2_147_483_647);
            v.iter()
                .map(|x| int_mask(i64::from(*x), &INT32_MISSING, d))
                .collect()
        }
        Values::I64(v) => v
            .iter()
            .map(|x| int_mask(*x, &INT64_MISSING, None))
            .collect(),
        Values::U8(v) => v
            .iter()
            .map(|x| int_mask(i64::from(*x), &[], None))
            .collect(),
        Values::U16(v) => {
            let d = default_fill(65_535);
            v.iter().map(|x| int_mask(i64::from(*x), &[], d)).collect()
        }
        Values::U32(v) => {
            let d = default_fill(4_294_967_295);
            v.iter().map(|x| int_mask(i64::from(*x), &[], d)).collect()
        }
        Values::U64(v) => v
            .iter()
            .map(|x| *x == u64::MAX - 1 && default_fill(0).is_some() || u64_fills.contains(x))
            .collect(),
        Values::F32(v) => {
            // The fill is defined in the storage type: compare as f32, not as the f64 widening.
            let fills: Vec<f32> = float_fills.iter().map(|f| *f as f32).collect();
            v.iter()
                .map(|x| {
                    x.is_nan() || f64::from(x.abs()) > FLOAT_MISSING_THRESHOLD || fills.contains(x)
                })
                .collect()
        }
        Values::F64(v) => v
            .iter()
            .map(|x| x.is_nan() || x.abs() > FLOAT_MISSING_THRESHOLD || float_fills.contains(x))
            .collect(),
        Values::Text(v) => {
            let text_fills: Vec<&str> = fills.iter().filter_map(|f| f.as_text()).collect();
            v.iter()
                .map(|s| s == STRING_MISSING || text_fills.contains(&s.as_str()))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_f64_vec_agrees_with_get_f64_for_every_type() {
        let all = [
            Values::I8(vec![-128, 0, 127]),
            Values::I16(vec![-32_767, 5]),
            Values::I32(vec![i32::MIN, 2_147_483_647]),
            Values::I64(vec![-9_223_372_036_854_775_801, 1_718_496_000]),
            Values::U8(vec![255]),
            Values::U16(vec![65_535]),
            Values::U32(vec![4_294_967_295]),
            Values::U64(vec![u64::MAX]),
            Values::F32(vec![f32::MAX, -0.5, f32::MIN_POSITIVE]),
            Values::F64(vec![9.97e36, -1.0e-300]),
        ];
        for values in &all {
            let each: Vec<f64> = (0..values.len())
                .filter_map(|i| values.get_f64(i))
                .collect();
            assert_eq!(values.to_f64_vec(), each, "{}", values.type_name());
        }
        let text = Values::Text(vec!["a".into(), "b".into()]).to_f64_vec();
        assert!(text.len() == 2 && text.iter().all(|v| v.is_nan()));
    }

    fn fill(value: AttrValue) -> Vec<Attribute> {
        vec![Attribute {
            name: "_FillValue".into(),
            value,
        }]
    }

    #[test]
    fn floats_use_fill_threshold_and_nan() {
        let v = Values::F32(vec![
            1.0,
            -999.0,
            f32::MAX,
            -3.368_795_3e38,
            f32::NAN,
            9.969_21e36,
        ]);
        let m = missing_mask(&v, &fill(AttrValue::Floats(vec![-999.0])));
        assert_eq!(m, [false, true, true, true, true, true]);
        let m = missing_mask(&v, &[]);
        assert_eq!(m, [false, false, true, true, true, true]);
    }

    #[test]
    fn integers_use_fill_and_sentinels_in_their_width() {
        let v = Values::I32(vec![2, -999, 2_147_483_647, -2_147_483_643, 0]);
        assert_eq!(
            missing_mask(&v, &fill(AttrValue::Ints(vec![-999]))),
            [false, true, true, true, false]
        );
        let v = Values::I64(vec![1_653_590_772, i64::MAX, -9_223_372_036_854_775_806]);
        assert_eq!(missing_mask(&v, &[]), [false, true, true]);
        // An i16 never takes the 32-bit sentinels.
        let v = Values::I16(vec![-1, 32767]);
        assert_eq!(missing_mask(&v, &[]), [false, false]);
    }

    #[test]
    fn a_uint64_fill_above_i64_max_is_compared_exactly() {
        // h5py/netCDF4 write `_FillValue = u64::MAX` on uint64 variables (found by
        // tests/ioda/test_random_files.py): it was read as the float 2^64, which no value
        // equals, so every fill was shown as data.
        let v = Values::U64(vec![u64::MAX, u64::MAX - 1, 5, 1 << 63]);
        let attr = fill(AttrValue::UInts(vec![u64::MAX]));
        assert_eq!(missing_mask(&v, &attr), [true, false, false, false]);
        assert_eq!(attr[0].value.to_string(), "18446744073709551615");
        assert_eq!(
            (attr[0].value.as_i64(), attr[0].value.as_f64()),
            (None, Some(2f64.powi(64)))
        );
        let attr = fill(AttrValue::UInts(vec![1 << 63]));
        assert_eq!(missing_mask(&v, &attr), [false, false, false, true]);
        assert_eq!(
            missing_mask(&v, &fill(AttrValue::Ints(vec![5]))),
            [false, false, true, false]
        );
        // Without `_FillValue`, netCDF's default uint64 fill.
        assert_eq!(missing_mask(&v, &[]), [false, true, false, false]);
        // A narrower variable never equals a fill above i64::MAX.
        let v = Values::I64(vec![-1, 0]);
        assert_eq!(
            missing_mask(&v, &fill(AttrValue::UInts(vec![u64::MAX]))),
            [false, false]
        );
    }

    #[test]
    fn strings_use_fill_and_oops_marker() {
        let v = Values::Text(vec!["LEMNT".into(), String::new(), STRING_MISSING.into()]);
        assert_eq!(
            missing_mask(&v, &fill(AttrValue::Text(vec![String::new()]))),
            [false, true, true]
        );
        assert_eq!(missing_mask(&v, &[]), [false, false, true]);
    }
}
