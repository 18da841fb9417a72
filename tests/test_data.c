// Dataset loaders: IDX (raw and gzip'd) and CSV, valid and malformed, plus per-batch preprocessing.
#include <float.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "io/data.h"
#include "base/util.h"

#define LIMIT DATA_DEFAULT_MAX_BYTES

static char dir[256];

static const char *path_of(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void write_raw(const char *name, const unsigned char *b, size_t n) {
    FILE *f = fopen(path_of(name), "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}
static void write_gz(const char *name, const unsigned char *b, size_t n) {
    gzFile g = gzopen(path_of(name), "wb");
    gzwrite(g, b, (unsigned)n);
    gzclose(g);
}
static void write_text(const char *name, const char *s) { write_raw(name, (const unsigned char *)s, strlen(s)); }

// 4 images of 2x3 pixels, k-th pixel of image i = 10 i + k; labels 3, 1, 4, 1.
static unsigned char IMG[16 + 24], LAB[8 + 4];
static void make_valid(void) {
    const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 3};
    memcpy(IMG, ih, 16);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 6; k++) IMG[16 + 6 * i + k] = (unsigned char)(10 * i + k);
    const unsigned char lh[12] = {0, 0, 8, 1, 0, 0, 0, 4, 3, 1, 4, 1};
    memcpy(LAB, lh, 12);
}

static void expect_idx_error(const char *images, const char *labels, const char *want) {
    dataset_t ds;
    int rc = idx_load(&ds, path_of(images), path_of(labels), 10, LIMIT);
    CHECK(rc != 0, "accepted bad IDX (%s, %s)", images, labels);
    if (rc != 0) {
        CHECK_MSG(bnlab_errmsg(), want);
        CHECK(strstr(bnlab_errmsg(), dir) != NULL, "message does not name the file: %s", bnlab_errmsg());
    } else {
        dataset_free(&ds);
    }
}

static void test_idx(void) {
    make_valid();
    write_raw("img", IMG, sizeof IMG);
    write_raw("lab", LAB, sizeof LAB);
    write_gz("img.gz", IMG, sizeof IMG);
    write_gz("lab.gz", LAB, sizeof LAB);
    const char *pairs[2][2] = {{"img", "lab"}, {"img.gz", "lab.gz"}};
    for (int p = 0; p < 2; p++) {
        dataset_t ds;
        CHECK(idx_load(&ds, path_of(pairs[p][0]), path_of(pairs[p][1]), 10, LIMIT) == 0, "valid IDX: %s",
              bnlab_errmsg());
        CHECK(ds.n == 4 && ds.dim == 6 && ds.u8 && ds.u8[2 * 6 + 5] == 25, "IDX contents");
        CHECK(ds.labels[0] == 3 && ds.labels[2] == 4, "IDX labels");
        dataset_free(&ds);
    }
    unsigned char b[sizeof IMG + 1];
    memcpy(b, IMG, sizeof IMG);
    b[2] = 9;  // type byte: not uint8
    write_raw("badmagic", b, sizeof IMG);
    expect_idx_error("badmagic", "lab", "bad IDX magic 0x00000903");
    write_raw("trunc", IMG, sizeof IMG - 5);
    expect_idx_error("trunc", "lab", "truncated file: it ends inside the pixel data");
    write_raw("trunchdr", IMG, 10);
    expect_idx_error("trunchdr", "lab", "truncated file: it ends inside the header");
    memcpy(b, IMG, sizeof IMG);
    b[sizeof IMG] = 7;
    write_raw("extra", b, sizeof IMG + 1);
    expect_idx_error("extra", "lab", "extra bytes after the data");
    unsigned char l3[11] = {0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4};
    write_raw("lab3", l3, sizeof l3);
    expect_idx_error("img", "lab3", "3 labels but");
    unsigned char lbig[12];
    memcpy(lbig, LAB, 12);
    lbig[9] = 12;
    write_raw("labbig", lbig, sizeof lbig);
    expect_idx_error("img", "labbig", "label 12 of example 1 is out of range: expected 0..9");
    // 4 billion images of 65535 x 65535: refused from the header, before any allocation.
    const unsigned char huge[16] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff};
    write_raw("huge", huge, sizeof huge);
    expect_idx_error("huge", "lab", "beyond the limits");
    // Found by fuzz_idx: within the per-dimension limits but 12 TB in all, in a 16-byte file.
    const unsigned char liar[16] = {0, 0, 8, 3, 0x05, 0xf5, 0xe1, 0x00, 0, 0, 0x03, 0x00, 0, 0, 0x03, 0x00};
    write_raw("liar", liar, sizeof liar);
    expect_idx_error("liar", "lab", "more than the limit");
    const unsigned char liar2[16] = {0, 0, 8, 3, 0x00, 0x10, 0x00, 0x00, 0, 0, 0x00, 0x40, 0, 0, 0x00, 0x40};
    write_raw("liar2", liar2, sizeof liar2);  // 4 GiB claimed, 0 bytes present: truncated, nothing allocated
    expect_idx_error("liar2", "lab", "truncated file: it ends inside the pixel data");
    const unsigned char empty[16] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3};
    write_raw("empty", empty, sizeof empty);
    expect_idx_error("empty", "lab", "empty tensor");
    // A gzip stream with a damaged body.
    FILE *f = fopen(path_of("img.gz"), "rb");
    unsigned char gz[512];
    size_t n = fread(gz, 1, sizeof gz, f);
    fclose(f);
    for (size_t i = 12; i < n - 8; i++) gz[i] ^= 0x5a;
    write_raw("corrupt.gz", gz, n);
    expect_idx_error("corrupt.gz", "lab", "corrupt gzip data");
    expect_idx_error("nonexistent", "lab", "cannot open");
    expect_idx_error("lab", "lab", "bad IDX magic");  // a label file where images belong
}

