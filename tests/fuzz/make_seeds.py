# Seed inputs for pth_reader_fuzz: each .pth fixture as an archive (first byte 1) and its data.pkl
# as a bare pickle (first byte 0). Usage: python3 tests/fuzz/make_seeds.py OUT_DIR
import glob, os, sys, zipfile
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for path in sorted(glob.glob(os.path.join(here, "..", "data", "*", "*.pth"))):
    name = os.path.basename(path)
    data = open(path, "rb").read()
    open(os.path.join(out, "zip_" + name), "wb").write(b"\x01" + data)
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.endswith("/data.pkl"):
                    open(os.path.join(out, "pkl_" + name), "wb").write(b"\x00" + z.read(info))
    except (zipfile.BadZipFile, KeyError, ValueError):
        pass  # a deliberately broken archive: its bytes as a whole are seed enough
