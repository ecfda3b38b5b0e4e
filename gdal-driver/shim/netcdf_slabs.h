// NetcdfSlabs: whole-band reads of a netCDF source for CreateCopy (see netcdf_slabs.cpp).

#pragma once

#include "gdal_priv.h"

#include <memory>
#include <vector>

class NetcdfSlabs {
  public:
    // The reader for `src`, or null when the fast path does not apply (not netCDF, not a
    // (band, y, x) float32/float64 variable, a valid range, packed, FST_NETCDF_SLABS=NO, ...):
    // then read with RasterIO.
    static std::unique_ptr<NetcdfSlabs> Open(GDALDataset *src);

    // Band 1 as RasterIO read it: decides whether the slabs are the bands as they are or
    // upside down, or that they are not the bands at all (then Read always returns false).
    // The float overloads serve float32 variables read as float32 (no value widened).
    void Calibrate(const double *band1) { CalibrateT(band1); }
    void Calibrate(const float *band1) { CalibrateT(band1); }

    // Band `b` (1-based) into `out` (xsize·ysize values, line by line from the top, as
    // RasterIO gives them). false: read it with RasterIO (not calibrated, a read error, or
    // lines that differ from RasterIO's, which also turns the fast path off).
    bool Read(int b, GDALRasterBand *band, double *out) { return ReadT(b, band, out); }
    bool Read(int b, GDALRasterBand *band, float *out) { return ReadT(b, band, out); }

  private:
    NetcdfSlabs() = default;
    template <typename T> void CalibrateT(const T *band1);
    template <typename T> bool ReadT(int b, GDALRasterBand *band, T *out);
    // Slab `index` into `out` (xsize·ysize values), its rows in reverse order when `flip`.
    // As float: float32 variables only.
    bool ReadSlab(int index, double *out, bool flip);
    bool ReadSlab(int index, float *out, bool flip);
    // Slab `index` read as T into `out`, through `buf` when its rows are turned over.
    template <typename T> bool ReadAs(int index, T *out, bool flip, std::vector<T> &buf);
    // The line and slab buffers of each output type.
    std::vector<double> &Line(double *) { return line_; }
    std::vector<float> &Line(float *) { return line32_; }
    std::vector<double> &Slab(double *) { return slab_; }
    std::vector<float> &Slab(float *) { return slab32_; }

    std::unique_ptr<GDALDataset> ds_;
    std::shared_ptr<GDALMDArray> array_;
    bool float32_ = false;
    double nan_as_ = 0;  // what NaN becomes (the classic driver's nodata substitution)
    size_t nx_ = 0, ny_ = 0;
    enum class State { Uncalibrated, Upright, Flipped, Off } state_ = State::Uncalibrated;
    std::vector<float> f32_;
    std::vector<double> line_, slab_;
    std::vector<float> line32_, slab32_;
};
