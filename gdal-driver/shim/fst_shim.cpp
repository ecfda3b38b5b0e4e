// Thin GDAL 3.6 shim for the FST driver: a GDALPamDataset / GDALPamRasterBand pair for
// reading, CreateCopy and a Create dataset for writing, and the driver registration. Every
// decision (what a dataset contains, how a block is filled, which keys and grid a band gets)
// is taken in Rust (src/ffi.rs, src/model/, src/ffi_create.rs, src/write/); this file only
// reads the source and forwards calls.

#include "cpl_string.h"
#include "gdal_pam.h"
#include "gdal_priv.h"
#include "ogr_spatialref.h"

#include "netcdf_slabs.h"

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

extern "C" {
struct FstDsInfo {
    int xsize, ysize, nbands, has_gt;
    double gt[6];
    const char *wkt;
    char **metadata;
    char **subdatasets;
    char **geolocation;
    const char *physical_path;
    const char *subdataset_name;
};

struct FstBandInfo {
    int gdal_type, block_x, block_y;
    const char *description;
    char **metadata;
    int has_nodata;
    double nodata;
    char **fst_metadata;
    const char *unit_type;
};

int fstgis_identify(const unsigned char *header, size_t n);
void *fstgis_open(const char *name, FstDsInfo *info);
int fstgis_band_info(void *h, int band, FstBandInfo *out);
int fstgis_read_block(void *h, int band, int bx, int by, void *buf, size_t nbytes);
int fstgis_read_window(void *h, int band, const int *window, void *buf, size_t nbytes, int64_t pixel_space,
                       int64_t line_space);
void fstgis_close(void *h);
void fstgis_shim_register(void);

struct FstCreateSource {
    int xsize, ysize, has_gt;
    double gt[6];
    const char *wkt;
    char **metadata;
    // Latitude and longitude of every pixel (GEOLOCATION arrays), line by line; NULL if none.
    const double *lat;
    const double *lon;
};

struct FstCreateBand {
    int number, gdal_type;
    char **metadata;
    int has_nodata;
    double nodata;
};

const char *fstgis_creation_options(void);
void *fstgis_create_begin(const char *name, const FstCreateSource *src, char **options);
int fstgis_create_band(void *h, const FstCreateBand *band, const double *values, size_t n);
int fstgis_create_band_f32(void *h, const FstCreateBand *band, const float *values, size_t n);
int fstgis_create_band_u64(void *h, const FstCreateBand *band, const uint64_t *values, size_t n, int is_signed);
int fstgis_create_finish(void *h);
void fstgis_create_abort(void *h);
int fstgis_check_options(char **options);
}

namespace {

class FSTDataset final : public GDALPamDataset {
    friend class FSTRasterBand;
    void *handle_ = nullptr;
    OGRSpatialReference srs_;
    bool has_gt_ = false;
    double gt_[6] = {0, 1, 0, 0, 0, 1};

  public:
    FSTDataset() = default;
    ~FSTDataset() override {
        FSTDataset::FlushCache(true);
        if (handle_) fstgis_close(handle_);
    }

    CPLErr GetGeoTransform(double *t) override {
        if (has_gt_) {
            memcpy(t, gt_, sizeof gt_);
            return CE_None;
        }
        return GDALPamDataset::GetGeoTransform(t);
    }

    const OGRSpatialReference *GetSpatialRef() const override {
        return srs_.IsEmpty() ? GDALPamDataset::GetSpatialRef() : &srs_;
    }

    static int Identify(GDALOpenInfo *oi);
    static GDALDataset *Open(GDALOpenInfo *oi);
};

class FSTRasterBand final : public GDALPamRasterBand {
    int index_;
    bool has_nodata_;
    double nodata_;
    std::string unit_type_;