static void expect_csv_error(const char *name, const char *text, const char *want) {
    write_text(name, text);
    dataset_t ds;
    int rc = csv_load(&ds, path_of(name), 10, 1, LIMIT);
    CHECK(rc != 0, "accepted bad CSV %s", name);
    if (rc != 0) CHECK_MSG(bnlab_errmsg(), want);
    else dataset_free(&ds);
}

static void test_csv(void) {
    write_text("ok.csv", "label,a,b,c\n3,0.5,1,-2\n7,1e-3,0,4\r\n");
    dataset_t ds;
    CHECK(csv_load(&ds, path_of("ok.csv"), 10, 1, LIMIT) == 0, "valid CSV: %s", bnlab_errmsg());
    CHECK(ds.n == 2 && ds.dim == 3 && ds.f32[2] == -2.0f && ds.f32[3] == 1e-3f && ds.labels[1] == 7, "CSV values");
    dataset_free(&ds);
    write_text("nohdr.csv", "1,2,3\n0,5,6\n");
    CHECK(csv_load(&ds, path_of("nohdr.csv"), 10, 1, LIMIT) == 0 && ds.n == 2, "CSV without header");
    dataset_free(&ds);
    write_text("feat.csv", "0.5,1,-2\n1e-3,0,4\n");
    CHECK(csv_load(&ds, path_of("feat.csv"), 0, 0, LIMIT) == 0 && ds.n == 2 && ds.dim == 3 && !ds.labels &&
              ds.f32[5] == 4.0f,
          "features-only CSV: %s", bnlab_errmsg());
    dataset_free(&ds);
    expect_csv_error("ragged.csv", "l,a,b\n1,2,3\n2,3\n", "ragged.csv:3: ragged row: 1 features, expected 2");
    expect_csv_error("long.csv", "1,2,3\n2,3,4,5\n", "long.csv:2: ragged row: more than 2 features");
    expect_csv_error("nan.csv", "1,2,3\n2,x,4\n", "nan.csv:2: feature 1 is not a finite number");
    expect_csv_error("inf.csv", "1,2,inf\n", "inf.csv:1: feature 2 is not a finite number");
    expect_csv_error("label.csv", "1,2,3\n10,3,4\n", "label.csv:2: label must be an integer in 0..9");
    expect_csv_error("flabel.csv", "1.5,2,3\n", "flabel.csv:1: label must be an integer");
    expect_csv_error("cr.csv", "1,2,3\n2,3,4\r5\n", "cr.csv:2: unexpected character after feature 2");
    write_text("crfeat.csv", "69\r1\n");  // found by fuzz_csv: a bare CR must not start a row nobody counted
    CHECK(csv_load(&ds, path_of("crfeat.csv"), 0, 0, LIMIT) != 0, "accepted a bare CR inside a row");
    expect_csv_error("blank.csv", "1,2,3\n\n2,3,4\n", "blank.csv:2: empty line");
    expect_csv_error("empty.csv", "", "no data rows");
    const char nul[] = {'1', ',', '2', '\0', '3', '\n'};
    write_raw("nul.csv", (const unsigned char *)nul, sizeof nul);
    CHECK(csv_load(&ds, path_of("nul.csv"), 10, 1, LIMIT) != 0, "accepted NUL byte");
    CHECK_MSG(bnlab_errmsg(), "binary data");
}

