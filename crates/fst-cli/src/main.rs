//! `fst`: list, inspect and dump RPN standard files (XDF and RSF), and observation files
//! (`fst ioda`).

mod cmd_cp;
mod cmd_grid;
mod cmd_ioda;
mod cmd_rm;
mod describe;
mod dump;
mod info;
mod npy;
mod vertical;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use fst_core::{FstFile, OpenOptions, Query};

/// List, inspect and dump RPN standard files (FST), in either container (XDF or RSF).
#[derive(Parser)]
#[command(name = "fst", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List records, like the RPN `voir` tool: a table, or JSON lines with --json.
    Ls(LsArgs),
    /// Summarise a file: container, records, variables, levels, times, grids, date range.
    Info(info::InfoArgs),
    /// Write one record's decoded values as a `NumPy` .npy file.
    Dump(dump::DumpArgs),
    /// A record's grid: CRS (PROJ + WKT), affine transform, reference grid type.
    Grid(cmd_grid::GridArgs),
    /// A record's latitude/longitude arrays as a `NumPy` .npz (lat, lon; float64, (nj, ni)).
    Coords(cmd_grid::CoordsArgs),
    /// Copy the selected records (and the positional records their grids need) into a file,
    /// like ECCC's `editfst`: new keys, repacking, either container.
    Cp(cmd_cp::CpArgs),
    /// Delete the selected records of a file.
    Rm(cmd_rm::RmArgs),
    /// Observation files (IODA HDF5 v1/v2/v3, io-pool sets, ODB-2): `info` and `dump`.
    Ioda(cmd_ioda::IodaArgs),
}

/// Record selection, with librmn's rules: an option left out matches everything.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct Selection {
    /// Variable name.
    #[arg(long)]
    nomvar: Option<String>,
    /// Field type.
    #[arg(long)]
    typvar: Option<String>,
    /// Label.
    #[arg(long)]
    etiket: Option<String>,
    /// ip1: the encoded value (-1: any), or a level with librmn's unit (`850mb`, `0.995sg`,
    /// `10M`, `1500m`, `0.5hy`, `330th`), which matches it in either encoding (old or new
    /// style), as librmn's `ip1_all` does.
    #[arg(long, allow_hyphen_values = true, value_name = "IP1|LEVEL")]
    ip1: Option<String>,
    /// ip2: the encoded value (-1: any), or a value with its unit (`12H`), either encoding.
    #[arg(long, allow_hyphen_values = true, value_name = "IP2|VALUE")]
    ip2: Option<String>,
    /// ip3: the encoded value (-1: any), or a value with its unit, either encoding.
    #[arg(long, allow_hyphen_values = true, value_name = "IP3|VALUE")]
    ip3: Option<String>,
    /// Valid date-time, ISO-8601 UTC (e.g. 2024-06-16T00:00:00Z).
    #[arg(long)]
    datev: Option<String>,
    /// Grid type (one character).
    #[arg(long)]
    grtyp: Option<char>,
}

impl Selection {
    /// True when `--nomvar` names `nomvar` (compared as librmn compares names).
    pub(crate) fn names_nomvar(&self, nomvar: &str) -> bool {
        self.nomvar
            .as_deref()
            .is_some_and(|n| n.trim_end().eq_ignore_ascii_case(nomvar.trim_end()))
    }

    /// The selection as a [`Selector`].
    pub(crate) fn selector(&self) -> anyhow::Result<Selector> {
        let mut levels: [Option<Vec<u32>>; 3] = [None, None, None];
        let mut query = self.query()?;
        for (n, (option, v)) in [
            ("--ip1", &self.ip1),
            ("--ip2", &self.ip2),
            ("--ip3", &self.ip3),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(v) = v else { continue };
            match parse_ip(option, v)? {
                IpArg::Any => {}
                IpArg::Code(c) => {
                    query = match n {
                        0 => query.ip1(i64::from(c)),
                        1 => query.ip2(i64::from(c)),
                        _ => query.ip3(i64::from(c)),
                    };
                }
                IpArg::Codes(codes) => {
                    if let Some(slot) = levels.get_mut(n) {
                        *slot = Some(codes);
                    }
                }
            }
        }
        Ok(Selector { query, levels })
    }

    fn query(&self) -> anyhow::Result<Query> {
        let mut q = Query::new();
        if let Some(v) = &self.nomvar {
            q = q.nomvar(v);
        }
        if let Some(v) = &self.typvar {
            q = q.typvar(v);
        }
        if let Some(v) = &self.etiket {
            q = q.etiket(v);
        }
        if let Some(v) = &self.datev {
            q = q.datev(parse_date("--datev", v)?.0);
        }
        if let Some(g) = self.grtyp {
            q = q.grtyp(u8::try_from(g).context("--grtyp must be an ASCII character")?);
        }
        Ok(q)
    }
}

/// Records chosen by a [`Selection`]: librmn's search keys, and the levels given with a unit,
/// each as the set of its encodings.
pub(crate) struct Selector {
    query: Query,
    levels: [Option<Vec<u32>>; 3],
}

