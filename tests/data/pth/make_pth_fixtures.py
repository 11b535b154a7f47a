# Writes the .pth fixtures of tests/model/pth_reader_test.cpp without needing torch: archives laid out
# as torch.save writes them (zip with stored records aligned to 64 bytes by an "FB" padding extra
# field, <prefix>/data.pkl in pickle protocol 2, <prefix>/data/<key> storages, <prefix>/version,
# <prefix>/byteorder, <prefix>/.data/serialization_id), the pickle made by Python's own pickler from
# stand-in classes whose __reduce_ex__ returns what torch.Tensor's and torch.nn.Parameter's do.
# Also the malformed variants the reader must refuse. Deterministic: run
#   python3 make_pth_fixtures.py OUT_DIR
import collections, io, os, pickle, struct, sys, types, zlib

torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils; torch._utils = utils
def _rebuild_tensor_v2(*a): pass
def _rebuild_parameter(*a): pass
for f in (_rebuild_tensor_v2, _rebuild_parameter):
    f.__module__ = "torch._utils"; setattr(utils, f.__name__, f)
STORAGE = {}
for name, fmt, width in [("FloatStorage", "f", 4), ("HalfStorage", "e", 2), ("LongStorage", "q", 8),
                         ("BFloat16Storage", None, 2), ("BoolStorage", "?", 1), ("DoubleStorage", "d", 8)]:
    c = type(name, (), {}); c.__module__ = "torch"; setattr(torch, name, c); STORAGE[name] = (c, fmt, width)

def bf16(values):  # truncation of the float32 bits; the test values are exact in bfloat16
    return b"".join(struct.pack("<f", v)[2:] for v in values)

class Storage:
    def __init__(self, key, kind, values, byteorder="<"):
        cls, fmt, width = STORAGE[kind]
        self.key, self.cls, self.n = key, cls, len(values)
        self.data = bf16(values) if fmt is None else struct.pack(byteorder + "%d%s" % (len(values), fmt), *values)
        if fmt is None and byteorder == ">":
            self.data = b"".join(self.data[i:i + 2][::-1] for i in range(0, len(self.data), 2))
class Tensor:
    def __init__(self, storage, offset, size, stride): self.args = (storage, offset, tuple(size), tuple(stride))
    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, self.args + (False, collections.OrderedDict()))
class Parameter:
    def __init__(self, tensor): self.t = tensor
    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.t, True, collections.OrderedDict()))
class Evil:  # what a malicious checkpoint holds; the reader must refuse it without running it
    def __reduce__(self): return (os.system, ("echo this must never run",))

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage): return ("storage", obj.cls, obj.key, "cuda:0", obj.n)
        return None

def pickled(obj, protocol=2):
    buf = io.BytesIO(); P(buf, protocol=protocol).dump(obj); return buf.getvalue()

def zip_bytes(records, align=64):
    """Stored zip; each record's data starts at a multiple of `align` (torch's writer does this)."""
    out, central = bytearray(), bytearray()
    for name, data in records:
        name = name.encode(); crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out); extra = b""
        if align:
            pad = (-(offset + 30 + len(name) + 4)) % align
            extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0x21, crc, len(data), len(data), len(name), len(extra))
        out += name + extra + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 0, 0, 0x21, crc, len(data), len(data),
                               len(name), 0, 0, 0, 0, 0, offset) + name
    n = len(records)
    return bytes(out + central + struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(central), len(out), 0))

def archive(obj, storages, prefix="archive", byteorder="little", protocol=2, align=64):
    records = [(prefix + "/data.pkl", pickled(obj, protocol))]
    if byteorder: records.append((prefix + "/byteorder", byteorder.encode()))
    records += [(prefix + "/data/" + s.key, s.data) for s in storages]
    records += [(prefix + "/version", b"3\n"), (prefix + "/.data/serialization_id", b"1234567890")]
    return zip_bytes(records, align)

