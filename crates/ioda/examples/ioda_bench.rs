//! Opens an observation file or io-pool set and reads what a map layer needs: latitude,
//! longitude (normalised), the observation times (as UTC instants) and one variable, with
//! their missing masks. Prints the best wall time of N runs and checksums that
//! `bench/ioda_vs_h5py.sh` compares with h5py's reading of the same file.
//!
//!     ioda_bench FILE VARIABLE [REPEAT]

use std::process::ExitCode;
use std::time::Instant;

use ioda::ObsDataset;

/// Count and sum of the values not missing.
fn checksum(data: &ioda::VariableData) -> (usize, f64) {
    data.to_f64()
        .into_iter()
        .filter(|v| !v.is_nan())
        .fold((0, 0.0), |(n, s), v| (n + 1, s + v))
}

fn run(path: &str, variable: &str, repeat: usize) -> Result<(), ioda::Error> {
    let mut best = f64::INFINITY;
    let mut best_phases = [0.0; 5];
    let mut sums = Vec::new();
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let mut phases = [0.0; 5];
        let mut lap = Instant::now();
        let mut mark = |phase: usize| {
            phases[phase] = lap.elapsed().as_secs_f64();
            lap = Instant::now();
        };
        let dataset = ObsDataset::open(path)?;
        mark(0);
        let lat = dataset.latitudes()?;
        mark(1);
        let lon = dataset.longitudes()?;
        mark(2);
        let times = dataset.date_times()?;
        mark(3);
        let values = dataset.read(variable)?;
        mark(4);
        let total = start.elapsed().as_secs_f64();
        if total < best {
            best = total;
            best_phases = phases;
        }
        sums = vec![
            checksum(&lat),
            checksum(&lon),
            checksum(&times),
            checksum(&values),
        ];
    }
    println!("best_seconds {best:.6}");
    let phases: Vec<String> = ["open", "latitude", "longitude", "dateTime", variable]
        .iter()
        .zip(best_phases)
        .map(|(name, seconds)| format!("{name} {:.1} ms", seconds * 1000.0))
        .collect();
    println!("phases {}", phases.join(", "));
    for (name, (count, sum)) in ["latitude", "longitude", "dateTime", variable]
        .iter()
        .zip(sums)
    {
        println!("checksum {name} {count} {sum:.6e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(variable)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: ioda_bench FILE VARIABLE [REPEAT]");
        return ExitCode::from(2);
    };
    let repeat = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    match run(path, variable, repeat) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ioda_bench: {error}");
            ExitCode::FAILURE
        }
    }
}