impl Selector {
    /// The records of `file` the selection matches, in directory order.
    pub(crate) fn find<'a>(
        &'a self,
        file: &'a FstFile,
    ) -> impl Iterator<Item = &'a fst_core::RecordMeta> + 'a {
        file.find(&self.query).filter(|r| {
            [r.ip1, r.ip2, r.ip3]
                .iter()
                .zip(&self.levels)
                .all(|(ip, codes)| codes.as_ref().is_none_or(|c| c.contains(ip)))
        })
    }

    /// True when nothing was selected: every record matches.
    pub(crate) fn is_everything(&self) -> bool {
        self.query == Query::new() && self.levels.iter().all(Option::is_none)
    }
}

/// An `--ip1`/`--ip2`/`--ip3` argument.
#[derive(Debug, PartialEq)]
enum IpArg {
    /// -1: any value.
    Any,
    /// An encoded value, matched exactly.
    Code(u32),
    /// A value with its unit: the encodings that stand for it.
    Codes(Vec<u32>),
}

/// Parse an ip argument: a code, -1, or a value followed by one of librmn's units (`mb`,
/// `sg`, `m`, `M`, `hy`, `th`, `m-`, `H`, `_0`, `[]`, `mp`; `hPa` for `mb`), with or without a
/// space. Units are case-sensitive, as in librmn (`m` above sea level, `M` above ground).
fn parse_ip(option: &str, v: &str) -> anyhow::Result<IpArg> {
    use fst_core::ip::{encode_ip, IpStyle, LevelKind};
    let t = v.trim();
    if t == "-1" {
        return Ok(IpArg::Any);
    }
    if let Ok(code) = t.parse::<u32>() {
        return Ok(IpArg::Code(code));
    }
    let mut kinds: Vec<(&str, LevelKind)> = LevelKind::ALL
        .iter()
        .map(|&k| (k.unit(), k))
        .filter(|(u, _)| !u.is_empty())
        .collect();
    kinds.push(("hPa", LevelKind::Pressure));
    // Longest unit first: `mb`, `mp` and `m-` before `m`.
    kinds.sort_by_key(|(u, _)| std::cmp::Reverse(u.len()));
    let parsed = kinds.iter().find_map(|&(unit, kind)| {
        let number = t.strip_suffix(unit)?.trim_end();
        number.parse::<f32>().ok().map(|value| (value, kind))
    });
    let Some((value, kind)) = parsed else {
        bail!(
            "{option} {v:?}: expected an encoded value (-1 for any) or a value with its unit, \
             such as 850mb, 0.995sg, 10M, 1500m, 0.5hy, 12H"
        );
    };
    let mut codes: Vec<u32> = [IpStyle::New, IpStyle::Old]
        .into_iter()
        .filter_map(|style| encode_ip(value, kind, style).ok())
        .collect();
    // Hours were stored as plain integers before the new style.
    if kind == LevelKind::Hours && value >= 0.0 && value.fract() == 0.0 && value < 32768.0 {
        codes.push(value as u32);
    }
    if codes.is_empty() {
        bail!("{option} {v:?}: {value} {} cannot be encoded", kind.unit());
    }
    codes.dedup();
    Ok(IpArg::Codes(codes))
}

/// An ISO-8601 UTC date-time given to `option`, as a CMC date stamp.
pub(crate) fn parse_date(option: &str, v: &str) -> anyhow::Result<fst_core::date::DateStamp> {
    let text = v.trim();
    // A CMC date-time stamp as librmn's tools print it (9 digits: no date form has 9).
    if text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()) {
        let stamp = fst_core::date::DateStamp(text.parse().unwrap_or(0));
        if stamp.to_datetime().is_some() {
            return Ok(stamp);
        }
    }
    let when = parse_utc(text).with_context(|| {
        format!(
            "{option} {v:?}: expected a date-time such as 2024-06-16T00:00:00Z, 2024-06-16T06:00 \
             or 2024-06-16 (UTC), 2024061606 (YYYYMMDDHH[MM[SS]]) or a 9-digit CMC stamp"
        )
    })?;
    fst_core::date::DateStamp::from_datetime(&when)
        .with_context(|| format!("{option} {v:?} has no CMC date stamp"))
}

