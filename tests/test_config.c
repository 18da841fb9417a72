// The config parser: valid configs resolve to documented defaults and round-trip; every class of bad input
// is a one-line error naming the file, the JSON path, what was expected and what was found.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run/config.h"
#include "base/util.h"

static char data_dir[1024];

#define DATA                                                                                          \
    "\"data\": {\"train_images\": \"train-images-idx3-ubyte.gz\", \"train_labels\": \"train-labels-idx1-ubyte.gz\"," \
    " \"test_images\": \"t10k-images-idx3-ubyte.gz\", \"test_labels\": \"t10k-labels-idx1-ubyte.gz\"}"
#define LAYERS                                                                                     \
    "\"layers\": [{\"type\": \"dense\", \"units\": 100, \"bias\": false}, {\"type\": \"batchnorm\"}, " \
    "{\"type\": \"sigmoid\"}, {\"type\": \"dropout\", \"rate\": 0.2}, {\"type\": \"dense\", \"units\": 10}]"
#define VALID "{\"name\": \"t\", " DATA ", \"model\": {" LAYERS "}, \"train\": {\"steps\": 10}}"

static int parse_sets(config_t *c, const char *text, const char *const *sets, int n) {
    return config_parse(c, text, strlen(text), "cfg.json", data_dir, sets, n);
}
static int parse(config_t *c, const char *text) { return parse_sets(c, text, NULL, 0); }

// Replaces the first occurrence of from in VALID by to, parses, and checks the error contains want.
static void expect_error(const char *from, const char *to, const char *want) {
    const char *base = VALID;
    const char *at = strstr(base, from);
    CHECK(at != NULL, "test bug: '%s' not in the valid config", from);
    if (!at) return;
    char text[4096];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
    config_t c;
    int rc = parse(&c, text);
    CHECK(rc != 0, "accepted a bad config (%s -> %s)", from, to);
    if (rc != 0) {
        CHECK_MSG(bnlab_errmsg(), want);
        CHECK_MSG(bnlab_errmsg(), "cfg.json: ");
        CHECK(strchr(bnlab_errmsg(), '\n') == NULL, "message is not one line: %s", bnlab_errmsg());
    }
}

static void test_valid_and_defaults(void) {
    config_t c;
    CHECK(parse(&c, VALID) == 0, "valid config rejected: %s", bnlab_errmsg());
    CHECK(c.model.n_layers == 5, "n_layers %d", c.model.n_layers);
    CHECK(c.train.batch_size == 60 && c.threads == 1 && c.seed == 1, "defaults");
    CHECK(c.model.layers[1].eps == 1e-5 && c.model.layers[1].momentum == 0.1 && !c.model.layers[1].cumulative,
          "BN defaults are torch's");
    CHECK(c.model.layers[0].bias == 0 && c.model.layers[4].bias == 1, "bias flags");
    CHECK(fabs(c.data.scale - 1.0 / 255.0) < 1e-12, "IDX pixels scale to [0, 1]");
    CHECK(c.data.train_images[0] == '/', "data paths resolved to absolute: %s", c.data.train_images);

    // Resolved config round trip: JSON -> config -> JSON gives the same text.
    cJSON *j1 = config_to_json(&c);
    char *t1 = cJSON_Print(j1);
    config_t c2;
    CHECK(config_parse(&c2, t1, strlen(t1), "resolved.json", "/", NULL, 0) == 0, "resolved config rejected: %s",
          bnlab_errmsg());
    cJSON *j2 = config_to_json(&c2);
    char *t2 = cJSON_Print(j2);
    CHECK(strcmp(t1, t2) == 0, "resolved config does not round-trip");
    free(t1), free(t2);
    cJSON_Delete(j1), cJSON_Delete(j2);

    const char *cum = "{\"name\": \"t\", " DATA ", \"model\": {\"layers\": [{\"type\": \"batchnorm\", \"momentum\": "
                      "\"cumulative\"}, {\"type\": \"dense\", \"units\": 10}]}, \"train\": {\"epochs\": 1}}";
    CHECK(parse(&c, cum) == 0 && c.model.layers[0].cumulative, "cumulative momentum: %s", bnlab_errmsg());
}

