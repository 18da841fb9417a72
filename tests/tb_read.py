#!/usr/bin/python3
"""An independent reader of bnlab's TensorBoard event files (tests/test_tensorboard.sh).

usage: tb_read.py DESCRIPTOR_SET RUN_DIR PROBE_N [OTHER_RUN_DIR]
       tb_read.py --crc-selftest

DESCRIPTOR_SET is tests/tb_event.proto compiled by protoc (--descriptor_set_out). The reader parses the TFRecord
framing itself, checks both CRC-32C of every record (its own CRC, below), decodes each record as an Event with
message classes built from that descriptor, and checks the events against the run's metrics.csv, layer_stats.csv and
gradients.csv (if logged):
every tag, step and value, and each histogram's counts. With OTHER_RUN_DIR, the two event files must hold the same
events but for wall_time (a resumed run against an uninterrupted one). Exit 0, or 1 with the failures listed.
"""
import csv
import math
import os
import re
import struct
import sys


def crc32c(data):
    """CRC-32C bit by bit (reflected polynomial 0x82F63B78): slow, obviously right, unlike bnlab's table."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    """The data of each record; raises ValueError at the first bad length, CRC or truncation."""
    data = open(path, "rb").read()
    off, out = 0, []
    while off < len(data):
        if len(data) - off < 12:
            raise ValueError(f"{path}: {len(data) - off} stray bytes at offset {off}")
        (n,) = struct.unpack_from("<Q", data, off)
        (hcrc,) = struct.unpack_from("<I", data, off + 8)
        if hcrc != masked(crc32c(data[off:off + 8])):
            raise ValueError(f"{path}: length CRC mismatch at offset {off}")
        if off + 12 + n + 4 > len(data):
            raise ValueError(f"{path}: record at offset {off} cut short")
        body = data[off + 12:off + 12 + n]
        (dcrc,) = struct.unpack_from("<I", data, off + 12 + n)
        if dcrc != masked(crc32c(body)):
            raise ValueError(f"{path}: data CRC mismatch at offset {off}")
        out.append(body)
        off += 12 + n + 4
    return out


def event_class(descriptor_set):
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(open(descriptor_set, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    desc = pool.FindMessageTypeByName("bnlab_test.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def read_events(descriptor_set, path):
    Event = event_class(descriptor_set)
    events = []
    for body in records(path):
        e = Event()
        e.ParseFromString(body)
        if e.SerializeToString() != body:  # nothing unknown or misnumbered: the bytes re-encode identically
            raise ValueError(f"{path}: record {len(events)} does not re-encode to its own bytes")
        events.append(e)
    return events


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


class Checker:
    def __init__(self):
        self.fails = []  # the first 20 messages
        self.failed = self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            return
        self.failed += 1
        if len(self.fails) < 20:
            self.fails.append(what)

    def same_float(self, got, want, what):
        """got is a float32 on the wire; want a double from the CSV (%.9g): equal to float precision."""
        w = f32(want)
        self.check(got == w or abs(got - w) <= 2.5e-7 * abs(w), f"{what}: event {got!r}, CSV {want!r}")


def check_run(descriptor_set, run, probe_n):
    c = Checker()
    events = read_events(descriptor_set, os.path.join(run, "tb", "events.out.tfevents.0000000000.bnlab"))
    c.check(len(events) > 0 and events[0].file_version == "brain.Event:2", "first event is file_version brain.Event:2")
    c.check(all(e.WhichOneof("what") == "summary" for e in events[1:]), "every later event holds a summary")
    c.check(all(len(e.summary.value) == 1 for e in events[1:]), "one value per summary")
    c.check(all(e.wall_time > 1.5e9 for e in events), "wall_time is seconds since 1970")
    steps = [e.step for e in events]
    c.check(steps == sorted(steps), "steps never go back")
    by_key = {}
    for e in events[1:]:
        v = e.summary.value[0]
        key = (v.tag, e.step)
        c.check(key not in by_key, f"{key} logged once")
        by_key[key] = v
    used = set()

    def get(tag, step, kind):
        v = by_key.get((tag, step))
        c.check(v is not None and v.WhichOneof("value") == kind, f"{tag} at step {step}: a {kind}")
        used.add((tag, step))
        return v

    metrics = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
    c.check(len(metrics) > 0, "metrics.csv has rows")
    for r in metrics:
        s = int(r["step"])
        pairs = [("loss/train", "train_loss"), ("loss/test", "test_loss"), ("accuracy/train", "train_acc"),
                 ("accuracy/test", "test_acc"), ("lr", "lr")]
        if "test_loss_batchstats" in r:  # log.eval_batch_stats
            pairs += [("loss/test_batchstats", "test_loss_batchstats"), ("accuracy/test_batchstats", "test_acc_batchstats")]
        for tag, col in pairs:
            if r[col] == "":  # not measured (the train columns at step 0): no event either
                c.check((tag, s) not in by_key, f"{tag} at step {s}: an event for an empty cell")
                continue
            v = get(tag, s, "simple_value")
            if v is not None:
                c.same_float(v.simple_value, float(r[col]), f"{tag} at step {s}")

    stats = list(csv.DictReader(open(os.path.join(run, "layer_stats.csv"))))
    n_hist = 0
    for r in stats:
        s, prefix = int(r["step"]), f"layer{r['layer']}_{r['layer_type']}"
        if r["source"] == "train":
            cols = [("mean", "mean"), ("std", "std")] + ([("saturation", "frac_saturated")] if r["frac_saturated"] else [])
            for name, col in cols:
                v = get(f"{prefix}/{name}", s, "simple_value")
                if v is not None:
                    c.same_float(v.simple_value, float(r[col]), f"{prefix}/{name} at step {s}")
        elif r["source"] == "probe":
            v = get(f"{prefix}/outputs", s, "histo")
            if v is None:
                continue
            h, units, what = v.histo, int(r["units"]), f"{prefix}/outputs at step {s}"
            n_hist += 1
            c.check(h.num == probe_n * units, f"{what}: num {h.num} = {probe_n} probe images x {units} units")
            c.check(sum(h.bucket) == h.num, f"{what}: buckets sum to {sum(h.bucket)}, num {h.num}")
            c.check(all(b >= 0 and b == int(b) for b in h.bucket), f"{what}: counts are whole numbers")
            c.check(len(h.bucket_limit) == len(h.bucket) and len(h.bucket) in (1, 30), f"{what}: 30 buckets (or 1)")
            c.check(list(h.bucket_limit) == sorted(h.bucket_limit) and h.bucket_limit[-1] == h.max,
                    f"{what}: limits ascend to max")
            # The layer's outputs are floats; the CSV's %.9g gives each back exactly.
            c.check(h.min == f32(float(r["min"])) and h.max == f32(float(r["max"])),
                    f"{what}: min/max {h.min!r}/{h.max!r} = probe rows' {r['min']}/{r['max']}")
            mean = h.sum / h.num
            std = math.sqrt(max(0.0, h.sum_squares / h.num - mean * mean))
            c.check(abs(mean - float(r["mean"])) <= 1e-8 * max(1.0, abs(mean)), f"{what}: sum/num {mean!r} = mean {r['mean']}")
            c.check(abs(std - float(r["std"])) <= 1e-6 * max(1.0, abs(mean)), f"{what}: std {std!r} = std {r['std']}")
    c.check(n_hist > 0 or probe_n == 0, "histograms were logged")

    # log.gradients_every: layerI_K/gradients beside layerI_K/outputs, each against gradients.csv's act_input row.
    gpath = os.path.join(run, "gradients.csv")
    for r in (csv.DictReader(open(gpath)) if os.path.exists(gpath) else []):
        if r["where"] != "act_input":
            continue
        s, what = int(r["step"]), f"layer{r['layer']}_{r['layer_type']}/gradients at step {r['step']}"
        v = get(f"layer{r['layer']}_{r['layer_type']}/gradients", s, "histo")
        if v is None:
            continue
        h, n, sd = v.histo, int(r["n"]), float(r["std"])
        c.check(h.num == n and sum(h.bucket) == n, f"{what}: num {h.num}, buckets {sum(h.bucket)}, gradients.csv n {n}")
        c.check(len(h.bucket) in (1, 30) and h.bucket_limit[-1] == h.max, f"{what}: 30 buckets up to max")
        c.check(max(-h.min, h.max) == f32(float(r["absmax"])), f"{what}: min/max {h.min!r}/{h.max!r}, absmax {r['absmax']}")
        mean = h.sum / h.num
        std = math.sqrt(max(0.0, h.sum_squares / h.num - mean * mean))
        c.check(abs(mean - float(r["mean"])) <= 1e-6 * sd, f"{what}: sum/num {mean!r} = mean {r['mean']}")
        c.check(abs(std - sd) <= 1e-6 * sd, f"{what}: std {std!r} = std {r['std']}")
    extra = set(by_key) - used
    c.check(not extra, f"events no CSV row accounts for: {sorted(extra)[:5]}")
    return c, events


def strip(events):
    out = []
    for e in events:
        e.wall_time = 0
        out.append(e.SerializeToString())
    return out


def main(argv):
    if argv[1:] == ["--crc-selftest"]:
        ok = crc32c(b"123456789") == 0xE3069283 and crc32c(bytes(32)) == 0x8A9136AA
        print("crc32c self-test", "ok" if ok else "FAILED")
        return 0 if ok else 1
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        c, events = check_run(argv[1], argv[2], int(argv[3]))
        if len(argv) == 5:
            _, other = check_run(argv[1], argv[4], int(argv[3]))
            c.check(strip(events) == strip(other), f"{argv[2]} and {argv[4]} hold the same events but for wall_time")
    except (ValueError, OSError) as e:
        print(f"tb_read: {e}")
        return 1
    if os.environ.get("TB_TAGS_OUT"):  # the tags found, layer prefixes as "layerI_K/", one a line, sorted
        tags = {re.sub(r"^layer[0-9]+_[a-z0-9_]+/", "layerI_K/", e.summary.value[0].tag) for e in events[1:]}
        with open(os.environ["TB_TAGS_OUT"], "w") as f:
            f.write("".join(t + "\n" for t in sorted(tags)))
    for f in c.fails:
        print("FAIL:", f)
    print(f"tb_read: {c.passed} passed, {c.failed} failed checks in {argv[2]}")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