/// An ISO-8601 date-time (with its zone, or UTC without one), a date (00 UTC), or the compact
/// `YYYYMMDDHH[MM[SS]]` of operational tools.
fn parse_utc(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{NaiveDate, NaiveDateTime, Utc};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .or_else(|| {
        let digits = text.bytes().all(|b| b.is_ascii_digit());
        let padded = match text.len() {
            10 => format!("{text}0000"),
            12 => format!("{text}00"),
            14 => text.to_string(),
            _ => return None,
        };
        digits
            .then(|| NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").ok())
            .flatten()
    })?;
    Some(naive.and_utc())
}

#[derive(Args)]
struct LsArgs {
    /// Files to list.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    select: Selection,
    /// One JSON object per record per line, with the fixture manifests' field names.
    #[arg(long)]
    json: bool,
    /// Also list records of unfinished RSF segments (written by a crashed or running writer),
    /// found by walking the record framing; librmn never shows them.
    #[arg(long)]
    recover: bool,
}

/// Shows progress on stderr when it is a terminal and the work is long.
pub(crate) struct Progress {
    enabled: bool,
    total: usize,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        Self {
            enabled: total > 1 && std::io::stderr().is_terminal(),
            total,
        }
    }

    pub(crate) fn step(&self, done: usize, what: &str) {
        if self.enabled {
            eprint!("\r\x1b[K[{}/{}] {what}", done + 1, self.total);
        }
    }

    pub(crate) fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }
}

fn ls(args: &LsArgs) -> anyhow::Result<()> {
    let selector = args.select.selector()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let progress = Progress::new(args.files.len());
    let many = args.files.len() > 1;
    let mut unreadable = 0usize;
    // Files that opened but end before what they announce (RSF: a segment cut short).
    let mut cut = 0usize;
    for (n, path) in args.files.iter().enumerate() {
        progress.step(n, &path.display().to_string());
        let file = match FstFile::open_with(path, OpenOptions::new().recover(args.recover)) {
            Ok(f) => f,
            // One bad file among many does not hide the others: say why, list the rest, and
            // fail at the end.
            Err(e) if many => {
                out.flush()?;
                report(&anyhow::Error::from(e));
                unreadable += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let name = path.display().to_string();
        if args.json {
            for rec in selector.find(&file) {
                serde_json::to_writer(
                    &mut out,
                    &describe::record_json(rec, many.then_some(name.as_str())),
                )?;
                out.write_all(b"\n")?;
            }
        } else {
            if many {
                writeln!(out, "{name}:")?;
            }
            writeln!(out, "{}", describe::TABLE_HEADER)?;
            for rec in selector.find(&file) {
                writeln!(out, "{}", describe::table_row(rec))?;
            }
        }
        out.flush()?;
        for d in file.diagnostics() {
            eprintln!("fst: {name}: note at byte {}: {}", d.offset, d.message);
        }
        if !args.recover && file.diagnostics().iter().any(|d| d.truncated) {
            cut += 1;
        }
    }
    progress.finish();
    out.flush()?;
    if let ([path], 1) = (args.files.as_slice(), cut) {
        anyhow::bail!(
            "{} is truncated: the listing may miss records (--recover lists those that can \
             still be read)",
            path.display()
        );
    }
    if unreadable > 0 || cut > 0 {
        let n = args.files.len();
        let mut why = Vec::new();
        if unreadable > 0 {
            why.push(format!("{unreadable} of {n} files could not be read"));
        }
        if cut > 0 {
            why.push(format!(
                "{cut} of {n} files {} truncated, {} listing incomplete (--recover lists the \
                 records that can still be read)",
                if cut == 1 { "is" } else { "are" },
                if cut == 1 { "its" } else { "their" }
            ));
        }
        anyhow::bail!("{}", why.join("; "));
    }
    Ok(())
}

/// Print an error and its causes on stderr.
pub(crate) fn report(e: &anyhow::Error) {
    eprintln!("fst: error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Ls(args) => ls(args),
        Command::Info(args) => info::run(args),
        Command::Dump(args) => dump::run(args),
        Command::Grid(args) => cmd_grid::run_grid(args),
        Command::Coords(args) => cmd_grid::run_coords(args),
        Command::Cp(args) => cmd_cp::run(args),
        Command::Rm(args) => cmd_rm::run(args),
        Command::Ioda(args) => cmd_ioda::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`fst ls big.fst | head`) is not an error worth reporting.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            report(&e);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_in_the_forms_users_type() {
        // Only RFC 3339 with a zone was accepted: a date, a date-time without zone, the
        // compact YYYYMMDDHH of operational scripts and CMC stamps were refused.
        let want = parse_date("--datev", "2024-06-15T12:00:00Z").unwrap();
        for form in [
            "2024-06-15T12:00:00",
            "2024-06-15T12:00",
            "2024-06-15 12:00:00",
            "2024-06-15T14:00:00+02:00",
            "2024061512",
            "202406151200",
            "20240615120000",
        ] {
            assert_eq!(parse_date("--datev", form).unwrap(), want, "{form}");
        }
        let midnight = parse_date("--datev", "2024-06-15T00:00:00Z").unwrap();
        assert_eq!(parse_date("--datev", "2024-06-15").unwrap(), midnight);
        let stamp = want.0.to_string();
        assert_eq!(stamp.len(), 9);
        assert_eq!(parse_date("--datev", &stamp).unwrap(), want);
        for bad in ["2024-13-01", "20240615", "tomorrow", "2024061525", ""] {
            let e = parse_date("--datev", bad).unwrap_err().to_string();
            assert!(e.contains("--datev"), "{bad}: {e}");
        }
    }
}