  public:
    FSTRasterBand(FSTDataset *ds, int n, const FstBandInfo &bi)
        : index_(n - 1), has_nodata_(bi.has_nodata != 0), nodata_(bi.nodata),
          unit_type_(bi.unit_type ? bi.unit_type : "") {
        poDS = ds;
        nBand = n;
        eDataType = static_cast<GDALDataType>(bi.gdal_type);
        nBlockXSize = bi.block_x;
        nBlockYSize = bi.block_y;
        GDALMajorObject::SetDescription(bi.description ? bi.description : "");
        GDALMajorObject::SetMetadata(bi.metadata);
        if (bi.fst_metadata && bi.fst_metadata[0]) GDALMajorObject::SetMetadata(bi.fst_metadata, "FST");
    }

    CPLErr IReadBlock(int bx, int by, void *image) override {
        auto *ds = static_cast<FSTDataset *>(poDS);
        const size_t nbytes = static_cast<size_t>(nBlockXSize) * nBlockYSize * GDALGetDataTypeSizeBytes(eDataType);
        return fstgis_read_block(ds->handle_, index_, bx, by, image, nbytes) == 0 ? CE_None : CE_Failure;
    }

    // Full-resolution reads in the band's own type go straight from the decoded record to the
    // caller's buffer (no block cache); anything else (resampling, type conversion, writes)
    // takes GDAL's block-based path.
    CPLErr IRasterIO(GDALRWFlag rw, int xoff, int yoff, int xsize, int ysize, void *data, int bufx, int bufy,
                     GDALDataType buftype, GSpacing pixel_space, GSpacing line_space,
                     GDALRasterIOExtraArg *extra) override {
        if (rw == GF_Read && xsize == bufx && ysize == bufy && buftype == eDataType && pixel_space > 0 &&
            line_space > 0 && xoff >= 0 && yoff >= 0 && xsize > 0 && ysize > 0) {
            auto *ds = static_cast<FSTDataset *>(poDS);
            const int window[4] = {xoff, yoff, xsize, ysize};
            const size_t nbytes = static_cast<size_t>(ysize - 1) * static_cast<size_t>(line_space) +
                                  static_cast<size_t>(xsize - 1) * static_cast<size_t>(pixel_space) +
                                  static_cast<size_t>(GDALGetDataTypeSizeBytes(eDataType));
            return fstgis_read_window(ds->handle_, index_, window, data, nbytes, pixel_space, line_space) == 0
                       ? CE_None
                       : CE_Failure;
        }
        return GDALPamRasterBand::IRasterIO(rw, xoff, yoff, xsize, ysize, data, bufx, bufy, buftype, pixel_space,
                                            line_space, extra);
    }

    double GetNoDataValue(int *ok) override {
        if (has_nodata_) {
            if (ok) *ok = TRUE;
            return nodata_;
        }
        return GDALPamRasterBand::GetNoDataValue(ok);
    }

