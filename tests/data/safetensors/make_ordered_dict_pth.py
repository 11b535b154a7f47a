# Writes a file laid out like torch.save({"model": model.state_dict()}) without needing torch:
# zip archive with archive/data.pkl (protocol 2), archive/data/<key> storages, archive/version.
import collections, pickle, struct, sys, types, zipfile, io

torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils
def _rebuild_tensor_v2(*a): pass
_rebuild_tensor_v2.__module__ = "torch._utils"; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch._utils = utils
class FloatStorage: pass
class LongStorage: pass
for c in (FloatStorage, LongStorage):
    c.__module__ = "torch"; setattr(torch, c.__name__, c)

class Storage:
    def __init__(self, key, cls, data, n): self.key, self.cls, self.data, self.n = key, cls, data, n
class Tensor:
    def __init__(self, storage, size, stride): self.s, self.size, self.stride = storage, size, stride
    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.s, 0, self.size, self.stride, False, collections.OrderedDict()))

storages = []
def tensor(cls, fmt, values, size, stride):
    s = Storage(str(len(storages)), cls, struct.pack("<%d%s" % (len(values), fmt), *values), len(values))
    storages.append(s); return Tensor(s, size, stride)

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage): return ("storage", obj.cls, obj.key, "cpu", obj.n)
        return None

sd = collections.OrderedDict()
sd["visual_encoder.cls_token"] = tensor(FloatStorage, "f", [0.5, 1.5, 2.5, 3.5], (1, 1, 4), (4, 4, 1))
sd["text_encoder.embeddings.position_ids"] = tensor(LongStorage, "q", [0, 1, 2], (1, 3), (3, 1))
sd._metadata = collections.OrderedDict([("", {"version": 1})])
buf = io.BytesIO(); P(buf, protocol=2).dump({"model": sd}); 
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", buf.getvalue())
    for s in storages: z.writestr("archive/data/" + s.key, s.data)
    z.writestr("archive/version", "3\n")
