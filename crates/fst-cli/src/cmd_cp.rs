//! `fst cp`: copy selected records into another file (ECCC `editfst`'s everyday job), in
//! either container, with new keys or repacked values; the positional records the copied
//! grids need come along.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use fst_core::codec::{Samples, SamplesRef};
use fst_core::ip::decode_ip;
use fst_core::record::Datyp;
use fst_core::vertical::descriptor_nomvars;
use fst_core::write::{FstWriter, Payload, RecordKeys, Rewrite, WriteOptions, Written};
use fst_core::{Container, FstFile, RecordMeta};

use crate::Selection;

#[derive(Args)]
pub(crate) struct CpArgs {
    /// Source files, then the destination file (last).
    #[arg(required = true, num_args = 2.., value_name = "SRC... DEST")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    select: Selection,
    /// Add to DEST when it exists (without it, an existing DEST is refused).
    #[arg(long)]
    append: bool,
    /// What to do with a record whose search keys all match one already in DEST.
    #[arg(long, value_enum, default_value_t = RewriteArg::Add)]
    rewrite: RewriteArg,
    /// Container of DEST; default: DEST's when it exists, else the first source's.
    #[arg(long, value_enum)]
    to: Option<ContainerArg>,
    #[command(flatten)]
    set: SetKeys,
    /// Repack the selected records with this datyp (decode, then encode). Integer and 64-bit
    /// values become what a float datyp packs; missing values keep their +64 flag. Binary and
    /// character records, and complex ones asked for a real datyp, are copied as they are.
    #[arg(long)]
    datyp: Option<u8>,
    /// Repack the selected records with this many bits per value.
    #[arg(long)]
    nbits: Option<u8>,
}