    const char *GetUnitType() override {
        return unit_type_.empty() ? GDALPamRasterBand::GetUnitType() : unit_type_.c_str();
    }
};

int FSTDataset::Identify(GDALOpenInfo *oi) {
    if (STARTS_WITH_CI(oi->pszFilename, "FST:")) return TRUE;
    if (oi->nHeaderBytes < 24 || oi->pabyHeader == nullptr) return FALSE;
    return fstgis_identify(oi->pabyHeader, static_cast<size_t>(oi->nHeaderBytes));
}

GDALDataset *FSTDataset::Open(GDALOpenInfo *oi) {
    if (!Identify(oi)) return nullptr;
    if (oi->eAccess == GA_Update) {
        CPLError(CE_Failure, CPLE_NotSupported, "The FST driver is read-only.");
        return nullptr;
    }
    FstDsInfo info;
    memset(&info, 0, sizeof info);
    void *h = fstgis_open(oi->pszFilename, &info);
    if (h == nullptr) return nullptr;
    const bool listing = info.nbands == 0;
    if (!listing && !GDALCheckDatasetDimensions(info.xsize, info.ysize)) {
        fstgis_close(h);
        return nullptr;
    }
    FSTDataset *ds = new (std::nothrow) FSTDataset();
    if (ds == nullptr) {
        fstgis_close(h);
        return nullptr;
    }
    ds->handle_ = h;
    ds->nRasterXSize = info.xsize;
    ds->nRasterYSize = info.ysize;
    ds->eAccess = GA_ReadOnly;
    if (info.has_gt) {
        ds->has_gt_ = true;
        memcpy(ds->gt_, info.gt, sizeof ds->gt_);
    }
    if (info.wkt && info.wkt[0]) {
        ds->srs_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (ds->srs_.importFromWkt(info.wkt) != OGRERR_NONE) ds->srs_.Clear();
    }
    for (int i = 0; i < info.nbands; i++) {
        FstBandInfo bi;
        memset(&bi, 0, sizeof bi);
        if (fstgis_band_info(h, i, &bi) != 0) {
            delete ds;
            return nullptr;
        }
        ds->SetBand(i + 1, new FSTRasterBand(ds, i + 1, bi));
    }
    ds->GDALMajorObject::SetMetadata(info.metadata);
    // Each band is its own record: band-sequential. GTiff's CreateCopy then writes
    // band-interleaved files by default, which is much faster for many-band fields.
    if (info.nbands > 1) ds->GDALMajorObject::SetMetadataItem("INTERLEAVE", "BAND", "IMAGE_STRUCTURE");
    if (info.subdatasets && info.subdatasets[0]) ds->GDALMajorObject::SetMetadata(info.subdatasets, "SUBDATASETS");
    if (info.geolocation && info.geolocation[0]) ds->GDALMajorObject::SetMetadata(info.geolocation, "GEOLOCATION");

    ds->SetDescription(oi->pszFilename);
    if (info.physical_path && info.subdataset_name) {
        ds->SetPhysicalFilename(info.physical_path);
        ds->SetSubdatasetName(info.subdataset_name);
    }
    ds->TryLoadXML();
    ds->oOvManager.Initialize(ds, info.physical_path ? info.physical_path : oi->pszFilename);
    return ds;
}

// Band `b` of the source into `out` (xsize·ysize values, line by line from the top): one
// slab from `slabs` where that path holds, else RasterIO (band 1 then calibrates the slabs).
template <typename T> bool ReadBand(GDALRasterBand *band, int b, NetcdfSlabs *slabs, const FstCreateSource &info,
                                    T *out) {
    if (slabs && slabs->Read(b, band, out)) return true;
    const GDALDataType type = sizeof(T) == sizeof(float) ? GDT_Float32 : GDT_Float64;
    if (band->RasterIO(GF_Read, 0, 0, info.xsize, info.ysize, out, info.xsize, info.ysize, type, 0, 0, nullptr) !=
        CE_None)
        return false;
    if (slabs && b == 1) slabs->Calibrate(out);
    return true;
}

// CreateCopy: reads the source band by band (whole band as float64, or float32 when every
// band's type is one float32 holds exactly; line by line) and hands
// each to Rust (src/write/), which encodes and writes it on a thread of its own while this
// one reads the next band (an error may so come one band late; its message names the band). The file appears under
// its name only when fstgis_create_finish succeeds.
bool WriteDataset(const char *name, GDALDataset *src, char **options, GDALProgressFunc progress,
                  void *progress_data) {
    const int nbands = src->GetRasterCount();
    if (nbands == 0) {
        CPLError(CE_Failure, CPLE_NotSupported, "FST driver: %s: the source has no raster band", name);
        return false;
    }
    FstCreateSource info;
    memset(&info, 0, sizeof info);
    info.xsize = src->GetRasterXSize();
    info.ysize = src->GetRasterYSize();
    info.has_gt = src->GetGeoTransform(info.gt) == CE_None;
    char *wkt = nullptr;
    if (const OGRSpatialReference *srs = src->GetSpatialRef()) {
        const char *const wkt_opts[] = {"FORMAT=WKT2_2019", nullptr};
        // WKT2 first; CRSs it cannot express (GDAL's WKT1 rotated poles with a PROJ4
        // extension) as WKT1, then as a PROJ string: grids::from_crs reads all three.
        if (srs->exportToWkt(&wkt, wkt_opts) != OGRERR_NONE) {
            CPLFree(wkt);
            wkt = nullptr;
            if (srs->exportToWkt(&wkt) != OGRERR_NONE) {
                CPLFree(wkt);
                wkt = nullptr;
                if (srs->exportToProj4(&wkt) != OGRERR_NONE) {
                    CPLFree(wkt);
                    wkt = nullptr;
                }
            }
        }
        if (wkt == nullptr)
            CPLError(CE_Warning, CPLE_NotSupported,
                     "FST driver: %s: the source CRS cannot be exported; written without georeferencing (X grid)",
                     name);
    }
    info.wkt = wkt;
    info.metadata = src->GetMetadata();
    // No geotransform but GEOLOCATION arrays at full resolution: hand them over (grids'
    // from_lat_lon finds the grid, Y at worst).
    std::vector<double> lat, lon;
    if (!info.has_gt) {
        const char *xds = src->GetMetadataItem("X_DATASET", "GEOLOCATION");
        const char *yds = src->GetMetadataItem("Y_DATASET", "GEOLOCATION");
        const char *ps = src->GetMetadataItem("PIXEL_STEP", "GEOLOCATION");
        const char *ls = src->GetMetadataItem("LINE_STEP", "GEOLOCATION");
        const bool full = (!ps || atoi(ps) == 1) && (!ls || atoi(ls) == 1);
        if (xds && yds && full) {
            GDALDataset *x = GDALDataset::Open(xds, GDAL_OF_RASTER | GDAL_OF_READONLY);
            GDALDataset *y = GDALDataset::Open(yds, GDAL_OF_RASTER | GDAL_OF_READONLY);
            const int xb = atoi(CSLFetchNameValueDef(src->GetMetadata("GEOLOCATION"), "X_BAND", "1"));
            const int yb = atoi(CSLFetchNameValueDef(src->GetMetadata("GEOLOCATION"), "Y_BAND", "1"));
            const size_t n = static_cast<size_t>(info.xsize) * static_cast<size_t>(info.ysize);
            if (x && y && x->GetRasterXSize() == info.xsize && x->GetRasterYSize() == info.ysize &&
                y->GetRasterXSize() == info.xsize && y->GetRasterYSize() == info.ysize && x->GetRasterBand(xb) &&
                y->GetRasterBand(yb)) {
                try {
                    lat.resize(n);
                    lon.resize(n);
                } catch (const std::exception &) {
                    lat.clear();
                    lon.clear();
                }
                if (!lat.empty() &&
                    x->GetRasterBand(xb)->RasterIO(GF_Read, 0, 0, info.xsize, info.ysize, lon.data(), info.xsize,
                                                   info.ysize, GDT_Float64, 0, 0, nullptr) == CE_None &&
                    y->GetRasterBand(yb)->RasterIO(GF_Read, 0, 0, info.xsize, info.ysize, lat.data(), info.xsize,
                                                   info.ysize, GDT_Float64, 0, 0, nullptr) == CE_None) {
                    info.lat = lat.data();
                    info.lon = lon.data();
                }
            }
            if (x) GDALClose(x);
            if (y) GDALClose(y);
        }
    }
    void *h = fstgis_create_begin(name, &info, options);
    CPLFree(wkt);
    lat = std::vector<double>();
    lon = std::vector<double>();
    if (h == nullptr) return false;
    const size_t n = static_cast<size_t>(info.xsize) * static_cast<size_t>(info.ysize);
    // Sources whose every band has a type float32 holds exactly are read as float32: the
    // same numbers as float64, in half the memory traffic, and nothing widened here to be
    // narrowed again by the encoder.
    bool as_f32 = true;
    for (int b = 1; b <= nbands; b++) {
        const GDALDataType t = src->GetRasterBand(b)->GetRasterDataType();
        as_f32 = as_f32 && (t == GDT_Byte || t == GDT_UInt16 || t == GDT_Int16 || t == GDT_Float32);
    }
    std::vector<double> values;
    std::vector<float> values32;
    try {
        if (as_f32)
            values32.resize(n);
        else
            values.resize(n);
    } catch (const std::exception &) {
        CPLError(CE_Failure, CPLE_OutOfMemory, "FST driver: %s: cannot hold a band of %zu values", name, n);
        fstgis_create_abort(h);
        return false;
    }
    // netCDF sources: one read per band instead of one per line, when it gives the same values.
    std::unique_ptr<NetcdfSlabs> slabs = NetcdfSlabs::Open(src);
    // 64-bit integer bands travel as they are: float64 rounds them above 2^53 (a raw 64-bit
    // record copied FST -> FST lost its low bits).
    std::vector<uint64_t> values64;
    for (int b = 1; b <= nbands; b++) {
        GDALRasterBand *band = src->GetRasterBand(b);
        const GDALDataType type = band->GetRasterDataType();
        const bool wide_int = type == GDT_UInt64 || type == GDT_Int64;
        if (wide_int && values64.size() != n) {
            try {
                values64.resize(n);
            } catch (const std::exception &) {
                CPLError(CE_Failure, CPLE_OutOfMemory, "FST driver: %s: cannot hold a band of %zu values", name, n);
                fstgis_create_abort(h);
                return false;
            }
        }
        const bool read =
            wide_int ? band->RasterIO(GF_Read, 0, 0, info.xsize, info.ysize, values64.data(), info.xsize, info.ysize,
                                      type, 0, 0, nullptr) == CE_None
            : as_f32 ? ReadBand(band, b, slabs.get(), info, values32.data())
                     : ReadBand(band, b, slabs.get(), info, values.data());
        if (!read) {
            CPLError(CE_Failure, CPLE_FileIO, "FST driver: %s: cannot read band %d of the source", name, b);
            fstgis_create_abort(h);
            return false;
        }
        // The band is read once: drop the blocks GDAL cached while reading it, so that the
        // next band's blocks reuse their memory. Otherwise the cache (5 % of RAM) fills with
        // blocks we never read again, each on pages the kernel zeroes first (a netCDF source
        // of 800x1 blocks: a sixth of the copy's time).
        band->FlushCache(false);
        FstCreateBand bi;
        memset(&bi, 0, sizeof bi);
        bi.number = b;
        bi.gdal_type = band->GetRasterDataType();
        // Every key of the band: the default domain, with the FST domain over it (a field of
        // our driver keeps there the keys that vary across a time x level hypercube, which its
        // default domain leaves out for the netCDF writer's sake).
        CPLStringList band_md(CSLDuplicate(band->GetMetadata()));
        CSLConstList fst_items = band->GetMetadata("FST");
        for (int i = 0; fst_items != nullptr && fst_items[i] != nullptr; ++i) {
            char *key = nullptr;
            const char *value = CPLParseNameValue(fst_items[i], &key);
            if (key != nullptr && value != nullptr) band_md.SetNameValue(key, value);
            CPLFree(key);
        }
        bi.metadata = band_md.List();
        bi.nodata = band->GetNoDataValue(&bi.has_nodata);
        const int handed = wide_int ? fstgis_create_band_u64(h, &bi, values64.data(), n, type == GDT_Int64)
                           : as_f32 ? fstgis_create_band_f32(h, &bi, values32.data(), n)
                                    : fstgis_create_band(h, &bi, values.data(), n);
        if (handed != 0) {
            fstgis_create_abort(h);
            return false;
        }
        if (progress && !progress(static_cast<double>(b) / nbands, nullptr, progress_data)) {
            CPLError(CE_Failure, CPLE_UserInterrupt, "FST driver: %s: interrupted", name);
            fstgis_create_abort(h);
            return false;
        }
    }
    return fstgis_create_finish(h) == 0;
}

GDALDataset *CreateCopy(const char *name, GDALDataset *src, int /*strict*/, char **options,
                        GDALProgressFunc progress, void *progress_data) {
    if (!WriteDataset(name, src, options, progress, progress_data)) return nullptr;
    return GDALDataset::Open(name, GDAL_OF_RASTER | GDAL_OF_READONLY);
}

GDALDataset *CreateCopyNoThrow(const char *name, GDALDataset *src, int strict, char **options,
                               GDALProgressFunc progress, void *progress_data) {
    try {
        return CreateCopy(name, src, strict, options, progress, progress_data);
    } catch (const std::exception &e) {
        CPLError(CE_Failure, CPLE_AppDefined, "FST driver: %s", e.what());
        return nullptr;
    }
}

// Create: a dataset held in memory (each band as float64) until it is closed, then written
// like a CreateCopy of itself. Georeferencing, metadata and nodata may be set in any order
// before the close (gdalwarp, gdal_rasterize, GDALDataset::Create users).
class FSTWriteDataset;

class FSTWriteBand final : public GDALRasterBand {
    friend class FSTWriteDataset;
    std::vector<double> data_;
    bool has_nodata_ = false;
    double nodata_ = 0;

