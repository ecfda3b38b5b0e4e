//! ip1/ip2/ip3 level and time encodings (placeholder: being written in the date/ip work).
