#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/jsonpath.h"
#include "base/util.h"

static const char *const DTYPE_NAMES[] = {"F32", "F64", "I64", "U32", "U64"};
static const size_t DTYPE_SIZES[] = {4, 8, 8, 4, 8};
#define N_DTYPES 5

void st_init(st_file_t *f) {
    memset(f, 0, sizeof *f);
    f->meta = cJSON_CreateObject();
}

void st_add(st_file_t *f, const char *name, st_dtype_t dtype, int ndim, const int64_t *shape, const void *data) {
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 32;
        st_tensor_t *t = xmalloc(sizeof *t * (size_t)f->cap, "tensor list");
        if (f->t) memcpy(t, f->t, sizeof *t * (size_t)f->n);
        free(f->t);
        f->t = t;
    }
    st_tensor_t *t = &f->t[f->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->ndim = ndim;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i], n *= (size_t)shape[i];
    t->begin = 0;
    t->end = n * DTYPE_SIZES[dtype];
    t->data = data;
}

void st_meta(st_file_t *f, const char *key, const char *value) {
    cJSON_DeleteItemFromObjectCaseSensitive(f->meta, key);
    cJSON_AddStringToObject(f->meta, key, value);
}

int st_write(const st_file_t *f, const char *path) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddItemToObject(h, "__metadata__", cJSON_Duplicate(f->meta, 1));
    size_t off = 0;
    for (int i = 0; i < f->n; i++) {
        const st_tensor_t *t = &f->t[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dtype", DTYPE_NAMES[t->dtype]);
        cJSON *s = cJSON_AddArrayToObject(o, "shape");
        for (int k = 0; k < t->ndim; k++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t->shape[k]));
        cJSON *d = cJSON_AddArrayToObject(o, "data_offsets");
        size_t len = t->end - t->begin;
        cJSON_AddItemToArray(d, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(d, cJSON_CreateNumber((double)(off + len)));
        cJSON_AddItemToObject(h, t->name, o);
        off += len;
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hlen = strlen(text), padded = (hlen + 7) / 8 * 8;  // pad with spaces: tensors start 8-aligned
    size_t total = 8 + padded + off;
    unsigned char *buf = xmalloc(total, "safetensors file");
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)padded >> (8 * b));
    memcpy(buf + 8, text, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    free(text);
    unsigned char *p = buf + 8 + padded;
    for (int i = 0; i < f->n; i++) {  // x86 and arm64 are little-endian, as the format
        size_t len = f->t[i].end - f->t[i].begin;
        memcpy(p, f->t[i].data, len);
        p += len;
    }
    int rc = write_file_atomic(path, buf, total);
    free(buf);
    return rc;
}

static int cmp_begin(const void *a, const void *b) {
    const st_tensor_t *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

// Returns rc after freeing the header tree: messages are formatted (from names inside it) before it goes.
static int fail_free(cJSON *h, int rc) {
    cJSON_Delete(h);
    return rc;
}

// __metadata__: an object of strings, kept as f->meta. -1 + message otherwise.
static int parse_metadata(st_file_t *f, const cJSON *c) {
    int ok = cJSON_IsObject(c);
    for (const cJSON *m = ok ? c->child : NULL; m; m = m->next) ok &= cJSON_IsString(m);
    if (!ok) return bnlab_fail("%s: __metadata__ must map strings to strings", f->path);
    cJSON_Delete(f->meta);
    f->meta = cJSON_Duplicate(c, 1);
    return 0;
}

// A tensor's shape, each dimension and the byte count checked against the data (below 2^53, within data_len);
// *elements receives the element count. -1 + message.
static int parse_shape(st_tensor_t *t, const cJSON *sh, size_t data_len, const char *path, double *elements) {
    double n = 1;
    for (const cJSON *e = sh->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble != floor(e->valuedouble) || e->valuedouble > 9e15)
            return bnlab_fail("%s: tensor %s: shape entries must be non-negative integers", path, t->name);
        t->shape[t->ndim++] = (int64_t)e->valuedouble;
        n *= e->valuedouble;
        if (n * (double)DTYPE_SIZES[t->dtype] > (double)data_len)
            return bnlab_fail("%s: tensor %s: shape needs more bytes than the file holds", path, t->name);
    }
    *elements = n;
    return 0;
}

