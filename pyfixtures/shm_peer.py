"""A Python SharedMemory/ShareableList peer driven by JSON commands.

Reads one JSON object per line on stdin, answers one JSON object per line on
stdout ({"ok": ...} or {"error": "TypeName", "message": ...}). Objects it
creates or attaches stay open (and so keep the names alive for their
creator) until "close"/"unlink" or exit. Values are tagged so bytes survive
JSON: {"bytes": "<hex>"}; everything else is plain JSON.

    echo '{"op": "version"}' | python3 pyfixtures/shm_peer.py

Commands (op and arguments):
  version                                   -> [major, minor]
  shm_create size                           -> name
  shm_attach name [track]                   -> size (track=False needs 3.13+)
  shm_write name offset data                -> null        data: tagged bytes
  shm_read name offset length               -> tagged bytes
  shm_close name | shm_unlink name          -> null
  shm_pickle name                           -> hex of pickle.dumps(shm, 4)
  shm_unpickle pickle                       -> [name, size, first 16 bytes]
  sl_create items                           -> name
  sl_attach name                            -> length
  sl_read name                              -> [items, format]
  sl_set name index value                   -> null (or the error)
  sl_pickle name                            -> hex
  sl_unpickle pickle                        -> items
  exists name                               -> whether /dev/shm/<name> exists
"""
import json
import os
import pickle
import sys
from multiprocessing import shared_memory

import _fixture

SHM = {}
SL = {}


def enc(v):
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, list):
        return [enc(x) for x in v]
    return v


def dec(v):
    if isinstance(v, dict) and "bytes" in v:
        return bytes.fromhex(v["bytes"])
    if isinstance(v, list):
        return [dec(x) for x in v]
    return v


def shm_attach(name, track=None):
    if track is None:
        return shared_memory.SharedMemory(name)
    return shared_memory.SharedMemory(name, track=track)


def handle(cmd):
    op = cmd["op"]
    if op == "version":
        return list(sys.version_info[:2])
    if op == "shm_create":
        m = shared_memory.SharedMemory(create=True, size=cmd["size"])
        SHM[m.name] = m
        return m.name
    if op == "shm_attach":
        m = shm_attach(cmd["name"], cmd.get("track"))
        SHM[m.name] = m
        return m.size
    if op == "shm_write":
        data = dec(cmd["data"])
        off = cmd["offset"]
        SHM[cmd["name"]].buf[off:off + len(data)] = data
        return None
    if op == "shm_read":
        off = cmd["offset"]
        return enc(bytes(SHM[cmd["name"]].buf[off:off + cmd["length"]]))
    if op == "shm_close":
        SHM.pop(cmd["name"]).close()
        return None
    if op == "shm_unlink":
        SHM[cmd["name"]].unlink()
        return None
    if op == "shm_pickle":
        return pickle.dumps(SHM[cmd["name"]], 4).hex()
    if op == "shm_unpickle":
        m = pickle.loads(bytes.fromhex(cmd["pickle"]))
        SHM[m.name] = m
        return [m.name, m.size, enc(bytes(m.buf[:16]))]
    if op == "sl_create":
        sl = shared_memory.ShareableList(dec(cmd["items"]))
        SL[sl.shm.name] = sl
        return sl.shm.name
    if op == "sl_attach":
        sl = shared_memory.ShareableList(name=cmd["name"])
        SL[sl.shm.name] = sl
        return len(sl)
    if op == "sl_read":
        sl = SL[cmd["name"]]
        return [enc(list(sl)), sl.format]
    if op == "sl_set":
        SL[cmd["name"]][cmd["index"]] = dec(cmd["value"])
        return None
    if op == "sl_pickle":
        return pickle.dumps(SL[cmd["name"]], 4).hex()
    if op == "sl_unpickle":
        sl = pickle.loads(bytes.fromhex(cmd["pickle"]))
        SL[sl.shm.name] = sl
        return enc(list(sl))
    if op == "sl_close":
        SL.pop(cmd["name"]).shm.close()
        return None
    if op == "sl_unlink":
        SL[cmd["name"]].shm.unlink()
        return None
    if op == "exists":
        return os.path.exists("/dev/shm/" + cmd["name"])
    raise ValueError("unknown op %r" % op)


def main():
    p = _fixture.parser(__doc__.splitlines()[0])
    args = p.parse_args()
    _fixture.start(args)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd["op"] == "exit":
            break
        try:
            out = {"ok": handle(cmd)}
        except Exception as e:  # reported to Go, which checks the type
            out = {"error": type(e).__name__, "message": str(e)}
        print(json.dumps(out), flush=True)
    # Keep ShareableList objects from tripping over already-closed segments.
    for sl in SL.values():
        try:
            sl.shm.close()
        except Exception:
            pass
    for m in SHM.values():
        m.close()


if __name__ == "__main__":
    main()