static size_t read_back(const char *name, unsigned char *b, size_t cap) {
    FILE *f = fopen(path_of(name), "rb");
    size_t n = fread(b, 1, cap, f);
    fclose(f);
    return n;
}

// Defect 1: the gzip trailer (CRC-32 and length) must be read and verified, and nothing but further gzip
// members may follow it.
static void test_gzip_integrity(void) {
    make_valid();
    write_raw("lab", LAB, sizeof LAB);
    write_gz("img.gz", IMG, sizeof IMG);
    unsigned char gz[512 + 16];
    size_t n = read_back("img.gz", gz, 512);
    write_raw("notrailer.gz", gz, n - 8);  // the deflate data is complete, its CRC and size are gone
    expect_idx_error("notrailer.gz", "lab", "gzip stream ends before its trailer");
    write_raw("halftrailer.gz", gz, n - 3);
    expect_idx_error("halftrailer.gz", "lab", "gzip stream ends before its trailer");
    unsigned char bad[sizeof gz];
    memcpy(bad, gz, n);
    bad[n - 8] ^= 1;  // CRC-32 off by one bit
    write_raw("badcrc.gz", bad, n);
    expect_idx_error("badcrc.gz", "lab", "incorrect data check");
    memcpy(bad, gz, n);
    bad[n - 4] ^= 1;  // ISIZE wrong
    write_raw("badsize.gz", bad, n);
    expect_idx_error("badsize.gz", "lab", "incorrect length check");
    memcpy(bad, gz, n);
    memcpy(bad + n, "junk", 4);
    write_raw("junk.gz", bad, n + 4);
    expect_idx_error("junk.gz", "lab", "4 bytes after the gzip stream that are not a gzip member");
    memset(bad + n, 0, 16);  // zero padding (tar blocks) is junk too
    write_raw("zeros.gz", bad, n + 16);
    expect_idx_error("zeros.gz", "lab", "16 bytes after the gzip stream");
    // Concatenated members are legal gzip (RFC 1952, 2.2; what `cat a.gz b.gz` makes and zcat reads):
    // accepted, each member's CRC verified, the data is their concatenation.
    write_gz("part1.gz", IMG, 20);
    write_gz("part2.gz", IMG + 20, sizeof IMG - 20);
    unsigned char two[1024];
    size_t n1 = read_back("part1.gz", two, 512);
    size_t n2 = read_back("part2.gz", two + n1, 512);
    write_raw("members.gz", two, n1 + n2);
    dataset_t ds;
    CHECK(idx_load(&ds, path_of("members.gz"), path_of("lab"), 10, LIMIT) == 0, "two gzip members: %s", bnlab_errmsg());
    if (ds.u8) CHECK(ds.n == 4 && memcmp(ds.u8, IMG + 16, 24) == 0, "two gzip members: contents");
    dataset_free(&ds);
    two[n1 + n2 - 8] ^= 1;  // the second member's CRC is checked too
    write_raw("members-badcrc.gz", two, n1 + n2);
    expect_idx_error("members-badcrc.gz", "lab", "incorrect data check");
    write_raw("members-cut.gz", two, n1 + n2 - 8);
    expect_idx_error("members-cut.gz", "lab", "gzip stream ends before its trailer");
    // More decompressed bytes than the header describes, inside one valid stream.
    unsigned char big[sizeof IMG + 3] = {0};
    memcpy(big, IMG, sizeof IMG);
    write_gz("extra.gz", big, sizeof big);
    expect_idx_error("extra.gz", "lab", "extra bytes after the data");
    write_gz("trunc.gz", IMG, sizeof IMG - 5);
    expect_idx_error("trunc.gz", "lab", "truncated file: it ends inside the pixel data");
}

static long peak_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