static void test_errors(void) {
    expect_error("\"name\": \"t\"", "\"name\": \"t\", \"nmae\": 1", "nmae: unknown key (allowed here: name, seed");
    expect_error("\"rate\": 0.2", "\"rate\": 1.5", "model.layers[3].rate: expected a number in [0, 1), got 1.5");
    expect_error("\"rate\": 0.2", "\"rate\": \"high\"", "model.layers[3].rate: expected a number in [0, 1), got \"high\"");
    expect_error("{\"type\": \"batchnorm\"}", "{\"type\": \"batchnorm\", \"momentun\": 0.1}",
                 "model.layers[1].momentun: unknown key (allowed here: type, eps, momentum, variant, r_max");
    expect_error("{\"type\": \"batchnorm\"}", "{\"type\": \"batchnorm\", \"momentum\": 0}",
                 "model.layers[1].momentum: expected a number in (0, 1] or \"cumulative\", got 0");
    expect_error("{\"type\": \"sigmoid\"}", "{\"type\": \"sigmod\"}", "model.layers[2].type: expected one of \"dense\"");
    expect_error("{\"type\": \"sigmoid\"}", "{\"type\": \"sigmoid\", \"units\": 3}", "model.layers[2].units: unknown key");
    expect_error("\"steps\": 10", "\"steps\": 10, \"batch_size\": 1", "train.batch_size: 1 is too small for model.layers[1] (batchnorm)");
    expect_error("\"steps\": 10", "\"steps\": 10.5", "train.steps: expected an integer in [1, 1000000000], got 10.5");
    expect_error("\"steps\": 10", "\"steps\": 10, \"epochs\": 2", "train: expected exactly one of \"steps\" and \"epochs\", got both");
    expect_error("\"steps\": 10", "\"batch_size\": 8", "got neither");
    expect_error("\"units\": 10}", "\"units\": 12}", "model.layers[4]: expected the last layer to be dense with 10 units");
    expect_error("\"units\": 100,", "\"units\": 0,", "model.layers[0].units: expected an integer in [1, 65536], got 0");
    expect_error("t10k-labels-idx1-ubyte.gz", "missing.gz", "data.test_labels: cannot use file");
    expect_error("\"train\": {", "\"train\": {\"optimizer\": {\"lr\": -1}, ", "train.optimizer.lr: expected a number in (0, 1000000], got -1");
    expect_error("\"train\": {", "\"train\": {\"optimizer\": {\"nesterov\": true}, ", "train.optimizer.nesterov: Nesterov momentum needs");
    expect_error("\"bias\": false}", "\"bias\": false, \"init\": {\"type\": \"he_normal\", \"std\": 0.1}}",
                 "model.layers[0].init.std: not used by init type \"he_normal\"");
    expect_error("\"name\": \"t\"", "\"name\": \"../evil\"", "name: expected letters, digits");
    expect_error("\"name\": \"t\"", "\"name\": \"t\", \"name\": \"u\"", "name: duplicate key");
    expect_error("\"train\": {\"steps\": 10}", "\"train\": []", "train: expected an object, got []");
    expect_error(", \"train\": {\"steps\": 10}", "", "train: missing section");
    // A refused array or object is shown (compact, spaced, cut at 40 characters), not "an array".
    const char *range[] = {"log.histograms.range=[1, 1]"}, *lrf[] = {"log.landscape.lr_factors=[2,1]"},
               *longer[] = {"log.histograms.range=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]"},
               *obj[] = {"log.histograms.range={\"a,b\": [1]}"};
    config_t c;
    CHECK(parse_sets(&c, VALID, range, 1) != 0, "range [1, 1] accepted");
    CHECK_MSG(bnlab_errmsg(), "--set log.histograms.range (over cfg.json): expected \"adaptive\" or [lo, hi] with lo < hi, got [1, 1]");
    CHECK(parse_sets(&c, VALID, lrf, 1) != 0, "lr_factors [2, 1] accepted");
    CHECK_MSG(bnlab_errmsg(), "got [2, 1]");
    CHECK(parse_sets(&c, VALID, longer, 1) != 0, "a long range accepted");
    CHECK_MSG(bnlab_errmsg(), "got [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,");
    CHECK(strlen(bnlab_errmsg()) > 3 && !strcmp(bnlab_errmsg() + strlen(bnlab_errmsg()) - 3, "..."), "not cut: %s",
          bnlab_errmsg());
    const char *adaptive[] = {"log.histograms.range=\"adaptive\""};
    CHECK(parse_sets(&c, VALID, adaptive, 1) == 0 && c.log.histograms.adaptive == 1,
          "log.histograms.range \"adaptive\" did not set adaptive edges: %s", bnlab_errmsg());
    CHECK(parse_sets(&c, VALID, obj, 1) != 0, "an object range accepted");
    CHECK_MSG(bnlab_errmsg(), "got {\"a,b\": [1]}");
    expect_error("\"steps\": 10}", "\"steps\": 10,}", "not valid JSON (line 1");
}

