// CreateCopy's fast path for netCDF sources. GDAL 3.6's netCDF driver reads an unchunked
// variable as blocks of one line, one nc_get_vara per line with HDF5's per-call overhead: 100
// bands of 800x600 float32 take 0.69 CPU-s through RasterIO, whether read as float64 or
// float32, against 0.03 s with one hyperslab read per band through the multidimensional API
// (measured; the float64 hyperslab took 0.5 s, HDF5's own conversion, so float32 variables are
// read as float32 and widened here, as GDALCopyWords does).
//
// The slabs must be exactly what RasterIO would give, so the path is taken only where the two
// readers agree by construction, and checked against RasterIO itself. What the classic driver
// does to a float block on its way out (GDAL 3.6, measured in tests/gdal/test_create.py):
//   * NaN becomes the band's nodata value (the variable's _FillValue, or netCDF's default fill
//     when it has none), as the variable's type: done here too;
//   * values outside valid_range / valid_min / valid_max become nodata: such variables are left
//     to RasterIO, as are packed ones (scale_factor / add_offset) and longitude variables (the
//     driver may shift those by 360);
//   * bottom-up variables are turned upside down: band 1 read by RasterIO in full tells.
// Then the first and last line of every other band are compared with RasterIO's. Any doubt
// means RasterIO, for good. Sources that are not the netCDF dataset itself (-srcwin, -b, -ot,
// ... give GDAL a VRT) never get here.

#include "netcdf_slabs.h"

#include "cpl_conv.h"
#include "cpl_error.h"
#include "cpl_string.h"

#include <cmath>
#include <cstring>
#include <string>

namespace {

// The file and the variable of a netCDF dataset description: `NETCDF:"path":var`,
// `NETCDF:path:var` or a plain path (then no variable). false: not understood.
bool NetcdfPathVar(const std::string &description, std::string *path, std::string *var) {
    if (!STARTS_WITH_CI(description.c_str(), "NETCDF:")) {
        *path = description;
        var->clear();
        return !description.empty();
    }
    const std::string rest = description.substr(7);
    size_t colon;
    if (!rest.empty() && rest[0] == '"') {
        const size_t end = rest.find('"', 1);
        if (end == std::string::npos) return false;
        *path = rest.substr(1, end - 1);
        colon = end + 1;
        if (colon >= rest.size() || rest[colon] != ':') return false;
    } else {
        colon = rest.rfind(':');
        if (colon == std::string::npos) return false;
        *path = rest.substr(0, colon);
    }
    *var = rest.substr(colon + 1);
    return !path->empty() && !var->empty();
}

template <typename T> bool SameLine(const T *a, const T *b, size_t n) {
    return std::memcmp(a, b, n * sizeof(T)) == 0;
}

// The GDAL type of a C++ element type.
GDALDataType TypeOf(const double *) { return GDT_Float64; }
GDALDataType TypeOf(const float *) { return GDT_Float32; }

std::string StringAttribute(const std::shared_ptr<GDALMDArray> &array, const char *name) {
    const auto attr = array->GetAttribute(name);
    if (!attr) return std::string();
    const char *s = attr->ReadAsString();
    return s ? std::string(s) : std::string();
}

// What GDAL 3.6's NCDFIsVarLongitude looks at, taken wider: any such hint keeps RasterIO.
bool LooksLikeLongitude(const std::shared_ptr<GDALMDArray> &array, const std::string &var) {
    const std::string units = StringAttribute(array, "units");
    const std::string standard = StringAttribute(array, "standard_name");
    const std::string axis = StringAttribute(array, "axis");
    return STARTS_WITH_CI(var.c_str(), "lon") || STARTS_WITH_CI(units.c_str(), "degree") ||
           EQUAL(standard.c_str(), "longitude") || EQUAL(standard.c_str(), "grid_longitude") ||
           EQUAL(axis.c_str(), "X");
}

}  // namespace