// Defect 2: a gzip'd IDX whose pixels are all zeros compresses ~1000:1. Loading it must cost what its header
// declares (one allocation), not a doubling buffer's 1.5-2x; a header beyond the caller's limit is refused.
static void test_idx_memory(void) {
    const uint32_t n = 128000, dim = 784;  // 100 MB of pixels, 100 kB of gzip
    unsigned char hdr[16] = {0, 0, 8, 3, n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255, 0, 0, 0, 28, 0, 0, 0, 28};
    gzFile g = gzopen(path_of("bomb.gz"), "wb1");
    gzwrite(g, hdr, sizeof hdr);
    unsigned char *zeros = calloc(dim, 1000);
    for (uint32_t i = 0; i < n; i += 1000) gzwrite(g, zeros, dim * 1000);
    gzclose(g);
    free(zeros);
    long before = peak_rss_kb();
    dataset_t ds;
    CHECK(idx_load_images(&ds, path_of("bomb.gz"), LIMIT) == 0, "zero bomb: %s", bnlab_errmsg());
    long grew = peak_rss_kb() - before, want = (long)((size_t)n * dim / 1024);
    // Under valgrind (scripts/memcheck.sh sets BNLAB_MEMCHECK) the process's RSS is valgrind's, not the loader's.
    if (getenv("BNLAB_MEMCHECK")) printf("peak RSS check skipped under valgrind\n");
    else CHECK(grew < want + want / 8, "loading %ld kB of pixels raised the peak RSS by %ld kB", want, grew);
    CHECK(ds.n == n && ds.dim == dim && ds.u8[(size_t)n * dim - 1] == 0, "zero bomb contents");
    dataset_free(&ds);
    // The caller's limit, checked against the header before anything is allocated.
    CHECK(idx_load_images(&ds, path_of("bomb.gz"), 50u << 20) != 0, "zero bomb under a 50 MiB limit");
    char msg[700];
    snprintf(msg, sizeof msg, "%s: header declares 128000 x 784 = 100352000 bytes of pixels, more than the limit "
             "of 52428800 bytes", path_of("bomb.gz"));
    CHECK_MSG(bnlab_errmsg(), msg);
    make_valid();  // labels count against the same limit: 24 bytes of pixels + 4 x 5 bytes of labels
    write_raw("img", IMG, sizeof IMG);
    write_raw("lab", LAB, sizeof LAB);
    CHECK(idx_load(&ds, path_of("img"), path_of("lab"), 10, 44) == 0, "IDX at its limit: %s", bnlab_errmsg());
    dataset_free(&ds);
    CHECK(idx_load(&ds, path_of("img"), path_of("lab"), 10, 43) != 0, "IDX over its limit");
    CHECK_MSG(bnlab_errmsg(), "4 labels need 20 bytes on top of 24 bytes of pixels, more than the limit of 43 bytes");
    write_text("lim.csv", "1,2,3\n4,5,6\n");  // 12 bytes of text + 2 x 3 x 4 bytes
    CHECK(csv_load(&ds, path_of("lim.csv"), 10, 1, 36) == 0, "CSV at its limit: %s", bnlab_errmsg());
    dataset_free(&ds);
    CHECK(csv_load(&ds, path_of("lim.csv"), 10, 1, 35) != 0, "CSV over its limit");
    CHECK_MSG(bnlab_errmsg(), "lim.csv: 2 rows of 2 features need 24 bytes beside the 12 of text, more than the limit");
    CHECK(csv_load(&ds, path_of("lim.csv"), 10, 1, 11) != 0, "CSV text over the limit");
    CHECK_MSG(bnlab_errmsg(), "lim.csv: file is 12 bytes, more than the limit of 11 bytes");
    // A gzip'd header claiming far more than its file can inflate to: refused before allocating.
    const unsigned char liar[16] = {0, 0, 8, 3, 0x00, 0x10, 0x00, 0x00, 0, 0, 0x00, 0x40, 0, 0, 0x00, 0x3f};
    write_gz("liar.gz", liar, sizeof liar);
    expect_idx_error("liar.gz", "lab", "truncated file: the header declares 4227858432 bytes of pixel data but");
}

