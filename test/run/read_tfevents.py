"""An independent reader of TensorBoard event files (no tensorflow, no protobuf package):
TFRecord framing with its masked CRC-32C checked, and the Event / Summary protobuf fields
decoded by hand from the wire format. Prints the events as JSON; exits 1 on a bad record.

usage: read_tfevents.py FILE
"""
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(buf):
    pos = 0
    while pos < len(buf):
        header = buf[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", buf[pos + 8 : pos + 12])
        if crc != masked(header):
            raise ValueError(f"record at byte {pos}: length CRC mismatch")
        data = buf[pos + 12 : pos + 12 + length]
        (crc,) = struct.unpack("<I", buf[pos + 12 + length : pos + 16 + length])
        if len(data) != length or crc != masked(data):
            raise ValueError(f"record at byte {pos}: data CRC mismatch")
        yield data
        pos += 16 + length


def varint(buf, pos):
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(buf):
    """(field number, wire type, value) for each field: varint int, fixed64/32 raw bytes, length-delimited bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 2:
            length, pos = varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        else:
            raise ValueError(f"wire type {wire} not expected in an Event")
        yield number, wire, value


def summary_values(buf):
    out = {}
    for number, _, value in fields(buf):
        if number != 1:  # Summary.value
            continue
        tag, simple = None, None
        for n, _, v in fields(value):
            if n == 1:
                tag = v.decode("utf8")
            elif n == 2:
                (simple,) = struct.unpack("<f", v)
        out[tag] = simple
    return out


def event(buf):
    out = {"step": 0}
    for number, _, value in fields(buf):
        if number == 1:
            (out["wall_time"],) = struct.unpack("<d", value)
        elif number == 2:
            out["step"] = value
        elif number == 3:
            out["file_version"] = value.decode("utf8")
        elif number == 5:
            out["values"] = summary_values(value)
    return out


if __name__ == "__main__":
    try:
        with open(sys.argv[1], "rb") as f:
            print(json.dumps([event(r) for r in records(f.read())]))
    except ValueError as err:
        print(f"bad event file: {err}", file=sys.stderr)
        sys.exit(1)
