#include "io/jsonpath.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

void jp_join(char *out, const char *base, const char *key) {
    if (base[0]) snprintf(out, JP_PATH_MAX, "%s.%s", base, key);
    else snprintf(out, JP_PATH_MAX, "%s", key);
}

void jp_index(char *out, const char *base, int i) { snprintf(out, JP_PATH_MAX, "%s[%d]", base, i); }

// An array or object as its compact JSON with a space after each ',' and ':' outside strings ("[1, 1]",
// {"hidden": 9}), cut to 40 characters with "..." when longer (and to cap).
static void describe_compound(char *out, size_t cap, const cJSON *v) {
    char *text = cJSON_PrintUnformatted(v);
    if (!text) {
        snprintf(out, cap, cJSON_IsArray(v) ? "an array" : "an object");
        return;
    }
    char buf[48];
    size_t n = 0, limit = sizeof buf - 1;
    int in_str = 0, esc = 0, cut = 0;
    for (const char *p = text; *p && !cut; p++) {
        int space = !in_str && (*p == ',' || *p == ':');
        if (!in_str) {
            in_str = *p == '"';
        } else {
            if (!esc && *p == '"') in_str = 0;
            esc = !esc && *p == '\\';
        }
        if (n + 1 + (size_t)space > limit - 3 && p[1]) cut = 1;
        else {
            buf[n++] = *p;
            if (space) buf[n++] = ' ';
        }
    }
    buf[n] = '\0';
    snprintf(out, cap, "%s%s", buf, cut ? "..." : "");
    cJSON_free(text);
}

void jp_describe(char *out, size_t cap, const cJSON *v) {
    if (!v) snprintf(out, cap, "nothing");
    else if (cJSON_IsNumber(v)) snprintf(out, cap, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n > 40) snprintf(out, cap, "\"%.37s...\"", v->valuestring);
        else snprintf(out, cap, "\"%s\"", v->valuestring);
    } else if (cJSON_IsTrue(v)) snprintf(out, cap, "true");
    else if (cJSON_IsFalse(v)) snprintf(out, cap, "false");
    else if (cJSON_IsNull(v)) snprintf(out, cap, "null");
    else if (cJSON_IsArray(v) || cJSON_IsObject(v)) describe_compound(out, cap, v);
    else snprintf(out, cap, "an unreadable value");
}

int jp_fail_expected(const char *path, const char *expected, const cJSON *got) {
    char d[64];
    jp_describe(d, sizeof d, got);
    return bnlab_fail("%s: expected %s, got %s", path, expected, d);
}

int jp_object(const cJSON *v, const char *path) {
    if (!cJSON_IsObject(v)) return jp_fail_expected(path[0] ? path : "(top level)", "an object", v);
    return 0;
}

int jp_keys(const cJSON *obj, const char *path, const char *const *allowed) {
    if (jp_object(obj, path) != 0) return -1;
    for (const cJSON *c = obj->child; c; c = c->next) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(c->string, *a) == 0) ok = 1;
        // Duplicate keys would make one of them silently ignored.
        for (const cJSON *d = obj->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0) {
                char p[JP_PATH_MAX];
                jp_join(p, path, c->string);
                return bnlab_fail("%s: duplicate key", p);
            }
        if (!ok) {
            char p[JP_PATH_MAX], list[512] = "";
            jp_join(p, path, c->string);
            for (const char *const *a = allowed; *a; a++) {
                size_t n = strlen(list);
                snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *a);
            }
            return bnlab_fail("%s: unknown key (allowed here: %s)", p, list);
        }
    }
    return 0;
}

int jp_number(const cJSON *obj, const char *path, const char *key, double lo, int lo_open, double hi, int hi_open,
              double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char p[JP_PATH_MAX], want[128];
    jp_join(p, path, key);
    snprintf(want, sizeof want, "a number in %c%.10g, %.10g%c", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return jp_fail_expected(p, want, v);
    double x = v->valuedouble;
    if (x < lo || x > hi || (lo_open && x == lo) || (hi_open && x == hi)) return jp_fail_expected(p, want, v);
    *out = x;
    return 0;
}

int jp_int(const cJSON *obj, const char *path, const char *key, long long lo, long long hi, long long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char p[JP_PATH_MAX], want[128];
    jp_join(p, path, key);
    snprintf(want, sizeof want, "an integer in [%lld, %lld]", lo, hi);
    if (!cJSON_IsNumber(v)) return jp_fail_expected(p, want, v);
    double x = v->valuedouble;
    if (!(x >= (double)lo && x <= (double)hi) || x != floor(x)) return jp_fail_expected(p, want, v);
    *out = (long long)x;
    return 0;
}

int jp_bool(const cJSON *obj, const char *path, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    if (!cJSON_IsBool(v)) return jp_fail_expected(p, "true or false", v);
    *out = cJSON_IsTrue(v);
    return 0;
}

int jp_string(const cJSON *obj, const char *path, const char *key, char *out, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char p[JP_PATH_MAX];
    jp_join(p, path, key);
    if (!cJSON_IsString(v)) return jp_fail_expected(p, "a string", v);
    size_t n = strlen(v->valuestring);
    if (n == 0) return jp_fail_expected(p, "a non-empty string", v);
    if (n >= cap) return bnlab_fail("%s: string of %zu bytes is longer than the limit of %zu", p, n, cap - 1);
    memcpy(out, v->valuestring, n + 1);
    return 0;
}

int jp_enum(const cJSON *obj, const char *path, const char *key, const char *const *names, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return 0;
    char p[JP_PATH_MAX], want[256] = "one of ";
    jp_join(p, path, key);
    for (const char *const *n = names; *n; n++) {
        size_t k = strlen(want);
        snprintf(want + k, sizeof want - k, "%s\"%s\"", n == names ? "" : ", ", *n);
    }
    if (!cJSON_IsString(v)) return jp_fail_expected(p, want, v);
    for (int i = 0; names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return jp_fail_expected(p, want, v);
}

int utf8_valid(const char *buf, size_t len, size_t *bad_at) {
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
        else goto bad;
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += n + 1;
    }
    return 1;
bad:
    *bad_at = i;
    return 0;
}

int json_depth(const char *buf, size_t len) {
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') { if (++depth > max) max = depth; }
        else if (c == ']' || c == '}') depth--;
    }
    return max;
}

cJSON *jp_parse_all(const char *buf, size_t len, size_t *error_at) {
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    size_t at = end ? (size_t)(end - buf) : 0;
    if (v)
        while (at < len && (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\n' || buf[at] == '\r')) at++;
    if (v && at < len) {  // trailing text: not one JSON value
        cJSON_Delete(v);
        v = NULL;
    }
    if (!v && error_at) *error_at = at;
    return v;
}