static void expect_csv_error_nl(const char *name, const char *text, int has_label, const char *want) {
    write_text(name, text);
    dataset_t ds;
    int rc = csv_load(&ds, path_of(name), 10, has_label, LIMIT);
    CHECK(rc != 0, "accepted bad CSV %s", name);
    if (rc != 0) {
        CHECK_MSG(bnlab_errmsg(), want);
        CHECK(strstr(bnlab_errmsg(), dir) != NULL, "message does not name the file: %s", bnlab_errmsg());
    } else {
        dataset_free(&ds);
    }
}

// Defects 3 and 5: subnormals are finite; a header is a first line with no numeric field, never a row that
// failed to parse; a BOM is no part of the first field; every field parses to its end.
static void test_csv_strict(void) {
    dataset_t ds;
    write_text("subnormal.csv", "1,1e-40,-2e-45\n0,1e-50,3\n");
    CHECK(csv_load(&ds, path_of("subnormal.csv"), 10, 1, LIMIT) == 0, "subnormals: %s", bnlab_errmsg());
    if (ds.f32) {
        CHECK(ds.f32[0] > 0 && ds.f32[0] < FLT_MIN && ds.f32[1] < 0 && ds.f32[2] == 0.0f, "subnormal values");
        CHECK(ds.f32[0] == strtof("1e-40", NULL), "1e-40 rounds as strtof does");
    }
    dataset_free(&ds);
    expect_csv_error_nl("overflow.csv", "1,1e39,2\n", 1, "overflow.csv:1: feature 1 is out of float range");
    expect_csv_error_nl("overflow2.csv", "1,2,-1e39\n", 1, "overflow2.csv:1: feature 2 is out of float range");
    write_text("bom.csv", "\xEF\xBB\xBF" "1,2,3\n0,5,6\n");
    CHECK(csv_load(&ds, path_of("bom.csv"), 10, 1, LIMIT) == 0 && ds.n == 2 && ds.labels[0] == 1,
          "BOM then a data row: %s (n %u)", bnlab_errmsg(), ds.n);
    dataset_free(&ds);
    write_text("bomhdr.csv", "\xEF\xBB\xBF" "label,a,b\n4,5,6\n");
    CHECK(csv_load(&ds, path_of("bomhdr.csv"), 10, 1, LIMIT) == 0 && ds.n == 1 && ds.labels[0] == 4,
          "BOM then a header: %s", bnlab_errmsg());
    dataset_free(&ds);
    write_text("bomfeat.csv", "\xEF\xBB\xBF" "0.5,2\n");
    CHECK(csv_load(&ds, path_of("bomfeat.csv"), 0, 0, LIMIT) == 0 && ds.n == 1 && ds.f32 && ds.f32[0] == 0.5f,
          "BOM, features only: %s", bnlab_errmsg());
    dataset_free(&ds);
    expect_csv_error_nl("nanrow.csv", "nan,1,2\n3,4,5\n", 0, "nanrow.csv:1: feature 1 is not a finite number");
    expect_csv_error_nl("nanlabel.csv", "nan,1,2\n3,4,5\n", 1, "nanlabel.csv:1: label must be an integer");
    expect_csv_error_nl("1x.csv", "1x,2,3\n3,4,5\n", 1,
                        "1x.csv:1: field 1 (\"1x\") is not a number but field 2 is");
    expect_csv_error_nl("mixhdr.csv", "label,0,1\n3,4,5\n", 1, "mixhdr.csv:1: field 1 (\"label\") is not a number");
    expect_csv_error_nl("trail.csv", "1,2,3\n2,3 4,5\n", 1,
                        "trail.csv:2: feature 1 is not a finite number: found \"3 4\"");
    expect_csv_error_nl("trail2.csv", "1,2,3\n2,3,5x\n", 1, "trail2.csv:2: feature 2 is not a finite number");
    expect_csv_error_nl("lab1x.csv", "1,2,3\n2x,3,5\n", 1, "lab1x.csv:2: label must be an integer");
    expect_csv_error_nl("emptyf.csv", "1,,3\n", 1, "emptyf.csv:1: feature 1 is empty");
    // strtof skips leading white space, newlines included: an empty last field must not swallow the next row.
    expect_csv_error_nl("eol.csv", "1,2,\n3,4,5\n", 1, "eol.csv:1: feature 2 is empty");
    expect_csv_error_nl("hex.csv", "1,2,3\n1,0x10,3\n", 1, "hex.csv:2: feature 1 is not a finite number");
    write_text("spaces.csv", "1, 2 ,\t3\n");  // blanks around a number are not junk
    CHECK(csv_load(&ds, path_of("spaces.csv"), 10, 1, LIMIT) == 0 && ds.f32[1] == 3.0f, "blanks around numbers: %s",
          bnlab_errmsg());
    dataset_free(&ds);
    expect_csv_error_nl("hdronly.csv", "label,a\n", 1, "no data rows");
}

