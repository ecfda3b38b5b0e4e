# Sourced by smoke.sh and campaign.sh: the fuzz targets and the longest input each one takes.
# An input longer than the fixtures that matter only slows a target down: FST seeds are cut at
# 32 KiB (payload decoding of bigger records is the codecs target's job; the corpus holds
# every fixture up to that size), a codec case needs a header and some payload words, a
# query string is short, a grid descriptor is 28 bytes plus its positional values.
targets=(open_decode codecs rsf_walk tile_params driver_open grids_descriptor)
declare -A max_len=(
  [open_decode]=32768
  [codecs]=65536
  [rsf_walk]=32768
  [tile_params]=4096
  [driver_open]=32768
  [grids_descriptor]=4096
)
# Extra libFuzzer flags per target. The targets that reach PROJ (tile_params, driver_open,
# grids_descriptor) keep a PROJ context and its CRS cache per thread for the life of the
# process, by design; LeakSanitizer reports them at exit (as "indirect leaks" of libproj
# objects), so leak detection is off there. The pure-Rust targets keep it.
declare -A extra=(
  [tile_params]="-dict=$here/dicts/tile_params.dict -detect_leaks=0"
  [driver_open]="-detect_leaks=0"
  [grids_descriptor]="-detect_leaks=0"
)
# libFuzzer's -detect_leaks=0 only stops the checks between runs: LeakSanitizer still looks
# at exit, where the main thread's PROJ caches (thread-locals, never destroyed at exit) show
# up as leaks. The same targets get it off there too.
#
# tile_params renders on every valid request: under ASan its RSS grows ~0.18 MB per 1 000
# executions with the default 256 MB quarantine (the server alone stays flat over 1.4 M
# replayed requests), which would reach the 2 GB limit before 10 M. A small quarantine that
# memory is handed back from keeps it at ~0.11 MB per 1 000 (237 MB after 540 000).
declare -A asan=(
  [tile_params]="detect_leaks=0:quarantine_size_mb=8:allocator_release_to_os_interval_ms=500"
  [driver_open]="detect_leaks=0"
  [grids_descriptor]="detect_leaks=0"
)
# Flags every run uses: a crash, a 20 s input, or 2 GB of RSS is a finding.
common=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