/// New keys for the selected records (positional records and vertical descriptors keep
/// theirs unless `--nomvar` names them).
#[derive(Args, Debug, Clone, Default)]
#[allow(clippy::struct_field_names)] // the option names are `--set-…`
struct SetKeys {
    /// New variable name.
    #[arg(long, value_name = "NOMVAR")]
    set_nomvar: Option<String>,
    /// New field type.
    #[arg(long, value_name = "TYPVAR")]
    set_typvar: Option<String>,
    /// New label.
    #[arg(long, value_name = "ETIKET")]
    set_etiket: Option<String>,
    /// New encoded ip1.
    #[arg(long, value_name = "IP1")]
    set_ip1: Option<u32>,
    /// New encoded ip2.
    #[arg(long, value_name = "IP2")]
    set_ip2: Option<u32>,
    /// New encoded ip3.
    #[arg(long, value_name = "IP3")]
    set_ip3: Option<u32>,
    /// New origin date, ISO-8601 UTC; the valid date follows (dateo + deet·npas).
    #[arg(long, value_name = "DATE")]
    set_dateo: Option<String>,
    /// New time step length in seconds; the valid date follows.
    #[arg(long, value_name = "SECONDS")]
    set_deet: Option<u32>,
    /// New time step number; the valid date follows.
    #[arg(long, value_name = "N")]
    set_npas: Option<u32>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RewriteArg {
    /// Add the record regardless (librmn's default).
    Add,
    /// Replace the matching record.
    Replace,
    /// Keep the matching record, copy nothing.
    Skip,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ContainerArg {
    /// FST24 (RSF).
    Rsf,
    /// FST98 (XDF).
    Xdf,
}

impl From<ContainerArg> for Container {
    fn from(c: ContainerArg) -> Self {
        match c {
            ContainerArg::Rsf => Container::Rsf,
            ContainerArg::Xdf => Container::Xdf,
        }
    }
}

/// Records that describe other records' grids (`>>`, `^^`, `^>`) or levels (`!!`).
const DESCRIPTORS: [&str; 4] = [">>", "^^", "^>", "!!"];

/// What makes two records the same record: their keys and payload words.
type Fingerprint = (String, String, String, [u32; 16], i32, Vec<u32>);

fn fingerprint(file: &FstFile, r: &RecordMeta) -> anyhow::Result<Fingerprint> {
    Ok((
        r.nomvar.trimmed().to_string(),
        r.typvar.trimmed().to_string(),
        r.etiket.trimmed().to_string(),
        [
            r.ni,
            r.nj,
            r.nk,
            r.deet,
            r.npas,
            r.ip1,
            r.ip2,
            r.ip3,
            r.ig1,
            r.ig2,
            r.ig3,
            r.ig4,
            u32::from(r.grtyp),
            u32::from(r.datyp.0),
            u32::from(r.nbits),
            u32::from(r.dasiz),
        ],
        r.datev,
        file.read_payload_words(r)?,
    ))
}

/// One record to copy.
struct Job {
    source: usize,
    record: usize,
    /// Selected by the user (gets new keys and repacking), or a positional record brought
    /// along (copied as is).
    selected: bool,
}

/// True when `data` needs the descriptor record `p`: its grid's positional records, `>>`/`^^`
/// (Z, Y, `#` grids) or `^>` (U grids) tagged with the grid's ig1–ig3 (ip3 is a wildcard for
/// `#`), or a `!!` tagged with its ig1/ig2; or, for model levels, the vertical descriptors
/// (see [`describes_levels`]).
pub(crate) fn references(data: &RecordMeta, p: &RecordMeta) -> bool {
    let name = p.nomvar.trimmed();
    if describes_levels(data, name) {
        return true;
    }
    let names: &[&str] = match data.grtyp {
        b'Z' | b'Y' | b'#' => &[">>", "^^", "!!"],
        b'U' => &["^>", "!!"],
        _ => return false,
    };
    names.contains(&name)
        && p.ip1 == data.ig1
        && p.ip2 == data.ig2
        && (name == "!!" || data.grtyp == b'#' || p.ip3 == data.ig3)
}

/// True when `name` is a vertical descriptor record that the level of `data` needs: vgrid
/// finds the coordinate of sigma, hybrid and height model levels (ip1 kinds 1, 5 and 21) in
/// a `!!` record, or, in files older than `!!`, GEM 3's `HY` (kinds 1 and 5) and, for eta
/// (sigma levels), the `PT` field of the model top. Without them a copy keeps its levels but
/// loses their pressures. A file holds few of them, and vgrid picks among them by level:
/// every one comes along.
fn describes_levels(data: &RecordMeta, name: &str) -> bool {
    decode_ip(data.ip1).is_ok_and(|level| descriptor_nomvars(level.kind).contains(&name))
}

/// The records to copy from `file`: the selection, plus the positional records that the
/// selected records' grids reference, each once, in directory order.
fn plan(file: &FstFile, selector: &crate::Selector) -> Vec<(usize, bool)> {
    let recs = file.records();
    let chosen: BTreeSet<usize> = selector
        .find(file)
        .map(|r| r.index.0 as usize)
        .filter(|&i| i < recs.len())
        .collect();
    let mut along = BTreeSet::new();
    for r in chosen.iter().filter_map(|&i| recs.get(i)) {
        for (i, p) in recs.iter().enumerate() {
            if references(r, p) && !chosen.contains(&i) {
                along.insert(i);
            }
        }
    }
    let mut all: Vec<(usize, bool)> = chosen.iter().map(|&i| (i, true)).collect();
    all.extend(along.iter().map(|&i| (i, false)));
    all.sort_unstable();
    all
}

fn samples_ref(s: &Samples) -> anyhow::Result<SamplesRef<'_>> {
    Ok(match s {
        Samples::F32(v) => SamplesRef::F32(v),
        Samples::F64(v) => SamplesRef::F64(v),
        Samples::U32(v) => SamplesRef::U32(v),
        Samples::I32(v) => SamplesRef::I32(v),
        Samples::U64(v) => SamplesRef::U64(v),
        Samples::I64(v) => SamplesRef::I64(v),
        Samples::U8(v) => SamplesRef::U8(v),
        Samples::C64(v) => SamplesRef::C64(v),
        Samples::C128(v) => SamplesRef::C128(v),
        Samples::Raw32(v) => SamplesRef::Raw32(v),
        other => bail!("cannot repack {:?} values", other.sample_type()),
    })
}

/// The decoded values as the element type `datyp`/`nbits` packs: float types (1, 5 and 6)
/// take f32, or f64 for IEEE at 64 bits, so that a f64 or integer record can be repacked as
/// editfst would (a whole file of mixed records with one `--datyp`); integer types refuse
/// floats rather than truncate them.
fn convert_for(samples: Samples, datyp: Datyp, nbits: u8) -> anyhow::Result<Samples> {
    let float = match datyp.base() {
        5 if nbits == 64 => {
            return Ok(match samples {
                Samples::I32(v) => Samples::F64(v.into_iter().map(f64::from).collect()),
                Samples::U32(v) => Samples::F64(v.into_iter().map(f64::from).collect()),
                Samples::I64(v) => Samples::F64(v.into_iter().map(|x| x as f64).collect()),
                Samples::U64(v) => Samples::F64(v.into_iter().map(|x| x as f64).collect()),
                other => other,
            })
        }
        1 | 5 | 6 => true,
        2 | 4 => false,
        _ => return Ok(samples),
    };
    Ok(match samples {
        Samples::F64(v) if float => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        Samples::I32(v) if float => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        Samples::U32(v) if float => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        Samples::I64(v) if float => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        Samples::U64(v) if float => Samples::F32(v.into_iter().map(|x| x as f32).collect()),
        Samples::F32(_) | Samples::F64(_) if !float => bail!(
            "float values cannot be repacked as integers (datyp {}); choose a float datyp \
             (1, 5, 6, 133, 134) or select only integer records",
            datyp.0
        ),
        other => other,
    })
}

impl SetKeys {
    fn apply(&self, keys: &mut RecordKeys) -> anyhow::Result<()> {
        if let Some(v) = &self.set_nomvar {
            keys.nomvar.clone_from(v);
        }
        if let Some(v) = &self.set_typvar {
            keys.typvar.clone_from(v);
        }
        if let Some(v) = &self.set_etiket {
            keys.etiket.clone_from(v);
        }
        keys.ip1 = self.set_ip1.unwrap_or(keys.ip1);
        keys.ip2 = self.set_ip2.unwrap_or(keys.ip2);
        keys.ip3 = self.set_ip3.unwrap_or(keys.ip3);
        if self.set_dateo.is_some() || self.set_deet.is_some() || self.set_npas.is_some() {
            if let Some(v) = &self.set_dateo {
                keys.dateo = crate::parse_date("--set-dateo", v)?;
            }
            keys.deet = self.set_deet.unwrap_or(keys.deet);
            keys.npas = self.set_npas.unwrap_or(keys.npas);
            // The stored valid date follows the new origin, step and count.
            keys.datev = None;
        }
        Ok(())
    }
}

/// Extended metadata (a JSON object) and the value bounds it records.
type Extended = (
    Option<serde_json::Map<String, serde_json::Value>>,
    Option<(f64, f64)>,
);

/// The record's RSF extended metadata as an object, and the value bounds it records.
fn metadata(rec: &RecordMeta) -> Extended {
    let Some(Ok(serde_json::Value::Object(m))) = rec.extended_metadata_json() else {
        return (None, None);
    };
    let b = m.get("data").and_then(|d| d.get("bounds"));
    let bound = |k: &str| b.and_then(|b| b.get(k)).and_then(serde_json::Value::as_f64);
    let bounds = bound("min").zip(bound("max"));
    (Some(m), bounds)
}

/// Copy one record into `w`.
fn copy_one(
    w: &mut FstWriter,
    file: &FstFile,
    rec: &RecordMeta,
    selected: bool,
    args: &CpArgs,
) -> anyhow::Result<Written> {
    let mut keys = RecordKeys::from_meta(rec);
    let (meta, bounds) = metadata(rec);
    if w.container() == Container::Rsf {
        keys.metadata = meta;
    }
    // A grid's positional records and the vertical descriptors are edited only when
    // `--nomvar` names them: `--set-nomvar`, `--set-ip1` or a lossy `--datyp` given for a whole
    // file would otherwise cut the fields off their grid and levels.
    let name = rec.nomvar.trimmed();
    let selected = selected && (!DESCRIPTORS.contains(&name) || args.select.names_nomvar(name));
    if selected {
        args.set.apply(&mut keys)?;
    }
    // Binary and character records have nothing to requantise; complex ones are repacked
    // only as complex (a real datyp would drop their imaginary parts).
    let complex_to_real = rec.datyp.base() == 8 && args.datyp.is_some_and(|d| d & 0x3F != 8);
    let repack = selected
        && (args.datyp.is_some() || args.nbits.is_some())
        && !matches!(rec.datyp.base(), 0 | 3 | 7)
        && !complex_to_real;
    if repack {
        let field = file.decode(rec)?;
        let nbits = args.nbits.unwrap_or(rec.nbits);
        let mut datyp = Datyp(args.datyp.unwrap_or(rec.datyp.0));
        // Missing points stay missing: the +64 flag comes along when the record has any.
        if field.missing.as_ref().is_some_and(|m| m.contains(&true))
            && matches!(datyp.base(), 1 | 2 | 4 | 5 | 6)
        {
            datyp = Datyp(datyp.0 | 64);
        }
        let samples = convert_for(field.samples, datyp, nbits)?;
        let values = samples_ref(&samples)?;
        return Ok(w.write(&keys, values, field.missing.as_deref(), datyp, nbits)?);
    }
    let words = file.read_payload_words(rec)?;
    let payload = Payload {
        words: &words,
        datyp: rec.datyp,
        nbits: rec.nbits,
        dasiz: rec.dasiz,
        bounds,
    };
    Ok(w.write_encoded(&keys, &payload)?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Holds DEST's advisory lock while its copy is written, so that no other fstgis writer adds
/// to DEST in the meantime (its records would be lost by the rename).
// `File::try_lock` is std since Rust 1.89; writing needs 1.89 (see fst_core::write).
#[allow(clippy::incompatible_msrv)]
fn lock_dest(dest: &Path) -> anyhow::Result<File> {
    let f = File::open(dest).with_context(|| format!("{}: cannot open", dest.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => {
            bail!("{}: another writer holds its lock", dest.display())
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("{}: cannot lock", dest.display()))
        }
    }
}

/// Removes a temporary file unless disarmed.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[allow(clippy::too_many_lines)] // checks, then one loop; each step commented
pub(crate) fn run(args: &CpArgs) -> anyhow::Result<()> {
    let Some((dest, sources)) = args.paths.split_last() else {
        bail!("give at least one source file and a destination");
    };
    if let Some(n) = args.nbits {
        if !(1..=64).contains(&n) {
            bail!("--nbits {n}: expected 1 to 64");
        }
    }
    let selector = args.select.selector()?;
    let mut files = Vec::new();
    for s in sources {
        if same_file(s, dest) {
            bail!(
                "{}: cannot copy a file into itself (use `fst rm` to delete records)",
                s.display()
            );
        }
        files.push(FstFile::open(s).with_context(|| format!("{}: cannot open", s.display()))?);
    }
    let exists = dest.exists();
    if exists && !args.append {
        bail!(
            "{}: already exists; add --append to copy into it",
            dest.display()
        );
    }
    let dest_file = if exists {
        Some(
            FstFile::open(dest)
                .with_context(|| format!("{}: cannot open the destination", dest.display()))?,
        )
    } else {
        None
    };
    let container = if let Some(d) = &dest_file {
        let found = d.container();
        if let Some(to) = args.to {
            if Container::from(to) != found {
                bail!(
                    "{}: is {found:?} but --to asks for {to:?}; copy into a new file to convert",
                    dest.display()
                );
            }
        }
        found
    } else {
        args.to
            .map(Container::from)
            .or_else(|| files.first().map(FstFile::container))
            .unwrap_or(Container::Rsf)
    };
    let jobs: Vec<Job> = files
        .iter()
        .enumerate()
        .flat_map(|(source, f)| {
            plan(f, &selector)
                .into_iter()
                .map(move |(record, selected)| Job {
                    source,
                    record,
                    selected,
                })
        })
        .collect();
    // Descriptor records brought along go in once: not again when DEST already holds the same
    // record, nor from a second source that has it too (same keys, same payload).
    let along_names: BTreeSet<&str> = jobs
        .iter()
        .filter(|j| !j.selected)
        .filter_map(|j| files.get(j.source)?.records().get(j.record))
        .map(|r| r.nomvar.trimmed())
        .collect();
    let mut present: BTreeSet<Fingerprint> = BTreeSet::new();
    if let Some(d) = &dest_file {
        for r in d
            .records()
            .iter()
            .filter(|r| along_names.contains(r.nomvar.trimmed()))
        {
            present.insert(fingerprint(d, r)?);
        }
    }
    if jobs.is_empty() {
        bail!(
            "no record matches the selection; {} left as it was",
            dest.display()
        );
    }
    let rewrite = match args.rewrite {
        RewriteArg::Add => Rewrite::Add,
        RewriteArg::Replace => Rewrite::Replace,
        RewriteArg::Skip => Rewrite::Skip,
    };
    let options = WriteOptions::new(container).rewrite(rewrite);
    // A new DEST is written under a temporary name by the writer. An existing one is copied
    // to a temporary name, appended to there and renamed over DEST at the end, so that a
    // failed copy leaves DEST as it was.
    let _lock;
    let mut temp = TempGuard(None);
    let mut writer = if exists {
        _lock = lock_dest(dest)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let t = dest.with_file_name(format!(".{name}.cp-{}", std::process::id()));
        temp.0 = Some(t.clone());
        std::fs::copy(dest, &t)
            .with_context(|| format!("{}: cannot copy to {}", dest.display(), t.display()))?;
        FstWriter::append(&t, options)?
    } else {
        FstWriter::create(dest, options)?
    };
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let (mut copied, mut along, mut skipped, mut there) = (0usize, 0usize, 0usize, 0usize);
    for job in &jobs {
        let (Some(file), Some(src)) = (files.get(job.source), sources.get(job.source)) else {
            continue;
        };
        let Some(rec) = file.records().get(job.record) else {
            continue;
        };
        bar.set_message(rec.nomvar.trimmed().to_string());
        if !job.selected {
            let print = fingerprint(file, rec)
                .with_context(|| format!("{}: record {}", src.display(), rec.index))?;
            if !present.insert(print) {
                there += 1;
                bar.inc(1);
                continue;
            }
        }
        match copy_one(&mut writer, file, rec, job.selected, args) {
            Ok(Written::Skipped) => skipped += 1,
            Ok(_) if job.selected => copied += 1,
            Ok(_) => along += 1,
            Err(e) => {
                bar.finish_and_clear();
                // All or nothing: the records this copy added are taken back.
                let _ = writer.discard();
                let left = match (exists, &args.rewrite) {
                    (false, _) => "not created",
                    (true, RewriteArg::Add) => "left as it was",
                    (true, _) => {
                        "the records this copy added taken back, those it replaced not restored"
                    }
                };
                return Err(e.context(format!(
                    "{}: record {} ({:?}): cannot copy to {} ({} {left})",
                    src.display(),
                    rec.index,
                    rec.nomvar.trimmed(),
                    dest.display(),
                    dest.display(),
                )));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    writer.close()?;
    if let Some(t) = temp.0.take() {
        if let Err(e) = std::fs::rename(&t, dest) {
            temp.0 = Some(t);
            return Err(e)
                .with_context(|| format!("{}: cannot replace it with its copy", dest.display()));
        }
    }
    let already = if there > 0 {
        format!(" ({there} already there)")
    } else {
        String::new()
    };
    eprintln!(
        "fst: {copied} record(s) copied, {along} positional record(s) along{already}, {skipped} skipped, to {}",
        dest.display()
    );
    Ok(())
}
