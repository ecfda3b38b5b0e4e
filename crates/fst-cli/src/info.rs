//! `fst info`: what a file holds, at a glance.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use fst_core::{FstFile, OpenOptions, RecordMeta};
use serde_json::json;

use crate::describe::{iso, level_text};

#[derive(Args)]
pub(crate) struct InfoArgs {
    /// The files (each summarised in turn; an unreadable one is reported and the others
    /// summarised, and the exit status is 1).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print each summary as one JSON object (several files: a JSON array of them).
    #[arg(long)]
    json: bool,
}

#[derive(Default)]
struct Variable {
    records: usize,
    levels: Vec<String>,
    times: Vec<String>,
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn grid_key(r: &RecordMeta) -> String {
    format!(
        "{} {}x{} ig=({}, {}, {}, {})",
        r.grtyp_char(),
        r.ni,
        r.nj,
        r.ig1,
        r.ig2,
        r.ig3,
        r.ig4
    )
}

pub(crate) fn run(args: &InfoArgs) -> anyhow::Result<()> {
    // Written with `?`: a closed pipe (`fst info *.fst | head`) ends the command quietly
    // (main treats BrokenPipe as success) instead of panicking in `print!`.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let [path] = args.files.as_slice() {
        let (text, json, file) = summary(path)?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        } else {
            out.write_all(text.as_bytes())?;
        }
        return fail_if_truncated(path, &file);
    }
    // Several files: every one summarised, failures said as they come and counted.
    let progress = crate::Progress::new(args.files.len());
    let (mut failed, mut jsons) = (0usize, Vec::new());
    for (n, path) in args.files.iter().enumerate() {
        progress.step(n, &path.display().to_string());
        let (text, json, file) = match summary(path) {
            Ok(s) => s,
            Err(e) => {
                out.flush()?;
                crate::report(&e);
                failed += 1;
                continue;
            }
        };
        if args.json {
            jsons.push(json);
        } else {
            if n > 0 {
                writeln!(out)?;
            }
            out.write_all(text.as_bytes())?;
        }
        if let Err(e) = fail_if_truncated(path, &file) {
            out.flush()?;
            crate::report(&e);
            failed += 1;
        }
    }
    progress.finish();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&jsons)?)?;
    }
    out.flush()?;
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} files could not be summarised whole",
            args.files.len()
        );
    }
    Ok(())
}

/// The summary of one file, as text and as JSON, with the open file.
fn summary(path: &std::path::Path) -> anyhow::Result<(String, serde_json::Value, FstFile)> {
    let file = FstFile::open_with(path, OpenOptions::new())?;
    let size = std::fs::metadata(path)?.len();
    let mut vars: BTreeMap<(String, String, String), Variable> = BTreeMap::new();
    let mut grids: BTreeMap<String, usize> = BTreeMap::new();
    let mut range: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> = None;
    for r in file.records() {
        let key = (
            r.nomvar.trimmed().to_string(),
            r.typvar.trimmed().to_string(),
            r.etiket.trimmed().to_string(),
        );
        let v = vars.entry(key).or_default();
        v.records += 1;
        push_unique(&mut v.levels, level_text(r));
        if let Some(t) = iso(r.datev) {
            push_unique(&mut v.times, t);
        }
        *grids.entry(grid_key(r)).or_default() += 1;
        if let Some(t) = fst_core::date::DateStamp(r.datev).to_datetime() {
            range = Some(range.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
    }
    let vertical = crate::vertical::coordinates(&file);
    let fmt_time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let out = json!({
        "file": path.display().to_string(),
        "container": file.container().name(),
        "size_bytes": size,
        "records": file.records().len(),
        "directory_entries": file.entry_count(),
        "variables": vars.iter().map(|((n, t, e), v)| json!({
            "nomvar": n, "typvar": t, "etiket": e, "records": v.records, "levels": v.levels, "times": v.times,
        })).collect::<Vec<_>>(),
        "grids": grids.iter().map(|(g, n)| json!({"grid": g, "records": n})).collect::<Vec<_>>(),
        "vertical": vertical.iter().map(crate::vertical::Coordinate::json).collect::<Vec<_>>(),
        "datev_range": range.map(|(a, b)| json!([fmt_time(a), fmt_time(b)])),
        "diagnostics": file.diagnostics(),
    });
    let mut s = String::new();
    writeln!(s, "file:        {}", path.display())?;
    writeln!(s, "container:   {} ({size} bytes)", file.container())?;
    writeln!(
        s,
        "records:     {} live, {} directory entries ({} deleted)",
        file.records().len(),
        file.entry_count(),
        file.entry_count()
            .saturating_sub(file.records().len() as u64)
    )?;
    match range {
        Some((a, b)) => writeln!(s, "valid dates: {} .. {}", fmt_time(a), fmt_time(b))?,
        None => writeln!(s, "valid dates: none")?,
    }
    writeln!(s, "variables:   {}", vars.len())?;
    for ((n, t, e), v) in &vars {
        writeln!(
            s,
            "  {n:<4} {t:<2} {e:<12} {:>6} records, {} levels [{}], {} times [{}]",
            v.records,
            v.levels.len(),
            abbreviate(&v.levels),
            v.times.len(),
            abbreviate(&v.times)
        )?;
    }
    writeln!(s, "grids:       {}", grids.len())?;
    for (g, n) in &grids {
        writeln!(s, "  {g}: {n} records")?;
    }
    if !vertical.is_empty() {
        writeln!(s, "vertical:    {}", vertical.len())?;
        for c in &vertical {
            writeln!(s, "  {}", c.text())?;
        }
    }
    for d in file.diagnostics() {
        writeln!(s, "note:        at byte {}: {}", d.offset, d.message)?;
    }
    Ok((s, out, file))
}

/// An error once the summary is out when the file ends before what it announces: what it
/// lists may be incomplete, which a script must not take for a complete file.
fn fail_if_truncated(path: &std::path::Path, file: &FstFile) -> anyhow::Result<()> {
    match file.diagnostics().iter().find(|d| d.truncated) {
        Some(d) => anyhow::bail!(
            "{} is truncated at byte {}: the summary may miss records (`fst ls --recover` \
             lists those that can still be read)",
            path.display(),
            d.offset
        ),
        None => Ok(()),
    }
}

/// At most four items, then an ellipsis with the count left out.
fn abbreviate(items: &[String]) -> String {
    if items.len() <= 4 {
        return items.join(", ");
    }
    format!(
        "{}, … ({} more), {}",
        items[..3].join(", "),
        items.len() - 4,
        items[items.len() - 1]
    )
}