def state_dict(byteorder="<"):
    """Views sharing one storage (offsets, strides, a transpose), fp32, fp16, bf16, int64, bool,
    a 0-dim and an empty tensor, a Parameter, as a state dict holds them."""
    s0 = Storage("0", "FloatStorage", [0.5 * i for i in range(12)], byteorder)
    s1 = Storage("1", "HalfStorage", [1.5, -2.0, 0.25, 65504.0], byteorder)
    s2 = Storage("2", "LongStorage", [0, 1, 2], byteorder)
    s3 = Storage("3", "BFloat16Storage", [1.0, -3.5], byteorder)
    s4 = Storage("4", "BoolStorage", [True, False, True], byteorder)
    s5 = Storage("5", "FloatStorage", [7.25], byteorder)
    sd = collections.OrderedDict()
    sd["enc.weight"] = Tensor(s0, 0, (2, 3), (3, 1))
    sd["enc.weight_t"] = Tensor(s0, 0, (3, 2), (1, 3))
    sd["enc.bias"] = Tensor(s0, 6, (4,), (1,))
    sd["enc.strided"] = Tensor(s0, 1, (2, 2), (6, 2))
    sd["enc.broadcast"] = Tensor(s0, 11, (2, 3), (0, 0))
    sd["half"] = Tensor(s1, 0, (2, 2), (2, 1))
    sd["text.position_ids"] = Tensor(s2, 0, (1, 3), (3, 1))
    sd["bf16"] = Tensor(s3, 0, (2,), (1,))
    sd["flags"] = Tensor(s4, 0, (3,), (1,))
    sd["scalar"] = Tensor(s5, 0, (), ())
    sd["empty"] = Tensor(s0, 12, (0, 3), (3, 1))
    sd["param"] = Parameter(Tensor(s0, 2, (2,), (1,)))
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("enc", {"version": 1})])
    return sd, [s0, s1, s2, s3, s4, s5]

def checkpoint(sd):
    """{"model": ..., "optimizer": ..., "config": ..., "epoch": ...} as BLIP's training scripts save."""
    opt = {"state": {0: {"step": 10, "exp_avg": sd["scalar"]}},
           "param_groups": [{"lr": 3e-4, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.05,
                             "amsgrad": False, "maximize": False, "foreach": None, "params": [0, 1, 2]}]}
    config = {"image_size": 384, "vit": "large", "prompt": "a picture of ", "big": 2 ** 40, "neg": -5,
              "init_lr": 1e-5, "data": [b"raw", ["nested", ["list"]]]}
    return {"model": sd, "optimizer": opt, "config": config, "epoch": 19}

def main(out):
    os.makedirs(out, exist_ok=True)
    def write(name, data):
        with open(os.path.join(out, name), "wb") as f: f.write(data)
    sd, st = state_dict()
    write("full_checkpoint.pth", archive(checkpoint(sd), st))
    write("bare_state_dict.pth", archive(sd, st, prefix="model_base_capfilt_large", byteorder=None, align=0))
    write("protocol4.pth", archive(checkpoint(sd), st, protocol=4))
    sdb, stb = state_dict(">")
    write("big_endian.pth", archive(checkpoint(sdb), stb, byteorder="big"))

    # Malformed: each must fail with one clear error.
    bad = collections.OrderedDict(sd); bad["evil"] = Evil()
    write("unexpected_global.pth", archive({"model": bad}, st))
    wide = collections.OrderedDict(sd); wide["wide"] = Tensor(st[0], 4, (3, 3), (3, 1))
    write("shape_mismatch.pth", archive({"model": wide}, st))
    deep = []
    for _ in range(100): deep = [deep]
    write("too_deep.pth", archive({"model": sd, "config": deep}, st))
    write("not_a_tensor.pth", archive({"model": {"x": 3}}, []))
    write("missing_storage.pth", archive({"model": sd}, st[1:]))
    short = Storage("0", "FloatStorage", [0.5 * i for i in range(11)])
    write("storage_size_mismatch.pth", archive({"model": sd}, [short] + st[1:]))
    # The record of storage "2" claims more bytes than the archive has (sizes patched in the local
    # header and the central directory, as a truncated-then-"repaired" download looks).
    data = bytearray(archive({"model": sd}, st))
    name = b"archive/data/2"
    for sig, size_at in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = data.find(sig + (b"" if sig == b"PK\x03\x04" else b""), 0)
        while at >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[at + size_at:at + size_at + 8] = struct.pack("<II", 1 << 30, 1 << 30)
            at = data.find(sig, at + 4)
    write("storage_past_end.pth", bytes(data))

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