std::unique_ptr<NetcdfSlabs> NetcdfSlabs::Open(GDALDataset *src) {
    // FST_NETCDF_SLABS=NO: always RasterIO (the tests compare both paths' output with it).
    if (!CPLTestBool(CPLGetConfigOption("FST_NETCDF_SLABS", "YES"))) return nullptr;
    GDALDriver *driver = src->GetDriver();
    const int nbands = src->GetRasterCount();
    if (driver == nullptr || !EQUAL(driver->GetDescription(), "netCDF") || nbands < 1) return nullptr;
    GDALRasterBand *band1 = src->GetRasterBand(1);
    const char *var = band1->GetMetadataItem("NETCDF_VARNAME");
    std::string path, named;
    if (var == nullptr || !NetcdfPathVar(src->GetDescription(), &path, &named)) return nullptr;
    // A variable in a group (`NETCDF:f:/g/v`) or a description naming another variable than
    // the band: not worth the doubt.
    if (!named.empty() && named != var) return nullptr;
    int has_nodata = FALSE;
    const double nodata = band1->GetNoDataValue(&has_nodata);
    if (!has_nodata) return nullptr;
    // A probe: whatever fails here only means RasterIO, so GDAL's messages are kept quiet.
    CPLErrorStateBackuper state;
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    std::unique_ptr<NetcdfSlabs> s(new NetcdfSlabs());
    s->ds_.reset(GDALDataset::Open(path.c_str(), GDAL_OF_MULTIDIM_RASTER | GDAL_OF_READONLY));
    if (!s->ds_) return nullptr;
    auto root = s->ds_->GetRootGroup();
    if (!root) return nullptr;
    s->array_ = root->OpenMDArray(var);
    if (!s->array_) return nullptr;
    const auto &dims = s->array_->GetDimensions();
    const auto &type = s->array_->GetDataType();
    if (dims.size() != 3 || type.GetClass() != GEDTC_NUMERIC) return nullptr;
    const GDALDataType dt = type.GetNumericDataType();
    if (dt != GDT_Float32 && dt != GDT_Float64) return nullptr;
    if (band1->GetRasterDataType() != dt) return nullptr;
    s->float32_ = dt == GDT_Float32;
    s->nx_ = static_cast<size_t>(src->GetRasterXSize());
    s->ny_ = static_cast<size_t>(src->GetRasterYSize());
    if (dims[0]->GetSize() != static_cast<GUInt64>(nbands) || dims[1]->GetSize() != s->ny_ ||
        dims[2]->GetSize() != s->nx_)
        return nullptr;
    for (const char *a : {"valid_range", "valid_min", "valid_max", "scale_factor", "add_offset"})
        if (s->array_->GetAttribute(a)) return nullptr;
    if (LooksLikeLongitude(s->array_, var)) return nullptr;
    // NaN as the classic driver gives it: the nodata value in the variable's type.
    s->nan_as_ = s->float32_ ? static_cast<double>(static_cast<float>(nodata)) : nodata;
    // The slab and line buffers of the output type are sized on first use (Calibrate):
    // float32 outputs need no float64 ones.
    try {
        if (s->float32_) s->f32_.resize(s->nx_ * s->ny_);
    } catch (const std::exception &) {
        return nullptr;
    }
    return s;
}

template <typename T> bool NetcdfSlabs::ReadAs(int index, T *out, bool flip, std::vector<T> &buf) {
    const GUInt64 start[3] = {static_cast<GUInt64>(index), 0, 0};
    const size_t count[3] = {1, ny_, nx_};
    CPLErrorStateBackuper state;
    CPLErrorHandlerPusher quiet(CPLQuietErrorHandler);
    T *dest = flip ? buf.data() : out;
    if (!array_->Read(start, count, nullptr, nullptr, GDALExtendedDataType::Create(TypeOf(out)), dest))
        return false;
    if (flip)
        for (size_t j = 0; j < ny_; j++)
            std::memcpy(out + j * nx_, &buf[(ny_ - 1 - j) * nx_], nx_ * sizeof(T));
    return true;
}