static void test_hostile_text(void) {
    config_t c;
    const char bad_utf8[] = "{\"name\": \"t\xff\"}";
    CHECK(parse(&c, bad_utf8) != 0, "accepted invalid UTF-8");
    CHECK_MSG(bnlab_errmsg(), "cfg.json: not valid UTF-8 (byte 11)");
    char deep[4096] = "";
    for (int i = 0; i < 1000; i++) strcat(deep, "[");
    CHECK(parse(&c, deep) != 0, "accepted deep nesting");
    CHECK_MSG(bnlab_errmsg(), "nested deeper than 16 levels");
    CHECK(parse(&c, "") != 0, "accepted an empty file");
    CHECK(parse(&c, "[1, 2]") != 0, "accepted an array at the top");
    CHECK_MSG(bnlab_errmsg(), "(top level): expected an object, got [1, 2]");
    // One JSON value per file: a second object after the first is an error, not ignored.
    char two[8192];
    snprintf(two, sizeof two, "%s\n{\"name\": \"second\"}", VALID);
    CHECK(parse(&c, two) != 0, "accepted a second JSON object after the config");
    CHECK_MSG(bnlab_errmsg(), "cfg.json: not valid JSON");
    snprintf(two, sizeof two, "%s \n\t", VALID);
    CHECK(parse(&c, two) == 0, "trailing whitespace refused: %s", bnlab_errmsg());
}

static void test_overrides(void) {
    config_t c;
    const char *ok[] = {"train.optimizer.lr=0.5", "model.layers[3].rate=0.4", "seed=9", "log.dir=out/x"};
    CHECK(parse_sets(&c, VALID, ok, 4) == 0, "overrides rejected: %s", bnlab_errmsg());
    CHECK(c.train.optim.lr == 0.5 && fabs(c.model.layers[3].rate - 0.4) < 1e-12 && c.seed == 9, "overrides applied");
    CHECK(strcmp(c.log.dir, "out/x") == 0, "bare-word string override");
    const char *typo[] = {"train.optimizer.lrr=0.5"};
    CHECK(parse_sets(&c, VALID, typo, 1) != 0, "accepted an override of an unknown key");
    CHECK_MSG(bnlab_errmsg(), "--set train.optimizer.lrr (over cfg.json): unknown key");
    const char *range[] = {"model.layers[3].rate=1.5"};
    CHECK(parse_sets(&c, VALID, range, 1) != 0, "override validated");
    CHECK_MSG(bnlab_errmsg(), "--set model.layers[3].rate (over cfg.json): expected a number in [0, 1), got 1.5");
    const char *idx[] = {"model.layers[9].rate=0.1"};
    CHECK(parse_sets(&c, VALID, idx, 1) != 0, "override out of the array");
    CHECK_MSG(bnlab_errmsg(), "layers has no element [9]");
    // Values are parsed to their end: "1,5" or "10_000" are not numbers (a prefix was silently used before).
    const char *comma[] = {"train.optimizer.lr=1,5"};
    CHECK(parse_sets(&c, VALID, comma, 1) != 0, "lr=1,5 accepted (as %g)", c.train.optim.lr);
    CHECK_MSG(bnlab_errmsg(), "--set train.optimizer.lr (over cfg.json): expected a number in (0, 1000000], got \"1,5\"");
    const char *under[] = {"train.steps=10_000"};
    CHECK(parse_sets(&c, VALID, under, 1) != 0, "steps=10_000 accepted (as %ld)", c.train.steps);
    const char *seed[] = {"seed=7x"};
    CHECK(parse_sets(&c, VALID, seed, 1) != 0, "seed=7x accepted");
    CHECK_MSG(bnlab_errmsg(), "--set seed (over cfg.json): expected an integer");
    const char *noeq[] = {"seed"};
    CHECK(parse_sets(&c, VALID, noeq, 1) != 0, "override without =");
    CHECK_MSG(bnlab_errmsg(), "expected PATH=VALUE");
}

// ---------------------------------------------------------------------------------------------
// Every key, from the tables themselves: set each to a value other than its default (two variants cover the keys
// that exclude each other: steps/epochs, csv/idx files, a schedule's keys, a number or a word, two inits), parse,
// and check (1) that each key's field took the value (so the key is parsed) and (2) that the resolved JSON parses
// back to the identical struct (so the key is written). A key added to a table but missed anywhere fails here.

static const char *existing_file(void) { return "train-images-idx3-ubyte.gz"; }  // relative to data_dir