  public:
    FSTWriteBand(GDALDataset *ds, int n, GDALDataType t, size_t npix) {
        poDS = ds;
        nBand = n;
        eDataType = t;
        nBlockXSize = ds->GetRasterXSize();
        nBlockYSize = 1;
        data_.assign(npix, 0.0);
    }
    CPLErr IReadBlock(int, int by, void *image) override {
        GDALCopyWords(data_.data() + static_cast<size_t>(by) * nBlockXSize, GDT_Float64, 8, image, eDataType,
                      GDALGetDataTypeSizeBytes(eDataType), nBlockXSize);
        return CE_None;
    }
    CPLErr IWriteBlock(int, int by, void *image) override {
        GDALCopyWords(image, eDataType, GDALGetDataTypeSizeBytes(eDataType),
                      data_.data() + static_cast<size_t>(by) * nBlockXSize, GDT_Float64, 8, nBlockXSize);
        return CE_None;
    }
    CPLErr SetNoDataValue(double v) override {
        has_nodata_ = true;
        nodata_ = v;
        return CE_None;
    }
    double GetNoDataValue(int *ok) override {
        if (ok) *ok = has_nodata_;
        return nodata_;
    }
};

class FSTWriteDataset final : public GDALDataset {
    std::string name_;
    char **options_ = nullptr;
    bool has_gt_ = false;
    double gt_[6] = {0, 1, 0, 0, 0, 1};
    OGRSpatialReference srs_;
    bool done_ = false;

