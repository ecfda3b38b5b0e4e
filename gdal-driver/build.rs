//! Compiles the thin C++ shim (`shim/*.cpp`) against the system GDAL headers and links it,
//! then libgdal and libstdc++ (in that order, after the shim's static library).

use std::process::Command;

fn pkg_config(args: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config").args(args).arg("gdal").output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        _ => {
            println!("cargo:warning=pkg-config gdal failed: install libgdal-dev (scripts/apt-packages.txt)");
            Vec::new()
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=shim");
    println!("cargo:rerun-if-changed=build.rs");
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .warnings(true)
        .flag_if_supported("-fvisibility=hidden");
    for flag in pkg_config(&["--cflags"]) {
        if let Some(dir) = flag.strip_prefix("-I") {
            build.include(dir);
        } else {
            build.flag(&flag);
        }
    }
    let mut files: Vec<_> = std::fs::read_dir("shim")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for f in &files {
        build.file(f);
    }
    build.compile("fst_gdal_shim");
    // After the shim's static library: the libraries it needs.
    for flag in pkg_config(&["--libs"]) {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={lib}");
        }
    }
    if pkg_config(&["--libs"]).is_empty() {
        println!("cargo:rustc-link-lib=dylib=gdal");
    }
    println!("cargo:rustc-link-lib=dylib=stdc++");
    // A missing symbol fails the build instead of the dlopen in a user's QGIS. Not under a
    // sanitizer or in a fuzz build (the fuzz targets link this crate as an rlib): the
    // instrumented plugin then refers to the sanitizer runtime or to the coverage hooks
    // (`cargo fuzz build -s none`), which only an executable provides.
    let instrumented = ["CARGO_CFG_SANITIZE", "CARGO_CFG_FUZZING"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !instrumented {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,defs");
    }
}