namespace {

// NaN as the classic driver gives it: `value` (unless that is NaN too).
template <typename T> void NansAs(T *out, size_t n, T value) {
    if (!std::isnan(value))
        for (size_t i = 0; i < n; i++)
            if (std::isnan(out[i])) out[i] = value;
}

}  // namespace

bool NetcdfSlabs::ReadSlab(int index, double *out, bool flip) {
    if (float32_) {
        if (!ReadAs(index, f32_.data(), false, f32_)) return false;
        // Widened and turned over in one pass (a separate flip was a tenth of the copy's CPU).
        for (size_t j = 0; j < ny_; j++) {
            const float *from = &f32_[(flip ? ny_ - 1 - j : j) * nx_];
            double *to = out + j * nx_;
            for (size_t i = 0; i < nx_; i++) to[i] = static_cast<double>(from[i]);
        }
    } else if (!ReadAs(index, out, flip, slab_)) {
        return false;
    }
    NansAs(out, nx_ * ny_, nan_as_);
    return true;
}

bool NetcdfSlabs::ReadSlab(int index, float *out, bool flip) {
    if (!float32_ || !ReadAs(index, out, flip, f32_)) return false;
    // nan_as_ came from a float (Open), so it is exact as one.
    NansAs(out, nx_ * ny_, static_cast<float>(nan_as_));
    return true;
}

template <typename T> void NetcdfSlabs::CalibrateT(const T *band1) {
    if (state_ != State::Uncalibrated) return;
    state_ = State::Off;
    std::vector<T> &slab = Slab(static_cast<T *>(nullptr));
    try {
        slab.resize(nx_ * ny_);
        Line(static_cast<T *>(nullptr)).resize(nx_);
    } catch (const std::exception &) {
        return;
    }
    if (!ReadSlab(0, slab.data(), false)) return;
    if (SameLine(slab.data(), band1, nx_ * ny_)) {
        state_ = State::Upright;
    } else {
        for (size_t j = 0; j < ny_; j++)
            if (!SameLine(&slab[(ny_ - 1 - j) * nx_], band1 + j * nx_, nx_)) {
                CPLDebug("FST", "netCDF source: band 1's slab differs from RasterIO's; bands read line by line");
                return;
            }
        state_ = State::Flipped;
    }
    CPLDebug("FST", "netCDF source: bands read as one slab each (%s)",
             state_ == State::Upright ? "upright" : "flipped");
}

template <typename T> bool NetcdfSlabs::ReadT(int b, GDALRasterBand *band, T *out) {
    if (state_ != State::Upright && state_ != State::Flipped) return false;
    std::vector<T> &buf = Line(out);
    // Calibrated with the other output type: this one's buffers were never sized.
    if (buf.size() != nx_) return false;
    const int xsize = static_cast<int>(nx_), ysize = static_cast<int>(ny_);
    if (!ReadSlab(b - 1, out, state_ == State::Flipped)) {
        CPLDebug("FST", "netCDF source: band %d's slab cannot be read; bands read line by line", b);
        state_ = State::Off;
        return false;
    }
    // The first and last line against RasterIO's: the band is this slab, the right way up.
    for (const int line : {0, ysize - 1}) {
        if (band->RasterIO(GF_Read, 0, line, xsize, 1, buf.data(), xsize, 1, TypeOf(out), 0, 0, nullptr) !=
                CE_None ||
            !SameLine(buf.data(), out + static_cast<size_t>(line) * nx_, nx_)) {
            CPLDebug("FST", "netCDF source: band %d's slab differs from RasterIO's; bands read line by line", b);
            state_ = State::Off;
            return false;
        }
    }
    return true;
}

template void NetcdfSlabs::CalibrateT(const double *);
template void NetcdfSlabs::CalibrateT(const float *);
template bool NetcdfSlabs::ReadT(int, GDALRasterBand *, double *);
template bool NetcdfSlabs::ReadT(int, GDALRasterBand *, float *);