  public:
    FSTWriteDataset(const char *name, int nx, int ny, char **options) : name_(name), options_(CSLDuplicate(options)) {
        nRasterXSize = nx;
        nRasterYSize = ny;
        eAccess = GA_Update;
        srs_.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    }
    ~FSTWriteDataset() override {
        Finish();
        CSLDestroy(options_);
    }
    CPLErr SetGeoTransform(double *t) override {
        memcpy(gt_, t, sizeof gt_);
        has_gt_ = true;
        return CE_None;
    }
    CPLErr GetGeoTransform(double *t) override {
        memcpy(t, gt_, sizeof gt_);
        return has_gt_ ? CE_None : CE_Failure;
    }
    CPLErr SetSpatialRef(const OGRSpatialReference *srs) override {
        if (srs)
            srs_ = *srs;
        else
            srs_.Clear();
        return CE_None;
    }
    const OGRSpatialReference *GetSpatialRef() const override { return srs_.IsEmpty() ? nullptr : &srs_; }

    // Write the file (once). Errors are reported through CPLError.
    void Finish() {
        if (done_) return;
        done_ = true;
        FlushCache(true);
        WriteDataset(name_.c_str(), this, options_, nullptr, nullptr);
    }

    static GDALDataset *Create(const char *name, int nx, int ny, int nbands, GDALDataType type, char **options);
};

GDALDataset *FSTWriteDataset::Create(const char *name, int nx, int ny, int nbands, GDALDataType type,
                                     char **options) {
    if (fstgis_check_options(options) != 0) return nullptr;
    if (nx <= 0 || ny <= 0 || nbands <= 0) {
        CPLError(CE_Failure, CPLE_NotSupported, "FST driver: %s: a %dx%d raster of %d bands cannot be written", name,
                 nx, ny, nbands);
        return nullptr;
    }
    auto *ds = new FSTWriteDataset(name, nx, ny, options);
    const size_t npix = static_cast<size_t>(nx) * static_cast<size_t>(ny);
    try {
        for (int b = 1; b <= nbands; b++) ds->SetBand(b, new FSTWriteBand(ds, b, type, npix));
    } catch (const std::exception &) {
        CPLError(CE_Failure, CPLE_OutOfMemory, "FST driver: %s: cannot hold %d bands of %zu values", name, nbands,
                 npix);
        ds->done_ = true;
        delete ds;
        return nullptr;
    }
    return ds;
}

GDALDataset *CreateNoThrow(const char *name, int nx, int ny, int nbands, GDALDataType type, char **options) {
    try {
        return FSTWriteDataset::Create(name, nx, ny, nbands, type, options);
    } catch (const std::exception &e) {
        CPLError(CE_Failure, CPLE_AppDefined, "FST driver: %s", e.what());
        return nullptr;
    }
}

GDALDataset *OpenNoThrow(GDALOpenInfo *oi) {
    try {
        return FSTDataset::Open(oi);
    } catch (const std::exception &e) {
        CPLError(CE_Failure, CPLE_AppDefined, "FST driver: %s", e.what());
        return nullptr;
    }
}

}  // namespace

