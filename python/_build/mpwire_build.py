"""The in-tree PEP 517 build backend of the mpwire Python package.

Stdlib only, so that `pip install ./python` works offline: pyproject.toml
asks for no build requirements (build-system.requires = []), and pip's
isolated build environment needs nothing from an index. It builds a pure
Python wheel (py3-none-any) of the mpwire/ package, an sdist, and a PEP 660
editable wheel (`pip install -e ./python`: a .pth file naming this
directory).

The metadata comes from pyproject.toml's [project] table (read by a small
parser of the TOML this file uses: strings, arrays of strings, inline
tables of strings) and the version from mpwire/__init__.py's __version__.

Also usable without pip: python _build/mpwire_build.py wheel OUTDIR
"""
import base64
import calendar
import hashlib
import io
import os
import re
import sys
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "mpwire"
TAG = "py3-none-any"


# ---- metadata -------------------------------------------------------------

_STR = r'"((?:[^"\\]|\\.)*)"'


def _unquote(s):
    return re.sub(r'\\(["\\])', r"\1", s)


def _value(text):
    """A TOML value of the kinds pyproject.toml uses here."""
    text = text.strip()
    m = re.fullmatch(_STR, text)
    if m:
        return _unquote(m.group(1))
    if text.startswith("[") and text.endswith("]"):
        return [_unquote(s) for s in re.findall(_STR, text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        return {k: _unquote(v) for k, v in re.findall(r'([A-Za-z0-9_.-]+)\s*=\s*' + _STR, text[1:-1])}
    raise ValueError("pyproject.toml: unsupported value %r" % text)


def _strip_comment(line):
    """line without a # comment (a # inside a string stays)."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif c == "#" and not quoted:
            return line[:i]
    return line


def read_pyproject(path=None):
    """pyproject.toml as {table name: {key: value}} (top-level keys of each
    table; multi-line arrays are joined)."""
    path = path or os.path.join(ROOT, "pyproject.toml")
    tables, table = {}, None
    pending = ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = _strip_comment(raw).strip()
            if pending:
                pending += " " + line
                if pending.count("[") == pending.count("]"):
                    key, _, val = pending.partition("=")
                    tables[table][key.strip()] = _value(val)
                    pending = ""
                continue
            if not line:
                continue
            m = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", line)
            if m:
                table = m.group(1)
                tables.setdefault(table, {})
                continue
            key, eq, val = line.partition("=")
            if not eq or table is None:
                raise ValueError("pyproject.toml: cannot read line %r" % raw)
            val = val.strip()
            if val.startswith("[") and val.count("[") != val.count("]"):
                pending = line
                continue
            tables[table][key.strip()] = _value(val)
    return tables


def version():
    """__version__ from mpwire/__init__.py."""
    with open(os.path.join(ROOT, PACKAGE, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r'^__version__ = "([^"]+)"$', f.read(), re.M)
    if not m:
        raise ValueError("mpwire/__init__.py has no __version__")
    return m.group(1)


def metadata():
    """The METADATA file (core metadata 2.1) as text."""
    project = read_pyproject()["project"]
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % project["name"],
        "Version: %s" % version(),
        "Summary: %s" % project["description"],
        "License: %s" % project["license"]["text"],
        "Requires-Python: %s" % project["requires-python"],
    ]
    lines += ["Classifier: %s" % c for c in project.get("classifiers", [])]
    for label, url in sorted(read_pyproject().get("project.urls", {}).items()):
        lines.append("Project-URL: %s, %s" % (label, url))
    return "\n".join(lines) + "\n"


def _dist_name():
    return "%s-%s" % (PACKAGE, version())


def _dist_info():
    return _dist_name() + ".dist-info"


def _wheel_file():
    return "Wheel-Version: 1.0\nGenerator: mpwire_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG


def _package_files():
    """(archive name, path) of every source file of the package, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, PACKAGE)):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                out.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), path))
    return out


def _read(path):
    with open(path, "rb") as f:
        return f.read()


# ---- archives -------------------------------------------------------------

def _date_time():
    """Reproducible archives: SOURCE_DATE_EPOCH, else 1980-01-01."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return time.gmtime(max(int(epoch), 315532800))[:6]
    return (1980, 1, 1, 0, 0, 0)


def _write_wheel(directory, entries):
    """Write a wheel holding entries [(archive name, bytes)] plus the
    dist-info files and RECORD; return its file name."""
    info = _dist_info()
    entries = list(entries) + [
        (info + "/METADATA", metadata().encode("utf-8")),
        (info + "/WHEEL", _wheel_file().encode("ascii")),
    ]
    license_path = os.path.join(ROOT, "LICENSE")
    if os.path.exists(license_path):
        entries.append((info + "/LICENSE", _read(license_path)))
    record = []
    for name, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append("%s/RECORD,," % info)
    entries.append((info + "/RECORD", ("\n".join(record) + "\n").encode("utf-8")))

    filename = "%s-%s.whl" % (_dist_name(), TAG)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, filename + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, _date_time())
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    os.replace(tmp, os.path.join(directory, filename))
    return filename


# ---- PEP 517 hooks --------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = os.path.join(metadata_directory, _dist_info())
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(metadata())
    with open(os.path.join(info, "WHEEL"), "w", encoding="ascii") as f:
        f.write(_wheel_file())
    return _dist_info()


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """A py3-none-any wheel of mpwire/."""
    return _write_wheel(wheel_directory, [(name, _read(path)) for name, path in _package_files()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """A PEP 660 editable wheel: a .pth file that puts this directory on
    sys.path, so edits to mpwire/ take effect without reinstalling."""
    pth = (ROOT + "\n").encode(sys.getfilesystemencoding())
    return _write_wheel(wheel_directory, [("_mpwire_editable.pth", pth)])


def build_sdist(sdist_directory, config_settings=None):
    """mpwire-VERSION.tar.gz: pyproject.toml, LICENSE, the backend, the
    package and PKG-INFO, under mpwire-VERSION/."""
    base = _dist_name()
    files = [("pyproject.toml", os.path.join(ROOT, "pyproject.toml"))]
    if os.path.exists(os.path.join(ROOT, "LICENSE")):
        files.append(("LICENSE", os.path.join(ROOT, "LICENSE")))
    files.append(("_build/mpwire_build.py", os.path.abspath(__file__)))
    files += _package_files()
    mtime = calendar.timegm(_date_time())
    filename = base + ".tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    tmp = os.path.join(sdist_directory, filename + ".tmp")
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [("PKG-INFO", metadata().encode("utf-8"))] + [(n, _read(p)) for n, p in files]:
            ti = tarfile.TarInfo("%s/%s" % (base, name))
            ti.size, ti.mtime, ti.mode = len(data), mtime, 0o644
            tar.addfile(ti, io.BytesIO(data))
    os.replace(tmp, os.path.join(sdist_directory, filename))
    return filename


def _main(argv):
    if len(argv) != 3 or argv[1] not in ("wheel", "sdist"):
        sys.stderr.write("usage: python _build/mpwire_build.py wheel|sdist OUTDIR\n")
        return 2
    build = build_wheel if argv[1] == "wheel" else build_sdist
    print(os.path.join(os.path.abspath(argv[2]), build(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