// One tensor entry {"dtype", "shape", "data_offsets"} into t (its name already set). -1 + message.
static int parse_tensor(st_tensor_t *t, const cJSON *c, size_t data_len, const char *path) {
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(c, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(c, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(c, "data_offsets");
    int d = -1;
    for (int k = 0; k < N_DTYPES && cJSON_IsString(dt); k++)
        if (!strcmp(dt->valuestring, DTYPE_NAMES[k])) d = k;
    if (d < 0) return bnlab_fail("%s: tensor %s: unsupported dtype (bnlab reads F32, F64, I64, U32, U64)", path, t->name);
    t->dtype = (st_dtype_t)d;
    if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > ST_MAX_NDIM || !cJSON_IsArray(of) || cJSON_GetArraySize(of) != 2)
        return bnlab_fail("%s: tensor %s: expected \"shape\" (at most %d dimensions) and two \"data_offsets\"", path,
                          t->name, ST_MAX_NDIM);
    double n = 0;
    if (parse_shape(t, sh, data_len, path, &n) != 0) return -1;
    double b = of->child->valuedouble, e = of->child->next->valuedouble;
    if (!cJSON_IsNumber(of->child) || !cJSON_IsNumber(of->child->next) || b < 0 || e < b || b != floor(b) ||
        e != floor(e) || e > (double)data_len)
        return bnlab_fail("%s: tensor %s: data_offsets outside the %zu data bytes", path, t->name, data_len);
    t->begin = (size_t)b, t->end = (size_t)e;
    if ((double)(t->end - t->begin) != n * (double)DTYPE_SIZES[d])
        return bnlab_fail("%s: tensor %s: %zu data bytes, but dtype and shape need %.0f", path, t->name,
                          t->end - t->begin, n * (double)DTYPE_SIZES[d]);
    return 0;
}

// Ranges must tile the data buffer exactly: no overlaps, no holes.
static int check_tiling(const st_file_t *f, size_t data_len) {
    st_tensor_t *sorted = xmalloc(sizeof *sorted * (size_t)(f->n ? f->n : 1), "sorted tensors");
    memcpy(sorted, f->t, sizeof *sorted * (size_t)f->n);
    qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_begin);
    size_t at = 0;
    int rc = 0;
    for (int i = 0; i < f->n && rc == 0; i++) {
        if (sorted[i].begin < at) rc = bnlab_fail("%s: tensor %s overlaps another tensor", f->path, sorted[i].name);
        else if (sorted[i].begin > at)
            rc = bnlab_fail("%s: %zu unindexed bytes before tensor %s", f->path, sorted[i].begin - at, sorted[i].name);
        at = sorted[i].end > at ? sorted[i].end : at;
    }
    if (rc == 0 && at != data_len) rc = bnlab_fail("%s: %zu bytes after the last tensor", f->path, data_len - at);
    free(sorted);
    return rc;
}

static int parse_header(st_file_t *f, const char *hdr, size_t hlen, size_t data_len) {
    const char *path = f->path;
    size_t bad;
    if (!utf8_valid(hdr, hlen, &bad)) return bnlab_fail("%s: header is not valid UTF-8 (byte %zu)", path, bad);
    if (json_depth(hdr, hlen) > 3) return bnlab_fail("%s: header JSON nested deeper than 3 levels", path);
    cJSON *h = jp_parse_all(hdr, hlen, NULL);
    if (!cJSON_IsObject(h)) return fail_free(h, bnlab_fail("%s: header is not a JSON object", path));
    int count = 0;
    for (cJSON *c = h->child; c; c = c->next) count++;
    f->t = xcalloc((size_t)(count ? count : 1), sizeof(st_tensor_t), "tensor list");
    f->cap = count;
    for (cJSON *c = h->child; c; c = c->next) {
        if (!strcmp(c->string, "__metadata__")) {
            if (parse_metadata(f, c) != 0) return fail_free(h, -1);
            continue;
        }
        for (int i = 0; i < f->n; i++)
            if (!strcmp(f->t[i].name, c->string))
                return fail_free(h, bnlab_fail("%s: tensor %s appears twice", path, c->string));
        if (strlen(c->string) >= ST_MAX_NAME || !cJSON_IsObject(c))
            return fail_free(h, bnlab_fail("%s: bad header entry \"%.40s\"", path, c->string));
        st_tensor_t *t = &f->t[f->n++];
        snprintf(t->name, sizeof t->name, "%s", c->string);
        if (parse_tensor(t, c, data_len, path) != 0) return fail_free(h, -1);
    }
    cJSON_Delete(h);
    return check_tiling(f, data_len);
}