static int n_words(const char *const *w) {
    int n = 0;
    while (w[n]) n++;
    return n;
}

// A value for key k other than its default, in variant v; NULL if the key has none to offer (a one-word enum).
// train.steps and train.epochs are alternatives (exactly one is given): one in each variant. Other keys left out
// while 0 (log.update_ratios_every, a recorder's key) are set in both.
static int alternative(const key_desc_t *k) { return !strcmp(k->name, "steps") || !strcmp(k->name, "epochs"); }

static cJSON *other_value(const key_desc_t *k, int v, int *omit_seen, void *scratch) {
    double lo = k->lo, hi = k->hi;
    switch (k->type) {
    case KEY_BOOL: return cJSON_CreateBool(!(int)k->def);
    case KEY_INT:
    case KEY_LONG:
    case KEY_U64: {
        if (k->flags & KEY_OMIT_ZERO && alternative(k) && (*omit_seen)++ != v) return NULL;  // steps, then epochs
        double x = lo + 1 + v;
        if (x == k->def) x++;
        x = x > hi ? lo : x;
        // kept in scratch, as enums are, for the keys that apply only with this one set (log.curvature_source)
        if (k->type == KEY_INT) *(int *)((char *)scratch + k->field) = (int)x;
        else if (k->type == KEY_LONG) *(long *)((char *)scratch + k->field) = (long)x;
        else *(uint64_t *)((char *)scratch + k->field) = (uint64_t)x;
        return cJSON_CreateNumber(x);
    }
    case KEY_DOUBLE: {
        double x = lo + (hi - lo) * (0.375 + 0.25 * v);
        return cJSON_CreateNumber(x == k->def ? x / 2 : x);
    }
    case KEY_DOUBLE_OR_WORD: return v == 0 ? cJSON_CreateString(k->word) : cJSON_CreateNumber(lo + (hi - lo) * 0.375);
    case KEY_ENUM: {
        int n = n_words(k->words), e = (v + 1) % n;
        if (n < 2) return NULL;
        if (k->field != KEY_NO_FIELD) *(int *)((char *)scratch + k->field) = e;
        return cJSON_CreateString(k->words[e]);
    }
    case KEY_STRING: return cJSON_CreateString(v ? "rt-1" : "rt-0");
    case KEY_PATH: return cJSON_CreateString(existing_file());
    case KEY_INIT:
        return cJSON_Parse(v ? "{\"type\": \"uniform\", \"a\": 0.07}" : "{\"type\": \"normal\", \"std\": 0.02}");
    default: return NULL;  // objects and custom keys: by the caller
    }
}

static cJSON *all_keys_object(const key_desc_t *keys, int v, int *omit_seen, void *scratch);

static cJSON *layer_list(int v, int classes) {
    cJSON *a = cJSON_CreateArray();
    for (int kind = 0; kind < LAYER_KIND_COUNT; kind++) {
        int omit = 0;
        config_t scratch;
        cJSON *o = all_keys_object(layer_kind(kind)->keys, v, &omit, &scratch);
        cJSON_AddStringToObject(o, "type", layer_kind_name(kind));
        cJSON_AddItemToArray(a, o);
    }
    // The ladder's keys apply to the standard variant only, which the loop above never picks: one more BN layer.
    cJSON_AddItemToArray(a, cJSON_Parse(v ? "{\"type\": \"batchnorm\", \"normalize\": \"variance\", \"affine\": \"none\", "
                                            "\"freeze_stats_after\": 5}"
                                          : "{\"type\": \"batchnorm\", \"normalize\": \"mean\", \"affine\": \"frozen\", "
                                            "\"statistics\": \"population\", \"freeze_stats_after\": 3}"));
    cJSON *last = cJSON_CreateObject();
    cJSON_AddStringToObject(last, "type", "dense");
    cJSON_AddNumberToObject(last, "units", classes);
    cJSON_AddItemToArray(a, last);
    return a;
}

// A KEY_ROWS key's row i in the struct at obj (run/config.h: a recorder's settings slot).
static void *row_base(const void *obj, const key_desc_t *k, int i) { return (char *)obj + k->field + (size_t)i * k->stride; }

