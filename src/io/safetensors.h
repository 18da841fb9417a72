// safetensors.h — read and write the safetensors format (github.com/huggingface/safetensors):
//   8 bytes: N, the header size, little-endian uint64
//   N bytes: JSON header {"__metadata__": {string: string}, NAME: {"dtype", "shape", "data_offsets": [b, e]}}
//   rest:    the tensors' bytes, little-endian, C order; offsets relative to the start of this buffer.
// The reader treats the file as hostile: every size and offset is checked against the file before use,
// ranges must match dtype x shape, must not overlap and must cover the buffer with no holes, the header must
// be valid UTF-8 JSON of bounded size and depth. A failure is a one-line message naming the file.
#ifndef BNLAB_SAFETENSORS_H
#define BNLAB_SAFETENSORS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ST_MAX_NDIM 4
#define ST_MAX_HEADER ((size_t)100 << 20)  // as the reference implementation
#define ST_MAX_NAME 128

typedef enum { ST_F32, ST_F64, ST_I64, ST_U32, ST_U64 } st_dtype_t;

typedef struct {
    char name[ST_MAX_NAME];
    st_dtype_t dtype;
    int ndim;
    int64_t shape[ST_MAX_NDIM];
    size_t begin, end;    // byte range in the data buffer
    const void *data;     // writer: the caller's data; reader: inside the file buffer (maybe unaligned)
} st_tensor_t;

typedef struct {
    st_tensor_t *t;
    int n, cap;
    cJSON *meta;          // object of strings
    unsigned char *file;  // reader: the whole file
    size_t file_len;
    const char *path;     // reader: for messages
} st_file_t;

// Writer: collect tensors (data must stay valid until st_write) and metadata, then write atomically.
void st_init(st_file_t *f);
void st_add(st_file_t *f, const char *name, st_dtype_t dtype, int ndim, const int64_t *shape, const void *data);
void st_meta(st_file_t *f, const char *key, const char *value);
int st_write(const st_file_t *f, const char *path);

// Reader.
int st_read(st_file_t *f, const char *path, size_t max_bytes);
const st_tensor_t *st_find(const st_file_t *f, const char *name);
const char *st_meta_get(const st_file_t *f, const char *key);  // NULL if absent
// Copies tensor `name` into out after checking it exists with this dtype and shape; for floats, that every
// value is finite. -1 + message ("FILE: tensor NAME: expected F32 [100, 784], got F32 [100, 785]").
int st_get(const st_file_t *f, const char *name, st_dtype_t dtype, int ndim, const int64_t *shape, void *out);
void st_free(st_file_t *f);
// The byte size of a tensor's data (dtype size x elements).
size_t st_tensor_bytes(const st_tensor_t *t);

#endif