// Defect 4: a directory or another non-regular file is named as such before any read.
static void test_not_regular(void) {
    dataset_t ds;
    CHECK(idx_load_images(&ds, dir, LIMIT) != 0, "accepted a directory as IDX");
    char want[600];
    snprintf(want, sizeof want, "%s: is a directory", dir);
    CHECK_MSG(bnlab_errmsg(), want);
    CHECK(csv_load(&ds, dir, 10, 1, LIMIT) != 0, "accepted a directory as CSV");
    CHECK_MSG(bnlab_errmsg(), want);
    const char *fifo = path_of("fifo");
    if (mkfifo(fifo, 0600) == 0) {  // opening a FIFO for reading blocks without a writer: must not happen
        CHECK(idx_load_images(&ds, fifo, LIMIT) != 0, "accepted a FIFO as IDX");
        CHECK_MSG(bnlab_errmsg(), "is a FIFO, not a regular file");
        CHECK(csv_load(&ds, fifo, 10, 1, LIMIT) != 0, "accepted a FIFO as CSV");
        CHECK_MSG(bnlab_errmsg(), "is a FIFO, not a regular file");
    }
    CHECK(idx_load_images(&ds, "/dev/null", LIMIT) != 0, "accepted /dev/null");
    CHECK_MSG(bnlab_errmsg(), "/dev/null: is a character device, not a regular file");
}

static void test_preprocess(void) {
    make_valid();
    write_raw("img", IMG, sizeof IMG);
    write_raw("lab", LAB, sizeof LAB);
    dataset_t ds;
    CHECK(idx_load(&ds, path_of("img"), path_of("lab"), 10, LIMIT) == 0, "load");
    float x[2 * 6];
    int32_t y[2];
    uint32_t idx[2] = {3, 0};
    preprocess_t pp = {.scale = 0.1f};
    preprocess_fit(&pp, &ds);
    dataset_gather(&ds, &pp, idx, 2, x, y);
    CHECK(y[0] == 1 && y[1] == 3, "gathered labels");
    CHECK_NEAR(x[4], 3.4, 1e-6, "scaled pixel 4 of image 3");
    pp = (preprocess_t){.scale = 0.1f, .binarize = 1, .threshold = 1.2f};
    dataset_gather(&ds, &pp, idx, 2, x, y);
    CHECK(x[2] == 1.0f && x[6] == 0.0f && x[6 + 5] == 0.0f, "binarized");
    pp = (preprocess_t){.scale = 1.0f, .standardize = 1};
    preprocess_fit(&pp, &ds);
    // Pixel k over the 4 images: k, 10 + k, 20 + k, 30 + k -> mean 15 + k, population std sqrt(125).
    dataset_gather_range(&ds, &pp, 0, 2, x, y);
    CHECK_NEAR(x[0], (0 - 15) / sqrt(125.0), 1e-6, "standardized pixel");
    CHECK_NEAR(x[6 + 1], (11 - 16) / sqrt(125.0), 1e-6, "standardized pixel");
    preprocess_free(&pp);
    dataset_free(&ds);
}