// The keys into o; scratch: the struct the keys describe, where values that other keys' applies read are kept.
static void add_keys(cJSON *o, const key_desc_t *keys, int v, int *omit_seen, void *scratch) {
    for (const key_desc_t *k = keys; k->name; k++) {
        if (k->type == KEY_ROWS) {  // the recorders' keys, in this same object
            for (int i = 0; k->rows(i); i++) add_keys(o, k->rows(i), v, omit_seen, row_base(scratch, k, i));
            continue;
        }
        if (k->applies && !k->applies(scratch)) continue;
        cJSON *val = NULL;
        if (k->type == KEY_OBJECT) val = all_keys_object(k->sub, v, omit_seen, scratch);
        else if (k->type == KEY_CUSTOM && !strcmp(k->name, "q")) val = cJSON_Parse("[10, 90]");
        else if (k->type == KEY_CUSTOM && !strcmp(k->name, "units")) val = cJSON_Parse("[{\"hidden\": 1, \"unit\": 2}]");
        else if (k->type == KEY_CUSTOM && !strcmp(k->name, "lr_factors")) val = cJSON_Parse(v ? "[1, 1]" : "[0.25, 2]");
        else if (k->type == KEY_CUSTOM && !strcmp(k->name, "params")) val = cJSON_Parse(v ? "[0]" : "\"all\"");
        else if (k->type == KEY_CUSTOM && !strcmp(k->name, "range")) val = cJSON_Parse(v ? "[-2, 3]" : "\"adaptive\"");
        else if (k->type == KEY_CUSTOM) continue;  // model.layers: below
        // a block that forms in variant 1's batches of 3 (train.batch_size: lo 1 + 1 + v), not the default 4
        else if (!strcmp(k->name, "ghost_batch")) val = cJSON_CreateNumber(3);
        else val = other_value(k, v, omit_seen, scratch);
        if (val) cJSON_AddItemToObject(o, k->name, val);
    }
}

static cJSON *all_keys_object(const key_desc_t *keys, int v, int *omit_seen, void *scratch) {
    cJSON *o = cJSON_CreateObject();
    add_keys(o, keys, v, omit_seen, scratch);
    return o;
}

// 1 if the field of k in obj differs from k's default (for the keys that have one).
static int differs_from_default(const key_desc_t *k, const void *obj) {
    const char *f = (const char *)obj + k->field;
    switch (k->type) {
    case KEY_BOOL:
    case KEY_INT:
    case KEY_ENUM: return *(const int *)f != (int)k->def;
    case KEY_LONG: return *(const long *)f != (long)k->def;
    case KEY_U64: return *(const uint64_t *)f != (uint64_t)k->def;
    case KEY_DOUBLE: return *(const double *)f != k->def;
    case KEY_DOUBLE_OR_WORD: return *(const double *)f != k->def || *(const int *)((const char *)obj + k->word_field);
    case KEY_STRING:
    case KEY_PATH: return strcmp(f, k->sdef ? k->sdef : "") != 0;
    case KEY_INIT: return ((const init_spec_t *)f)->kind != INIT_XAVIER_UNIFORM;
    default: return 1;
    }
}

// Marks in seen[] (indexed by row order of a depth-first walk) the keys whose field took a non-default value.
static void mark_set(const key_desc_t *keys, const void *obj, int *seen, int *i) {
    for (const key_desc_t *k = keys; k->name; k++) {
        int me = (*i)++;
        if (k->type == KEY_OBJECT) {
            seen[me] = 1;
            mark_set(k->sub, obj, seen, i);
        } else if (k->type == KEY_ROWS) {
            seen[me] = 1;
            for (int r = 0; k->rows(r); r++) mark_set(k->rows(r), row_base(obj, k, r), seen, i);
        } else if (k->type == KEY_CUSTOM || k->field == KEY_NO_FIELD || (k->flags & KEY_REQUIRED)) {
            seen[me] = 1;  // no default to differ from: covered by the round trip
        } else if (differs_from_default(k, obj)) {
            seen[me] = 1;
        }
    }
}

static int count_keys(const key_desc_t *keys) {
    int n = 0;
    for (const key_desc_t *k = keys; k->name; k++) {
        n += 1 + (k->type == KEY_OBJECT ? count_keys(k->sub) : 0);
        for (int r = 0; k->type == KEY_ROWS && k->rows(r); r++) n += count_keys(k->rows(r));
    }
    return n;
}

static const char *key_at(const key_desc_t *keys, int want, int *i) {
    for (const key_desc_t *k = keys; k->name; k++) {
        if ((*i)++ == want) return k->name;
        if (k->type == KEY_OBJECT) {
            const char *n = key_at(k->sub, want, i);
            if (n) return n;
        }
        for (int r = 0; k->type == KEY_ROWS && k->rows(r); r++) {
            const char *n = key_at(k->rows(r), want, i);
            if (n) return n;
        }
    }
    return NULL;
}