int st_read(st_file_t *f, const char *path, size_t max_bytes) {
    st_init(f);
    f->path = path;
    char *buf;
    size_t len;
    if (read_whole_file(path, max_bytes, &buf, &len) != 0) return -1;
    f->file = (unsigned char *)buf;
    f->file_len = len;
    if (len < 8) {
        st_free(f);
        return bnlab_fail("%s: truncated: %zu bytes, not even the 8-byte header size", path, len);
    }
    uint64_t hlen = 0;
    for (int b = 0; b < 8; b++) hlen |= (uint64_t)f->file[b] << (8 * b);
    if (hlen > ST_MAX_HEADER || hlen > len - 8) {
        st_free(f);
        return bnlab_fail("%s: header size %llu exceeds the file (%zu bytes) or the %zu-byte limit", path,
                       (unsigned long long)hlen, len, ST_MAX_HEADER);
    }
    if (parse_header(f, (const char *)f->file + 8, (size_t)hlen, len - 8 - (size_t)hlen) != 0) {
        char msg[BNLAB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", bnlab_errmsg());
        st_free(f);
        return bnlab_fail("%s", msg);
    }
    for (int i = 0; i < f->n; i++) f->t[i].data = f->file + 8 + hlen + f->t[i].begin;
    return 0;
}

const st_tensor_t *st_find(const st_file_t *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *st_meta_get(const st_file_t *f, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->meta, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void shape_str(char *out, size_t cap, st_dtype_t d, int ndim, const int64_t *shape) {
    int n = snprintf(out, cap, "%s [", DTYPE_NAMES[d]);
    for (int i = 0; i < ndim && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n > 0 && (size_t)n < cap) snprintf(out + n, cap - (size_t)n, "]");
}

int st_get(const st_file_t *f, const char *name, st_dtype_t dtype, int ndim, const int64_t *shape, void *out) {
    const st_tensor_t *t = st_find(f, name);
    if (!t) return bnlab_fail("%s: tensor %s is missing", f->path, name);
    int same = t->dtype == dtype && t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[96], got[96];
        shape_str(want, sizeof want, dtype, ndim, shape);
        shape_str(got, sizeof got, t->dtype, t->ndim, t->shape);
        return bnlab_fail("%s: tensor %s: expected %s, got %s", f->path, name, want, got);
    }
    size_t len = t->end - t->begin;
    memcpy(out, t->data, len);
    if (dtype == ST_F32) {
        const float *v = out;
        for (size_t i = 0; i < len / 4; i++)
            if (!isfinite(v[i])) return bnlab_fail("%s: tensor %s: non-finite value at index %zu", f->path, name, i);
    } else if (dtype == ST_F64) {
        const double *v = out;
        for (size_t i = 0; i < len / 8; i++)
            if (!isfinite(v[i])) return bnlab_fail("%s: tensor %s: non-finite value at index %zu", f->path, name, i);
    }
    return 0;
}

void st_free(st_file_t *f) {
    free(f->t);
    cJSON_Delete(f->meta);
    free(f->file);
    memset(f, 0, sizeof *f);
}

size_t st_tensor_bytes(const st_tensor_t *t) {
    size_t n = DTYPE_SIZES[t->dtype];
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}
