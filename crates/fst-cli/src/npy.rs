//! `NumPy` `.npy` (format 1.0) writing: enough for C-ordered arrays of plain scalars.

use std::io::{self, Write};

/// Write the `.npy` header for an array of `descr` (a `NumPy` dtype string such as `<f4`) and
/// `shape`, C order. The data must follow, little-endian, `shape.product()` elements.
pub(crate) fn write_header(out: &mut impl Write, descr: &str, shape: &[u64]) -> io::Result<()> {
    let dims = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + length (2) + dict + newline must be a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let len = u16::try_from(dict.len()).map_err(io::Error::other)?;
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(dict.as_bytes())
}

/// Write a whole array whose elements are already little-endian bytes.
pub(crate) fn write_array(
    out: &mut impl Write,
    descr: &str,
    shape: &[u64],
    data: &[u8],
) -> io::Result<()> {
    write_header(out, descr, shape)?;
    out.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_parsable() {
        let mut buf = Vec::new();
        write_array(&mut buf, "<f4", &[1, 2, 3], &[0u8; 24]).unwrap();
        assert_eq!(&buf[..8], b"\x93NUMPY\x01\x00");
        let hlen = u16::from_le_bytes([buf[8], buf[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        let header = std::str::from_utf8(&buf[10..10 + hlen]).unwrap();
        assert!(header.contains("'shape': (1, 2, 3)"));
        assert_eq!(buf.len(), 10 + hlen + 24);
    }
}