// model.stack expands into the layers a hand-written list would give (BN before the activation drops the bias).
static void test_stack(void) {
    config_t a, b;
    const char *stacked = "{\"name\": \"t\", " DATA ", \"model\": {\"stack\": {\"hidden\": [100, 7], \"norm\": "
                          "{\"type\": \"batchnorm\"}, \"activation\": \"relu\", \"dropout\": 0.2}}, \"train\": {\"steps\": 10}}";
    const char *listed = "{\"name\": \"t\", " DATA ", \"model\": {\"layers\": [{\"type\": \"dense\", \"units\": 100, "
                         "\"bias\": false}, {\"type\": \"batchnorm\"}, {\"type\": \"relu\"}, {\"type\": \"dropout\", \"rate\": 0.2}, "
                         "{\"type\": \"dense\", \"units\": 7, \"bias\": false}, {\"type\": \"batchnorm\"}, {\"type\": \"relu\"}, "
                         "{\"type\": \"dropout\", \"rate\": 0.2}, {\"type\": \"dense\", \"units\": 10}]}, \"train\": {\"steps\": 10}}";
    CHECK(parse(&a, stacked) == 0, "stack rejected: %s", bnlab_errmsg());
    CHECK(parse(&b, listed) == 0, "list rejected: %s", bnlab_errmsg());
    CHECK(memcmp(&a, &b, sizeof a) == 0, "model.stack does not expand into the listed layers");
    const char *after[] = {"model.stack.position=after"};
    CHECK(parse_sets(&a, stacked, after, 1) == 0 && a.model.layers[0].bias == 1 && a.model.layers[1].kind == LAYER_RELU &&
              a.model.layers[2].kind == LAYER_BATCHNORM, "norm after the activation: %s", bnlab_errmsg());
    const char *both[] = {"model.layers=[{\"type\": \"dense\", \"units\": 10}]"};
    CHECK(parse_sets(&a, stacked, both, 1) != 0, "layers and stack both accepted");
    CHECK_MSG(bnlab_errmsg(), "model: expected one of \"layers\" and \"stack\", got both");
    // Its keys go through the key table (STACK_KEYS): the config's one-line errors with the JSON path.
    static const char *const bad[][2] = {
        {"{\"hidden\": [10], \"colour\": 1}", "cfg.json: model.stack.colour: unknown key (allowed here: hidden, activation, norm, position, dropout)"},
        {"{\"activation\": \"relu\"}", "cfg.json: model.stack.hidden: missing (an array of hidden layer widths"},
        {"{\"hidden\": 100}", "cfg.json: model.stack.hidden: expected an array of hidden layer widths, e.g. [100, 100, 100], got 100"},
        {"{\"hidden\": [10, 0]}", "cfg.json: model.stack.hidden[1]: expected a width 1..65536, got 0"},
        {"{\"hidden\": [10], \"activation\": 3}", "cfg.json: model.stack.activation: expected a string, got 3"},
        {"{\"hidden\": [10], \"activation\": \"dense\"}", "cfg.json: model.stack.activation: expected a nonlinearity"},
        {"{\"hidden\": [10], \"position\": \"middle\"}", "cfg.json: model.stack.position: expected one of \"before\", \"after\", got \"middle\""},
        {"{\"hidden\": [10], \"dropout\": 1}", "cfg.json: model.stack.dropout: expected a number in [0, 1), got 1"},
        {"{\"hidden\": [10], \"norm\": {\"type\": \"batchnorm\", \"eps\": 2}}", "cfg.json: model.stack.norm.eps: expected a number in (0, 1], got 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"name\": \"t\", " DATA ", \"model\": {\"stack\": %s}, \"train\": {\"steps\": 10}}",
                 bad[i][0]);
        CHECK(parse(&a, text) != 0, "bad stack %s accepted", bad[i][0]);
        CHECK_MSG(bnlab_errmsg(), bad[i][1]);
    }
}


// model.layers' repeat blocks expand into the layers a hand-written list gives, nested blocks too; the resolved
// config lists them expanded and reloads to the same config; bad blocks are one-line errors with their JSON path, and a
// huge repeat is refused before anything is expanded.
#define CFG_HEAD "{\"name\": \"t\", " DATA ", \"model\": {\"layers\": "
#define CFG_TAIL "}, \"train\": {\"steps\": 10}}"
#define BLOCK3 "{\"type\": \"dense\", \"units\": 7, \"bias\": false}, {\"type\": \"batchnorm\"}, {\"type\": \"relu\"}"
static void expect_layers_error(const char *layers, const char *want) {
    char text[4096];
    snprintf(text, sizeof text, CFG_HEAD "%s" CFG_TAIL, layers);
    config_t c;
    int rc = parse(&c, text);
    CHECK(rc != 0, "accepted model.layers %s", layers);
    if (rc != 0) {
        CHECK_MSG(bnlab_errmsg(), want);
        CHECK(strchr(bnlab_errmsg(), '\n') == NULL, "message is not one line: %s", bnlab_errmsg());
    }
}

