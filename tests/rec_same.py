#!/usr/bin/python3
"""rec_same.py FORMAT WALL_TIME A B: exit 0 if the log files A and B are the same byte for byte once their wall-clock
times are left out (WALL_TIME 1: a CSV's "seconds" column, a JSON line's "seconds" key, an Event's wall_time), else 1
with the first difference on stdout. Used by tests/test_recorders.sh on every file of the table of recorders."""
import re
import struct
import sys


def events(data):
    """The records of a TFRecord file with each Event's field 1 (wall_time, a double) removed; the framing's
    lengths are checked (a cut record is a difference), the CRCs are tests/tb_read.py's business."""
    out, p = [], 0
    while p < len(data):
        if p + 12 > len(data):
            raise ValueError("a record cut short at byte %d" % p)
        n = struct.unpack("<Q", data[p:p + 8])[0]
        if p + 12 + n + 4 > len(data):
            raise ValueError("a record cut short at byte %d" % p)
        d = data[p + 12:p + 12 + n]
        if d[:1] == b"\x09":
            d = d[9:]
        out.append(d)
        p += 12 + n + 4
    return out


def lines(fmt, data):
    if fmt == "tfevents":
        return events(data)
    text = data.decode()
    rows = text.split("\n")
    if fmt == "jsonl":
        return [re.sub(r'"seconds":[^,}]*,?', "", r) for r in rows]
    head = rows[0].split(",")
    if "seconds" not in head:
        return rows
    k = head.index("seconds")
    return [",".join(x for i, x in enumerate(r.split(",")) if i != k) for r in rows]


def main():
    fmt, wall, a, b = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]
    da, db = open(a, "rb").read(), open(b, "rb").read()
    if not wall:
        same = da == db
        print("" if same else "bytes differ")
        return 0 if same else 1
    try:
        la, lb = lines(fmt, da), lines(fmt, db)
    except ValueError as e:
        print(e)
        return 1
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            print("record/line %d differs" % (i + 1))
            return 1
    if len(la) != len(lb):
        print("%d records/lines against %d" % (len(la), len(lb)))
        return 1
    return 0


sys.exit(main())