extern "C" void fstgis_shim_register(void) {
    if (!GDAL_CHECK_VERSION("FST")) return;
    if (GDALGetDriverByName("FST") != nullptr) return;
    auto *drv = new GDALDriver();
    drv->SetDescription("FST");
    drv->SetMetadataItem(GDAL_DCAP_RASTER, "YES");
    drv->SetMetadataItem(GDAL_DMD_LONGNAME, "RPN standard file (FST: XDF/FST98 and RSF/FST24)");
    drv->SetMetadataItem(GDAL_DMD_EXTENSIONS, "fst std");
    drv->SetMetadataItem(GDAL_DMD_HELPTOPIC, "https://github.com/fstgis/fstgis/blob/main/gdal-driver/README.md");
    drv->SetMetadataItem(GDAL_DMD_SUBDATASETS, "YES");
    drv->SetMetadataItem(GDAL_DCAP_VIRTUALIO, "YES");
    drv->SetMetadataItem(GDAL_DCAP_OPEN, "YES");
    drv->SetMetadataItem(GDAL_DMD_OPENOPTIONLIST, "<OpenOptionList/>");
    drv->SetMetadataItem(GDAL_DCAP_CREATECOPY, "YES");
    drv->SetMetadataItem(GDAL_DCAP_CREATE, "YES");
    drv->SetMetadataItem(GDAL_DMD_CREATIONDATATYPES, "Byte UInt16 Int16 UInt32 Int32 Float32 Float64");
    drv->SetMetadataItem(GDAL_DMD_CREATIONOPTIONLIST, fstgis_creation_options());
    drv->pfnIdentify = FSTDataset::Identify;
    drv->pfnOpen = OpenNoThrow;
    drv->pfnCreateCopy = CreateCopyNoThrow;
    drv->pfnCreate = CreateNoThrow;
    GetGDALDriverManager()->RegisterDriver(drv);
}