static void test_repeat(void) {
    config_t a, b, c;
    const char *rep = CFG_HEAD "[{\"repeat\": 3, \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": 10}]" CFG_TAIL;
    const char *listed = CFG_HEAD "[" BLOCK3 ", " BLOCK3 ", " BLOCK3 ", {\"type\": \"dense\", \"units\": 10}]" CFG_TAIL;
    CHECK(parse(&a, rep) == 0, "repeat block rejected: %s", bnlab_errmsg());
    CHECK(parse(&b, listed) == 0, "listed layers rejected: %s", bnlab_errmsg());
    CHECK(a.model.n_layers == 10, "3 x 3 + 1 layers, got %d", a.model.n_layers);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "a repeat block does not expand into the listed layers");
    // Nested: 2 x (dense, 2 x (batchnorm, relu)) and a plain layer between blocks.
    const char *nested = CFG_HEAD "[{\"repeat\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 5}, {\"repeat\": 2, "
                         "\"layers\": [{\"type\": \"batchnorm\"}, {\"type\": \"tanh\"}]}]}, {\"type\": \"dense\", "
                         "\"units\": 10}]" CFG_TAIL;
    CHECK(parse(&c, nested) == 0 && c.model.n_layers == 11, "nested repeat: %s (%d layers)", bnlab_errmsg(),
          c.model.n_layers);
    static const layer_kind_t want[] = {LAYER_DENSE, LAYER_BATCHNORM, LAYER_TANH, LAYER_BATCHNORM, LAYER_TANH,
                                        LAYER_DENSE, LAYER_BATCHNORM, LAYER_TANH, LAYER_BATCHNORM, LAYER_TANH, LAYER_DENSE};
    for (int i = 0; i < 11 && i < c.model.n_layers; i++)
        CHECK(c.model.layers[i].kind == want[i], "nested layer %d is %s", i, layer_kind_name(c.model.layers[i].kind));
    // Written back expanded; that reloads to the same config.
    cJSON *j = config_to_json(&a);
    char *t = cJSON_Print(j);
    CHECK(strstr(t, "repeat") == NULL, "the resolved config still has a repeat block");
    CHECK(config_parse(&c, t, strlen(t), "resolved.json", "/", NULL, 0) == 0 && memcmp(&a, &c, sizeof a) == 0,
          "the resolved config of a repeat block does not reload to the same config: %s", bnlab_errmsg());
    free(t);
    cJSON_Delete(j);
    // --set reaches into a block: the depth is one override (a sweep's grid path).
    const char *deeper[] = {"model.layers[0].repeat=5"}, *unit[] = {"model.layers[0].layers[0].units=9"};
    CHECK(parse_sets(&c, rep, deeper, 1) == 0 && c.model.n_layers == 16, "--set repeat=5: %s", bnlab_errmsg());
    CHECK(parse_sets(&c, rep, unit, 1) == 0 && c.model.layers[6].units == 9, "--set a block's layer: %s",
          bnlab_errmsg());
    const char *huge[] = {"model.layers[0].repeat=1000000000"};
    CHECK(parse_sets(&c, rep, huge, 1) != 0, "repeat 1e9 accepted");
    CHECK_MSG(bnlab_errmsg(), "--set model.layers[0].repeat (over cfg.json): expected an integer in [1, 512], got 1000000000");
    // Errors, each naming its JSON path.
    expect_layers_error("[{\"repeat\": 0, \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": 10}]",
                        "cfg.json: model.layers[0].repeat: expected an integer in [1, 512], got 0");
    expect_layers_error("[{\"repeat\": 2.5, \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].repeat: expected an integer in [1, 512], got 2.5");
    expect_layers_error("[{\"repeat\": \"many\", \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].repeat: expected an integer in [1, 512], got \"many\"");
    expect_layers_error("[{\"repeat\": 2, \"layers\": []}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].layers: expected a non-empty array of layers");
    expect_layers_error("[{\"repeat\": 2}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].layers: missing (the block's layers, repeated 2 times)");
    expect_layers_error("[{\"repeat\": 2, \"layers\": [" BLOCK3 "], \"type\": \"dense\"}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].type: unknown key (allowed here: repeat, layers)");
    expect_layers_error("[{\"repeat\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 0}]}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].layers[0].units: expected an integer in [1, 65536], got 0");
    expect_layers_error("[{\"repeat\": 2, \"layers\": [{\"repeat\": 3, \"layers\": [{\"type\": \"relux\"}]}]}, "
                        "{\"type\": \"dense\", \"units\": 10}]",
                        "model.layers[0].layers[0].layers[0].type: expected one of");
    // 512 x 512 x 512 layers: refused by counting, before any layer is expanded.
    expect_layers_error("[{\"repeat\": 512, \"layers\": [{\"repeat\": 512, \"layers\": [{\"repeat\": 512, \"layers\": ["
                        BLOCK3 "]}]}]}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers: expands to more than 512 layers (repeat blocks included); expected 1..512");
    expect_layers_error("[{\"repeat\": 171, \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": 10}]",
                        "model.layers: expands to more than 512 layers");
    expect_layers_error("[]", "model.layers: expected a non-empty array of layers");
    // The largest that fits: 170 x 3 + 1 = 511 layers.
    char text[4096];
    snprintf(text, sizeof text, CFG_HEAD "[{\"repeat\": 170, \"layers\": [" BLOCK3 "]}, {\"type\": \"dense\", \"units\": "
             "10}]" CFG_TAIL);
    CHECK(parse(&c, text) == 0 && c.model.n_layers == 511, "170 x 3 + 1 layers: %s", bnlab_errmsg());
}

