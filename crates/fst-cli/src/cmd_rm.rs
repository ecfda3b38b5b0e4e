//! `fst rm`: delete the selected records of a file, as librmn deletes them (the directory
//! entry and the record are marked deleted; the space is not reclaimed).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use fst_core::write::{FstWriter, WriteOptions};
use fst_core::FstFile;

use crate::{describe, Selection};

#[derive(Args)]
pub(crate) struct RmArgs {
    /// The file to delete records from.
    file: PathBuf,
    #[command(flatten)]
    select: Selection,
    /// Delete every record when no selection option is given (otherwise refused).
    #[arg(long)]
    all: bool,
    /// List the records that would be deleted; change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(crate) fn run(args: &RmArgs) -> anyhow::Result<()> {
    let selector = args.select.selector()?;
    if selector.is_everything() && !args.all {
        bail!(
            "{}: no selection given; select records (--nomvar, --ip1, …) or add --all to delete every record",
            args.file.display()
        );
    }
    let file = FstFile::open(&args.file)
        .with_context(|| format!("{}: cannot open", args.file.display()))?;
    let doomed: Vec<_> = selector.find(&file).collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(out, "{}", describe::TABLE_HEADER)?;
    for rec in &doomed {
        writeln!(out, "{}", describe::table_row(rec))?;
    }
    out.flush()?;
    // Deleting a grid's positional records (or a vertical descriptor) orphans the fields that
    // need them: say so.
    let gone: std::collections::HashSet<u32> = doomed.iter().map(|r| r.index.0).collect();
    for p in &doomed {
        let users = file
            .records()
            .iter()
            .filter(|r| !gone.contains(&r.index.0) && crate::cmd_cp::references(r, p))
            .count();
        if users > 0 {
            eprintln!(
                "fst: note: record {} ({:?}) describes the grid or levels of {users} record(s) that stay",
                p.index,
                p.nomvar.trimmed()
            );
        }
    }
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    if args.dry_run || doomed.is_empty() {
        eprintln!(
            "fst: {verb} {} record(s) of {}",
            doomed.len(),
            args.file.display()
        );
        return Ok(());
    }
    let mut writer = FstWriter::append(&args.file, WriteOptions::new(file.container()))?;
    let mut n = 0usize;
    for rec in &doomed {
        let done = writer.delete(rec).with_context(|| {
            format!(
                "{}: record {} ({:?}): cannot delete ({n} deleted before it)",
                args.file.display(),
                rec.index,
                rec.nomvar.trimmed()
            )
        })?;
        n += usize::from(done);
    }
    writer.close()?;
    eprintln!("fst: {verb} {n} record(s) of {}", args.file.display());
    Ok(())
}
