# Sourced by tests/run.sh and scripts/oracle-random.sh: build the FST plugin,
# place it as <dir>/3.6/gdal_FST.so, export what GDAL, QGIS and pytest need, and check that
# GDAL loads it. Expects $root (the repository) and leaves the current directory there.
#   FSTGIS_GDAL_PROFILE=debug|release   (default: debug, like `cargo test`)
profile="${FSTGIS_GDAL_PROFILE:-debug}"
cd "$root"
scripts/build-tools.sh "$profile"
plugin_dir="$(gdal-driver/install-plugin.sh --profile "$profile")"
export GDAL_DRIVER_PATH="$plugin_dir"
export FSTGIS_REQUIRE_DRIVER=1
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# Statistics computed by the tests (gdalinfo -stats, QGIS) must not leave .aux.xml files
# next to the fixtures.
export GDAL_PAM_ENABLED=NO
gdalinfo --formats | grep -E '^\s*FST ' || { echo "gdal_FST.so did not load" >&2; exit 1; }