static void test_every_key_round_trips(void) {
    const key_desc_t *keys = config_keys();
    int n = count_keys(keys), seen[256] = {0}, layer_seen[LAYER_KIND_COUNT][16] = {{0}};
    for (int v = 0; v < 2; v++) {
        int omit = 0;
        config_t scratch, c1, c2;
        memset(&scratch, 0, sizeof scratch);
        cJSON *root = all_keys_object(keys, v, &omit, &scratch);
        cJSON *data = cJSON_GetObjectItem(root, "data"), *model = cJSON_GetObjectItem(root, "model");
        cJSON_AddItemToObject(model, "layers", layer_list(v, cJSON_GetObjectItem(data, "classes")->valueint));
        char *text = cJSON_Print(root);
        int rc = parse(&c1, text);
        CHECK(rc == 0, "every-key config (variant %d) rejected: %s\n%s", v, bnlab_errmsg(), text);
        free(text);
        cJSON_Delete(root);
        if (rc) continue;
        int i = 0;
        mark_set(keys, &c1, seen, &i);
        for (int l = 0; l < c1.model.n_layers - 1; l++) {
            int j = 0;
            mark_set(layer_kind(c1.model.layers[l].kind)->keys, &c1.model.layers[l], layer_seen[c1.model.layers[l].kind],
                     &j);
        }
        cJSON *back = config_to_json(&c1);
        char *btext = cJSON_Print(back);
        rc = parse(&c2, btext);
        CHECK(rc == 0 && memcmp(&c1, &c2, sizeof c1) == 0,
              "variant %d: the resolved JSON does not parse back to the same config (%s)\n%s", v,
              rc ? bnlab_errmsg() : "fields differ", btext);
        if (rc == 0 && memcmp(&c1, &c2, sizeof c1) != 0)
            for (size_t b = 0; b < sizeof c1; b++)
                if (((unsigned char *)&c1)[b] != ((unsigned char *)&c2)[b]) {
                    printf("  first differing byte at offset %zu of config_t\n", b);
                    break;
                }
        free(btext);
        cJSON_Delete(back);
    }
    for (int i = 0; i < n; i++) {
        int j = 0;
        CHECK(seen[i], "config key %s was never set to a non-default value (not parsed?)", key_at(keys, i, &j));
    }
    for (int kind = 0; kind < LAYER_KIND_COUNT; kind++) {
        int j = 0;
        for (const key_desc_t *k = layer_kind(kind)->keys; k->name; k++, j++)
            CHECK(layer_seen[kind][j], "layer key %s.%s was never set to a non-default value", layer_kind_name(kind),
                  k->name);
    }
}

int main(void) {
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    snprintf(data_dir, sizeof data_dir, "%s/datasets/mnist-subset", root ? root : ".");
    test_valid_and_defaults();
    test_errors();
    test_hostile_text();
    test_overrides();
    test_every_key_round_trips();
    test_stack();
    test_repeat();
    return check_summary("config");
}