static void test_shipped_subset(void) {
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    char a[1024], b[1024];
    const char *names[2][2] = {{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
                               {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}};
    const uint32_t want_n[2] = {8000, 2000};
    for (int s = 0; s < 2; s++) {
        snprintf(a, sizeof a, "%s/datasets/mnist-subset/%s", root ? root : ".", names[s][0]);
        snprintf(b, sizeof b, "%s/datasets/mnist-subset/%s", root ? root : ".", names[s][1]);
        dataset_t ds;
        CHECK(idx_load(&ds, a, b, 10, LIMIT) == 0, "shipped subset: %s", bnlab_errmsg());
        CHECK(ds.n == want_n[s] && ds.dim == 784, "subset shape %u x %u", ds.n, ds.dim);
        int seen[10] = {0};
        for (uint32_t i = 0; i < ds.n; i++) seen[ds.labels[i]]++;
        for (int c = 0; c < 10; c++) CHECK(seen[c] > (int)ds.n / 20, "class %d has only %d examples", c, seen[c]);
        dataset_free(&ds);
    }
}

// The memory budget is the least of MemAvailable (or --max-memory), what RLIMIT_AS leaves and what the memory cgroup
// leaves. The cgroup files are read from a fake tree here (v2, v1, both, and neither).
static void write_at(const char *rel, const char *text) {
    char d[600];
    snprintf(d, sizeof d, "%s", path_of(rel));
    *strrchr(d, '/') = '\0';
    CHECK(make_dirs(d) == 0, "mkdir %s", d);
    write_text(rel, text);
}

static void test_memory_budget(void) {
    char v2[512], v1[512];
    snprintf(v2, sizeof v2, "%s", path_of("cg/v2"));
    snprintf(v1, sizeof v1, "%s", path_of("cg/v1"));
    write_at("cg/v2/a/b/memory.max", "max\n");  // no limit of its own; its parent's holds
    write_at("cg/v2/a/b/memory.current", "100\n");
    write_at("cg/v2/a/memory.max", "1000000\n");
    write_at("cg/v2/a/memory.current", "450000\n");
    write_at("cg/v2/a/memory.stat", "anon 400000\nfile 50000\nactive_file 0\ninactive_file 50000\n");  // cache back
    write_at("cg/v1/x/memory.limit_in_bytes", "5000000\n");
    write_at("cg/v1/x/memory.usage_in_bytes", "1000000\n");
    write_at("cg/v1/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "no limit"
    write_text("cg/self-v2", "0::/a/b\n");
    write_text("cg/self-v1", "5:cpu,cpuacct:/x\n4:memory:/x\n0::/\n");
    write_text("cg/self-both", "4:memory:/x\n0::/a/b\n");
    write_text("cg/self-none", "4:pids:/x\n0::/\n");
    CHECK(memory_cgroup_headroom(path_of("cg/self-v2"), v2, v1) == 600000, "cgroup v2: %zu, want 600000",
          memory_cgroup_headroom(path_of("cg/self-v2"), v2, v1));
    CHECK(memory_cgroup_headroom(path_of("cg/self-v1"), v2, v1) == 4000000, "cgroup v1: %zu, want 4000000",
          memory_cgroup_headroom(path_of("cg/self-v1"), v2, v1));
    CHECK(memory_cgroup_headroom(path_of("cg/self-both"), v2, v1) == 600000, "both: the least");
    CHECK(memory_cgroup_headroom(path_of("cg/self-none"), v2, v1) == SIZE_MAX, "no memory limit anywhere");
    CHECK(memory_cgroup_headroom(path_of("cg/missing"), v2, v1) == SIZE_MAX, "no /proc/self/cgroup");
    // RLIMIT_AS: a soft limit 64 MiB above what is mapped now caps the budget, also one --max-memory set higher.
    struct rlimit keep, r;
    getrlimit(RLIMIT_AS, &keep);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    CHECK(f && fscanf(f, "%llu", &pages) == 1, "statm");
    if (f) fclose(f);
    size_t mapped = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE), room = (size_t)64 << 20;
    r = keep;
    r.rlim_cur = mapped + room;
    CHECK(setrlimit(RLIMIT_AS, &r) == 0, "setrlimit");
    size_t b = memory_budget();
    memory_set_budget((size_t)1 << 40);
    size_t bo = memory_budget();
    memory_set_budget(0);
    setrlimit(RLIMIT_AS, &keep);
    CHECK(b <= room && b > room / 2, "budget under RLIMIT_AS 64 MiB above the mapped size: %zu", b);
    CHECK(bo <= room, "--max-memory 1 TiB under that RLIMIT_AS: %zu", bo);
    CHECK(memory_budget() > room, "the budget without the limit: %zu", memory_budget());
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/bnlab-test-data-XXXXXX");
    if (!mkdtemp(dir)) return 2;
    test_idx();
    test_csv();
    test_gzip_integrity();
    test_idx_memory();
    test_csv_strict();
    test_not_regular();
    test_preprocess();
    test_shipped_subset();
    test_memory_budget();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("data");
}
