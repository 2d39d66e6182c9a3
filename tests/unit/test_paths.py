"""Confining names from requests: core/paths.py, core/archive.py and the user-data names of ec2/userdata.py."""

from __future__ import annotations

import io
import os
import stat
import struct
import subprocess
import zipfile

import pytest

from kumo.core import archive, paths
from kumo.services.ec2 import userdata


# -- paths.parts, rooted, component ---------------------------------------------------------------------------


def test_parts_splits_relative_names():
    assert paths.parts("a/./b//c") == ["a", "b", "c"]
    assert paths.parts("dir\\file.py") == ["dir", "file.py"]
    assert paths.parts("./") == []
    assert paths.parts("..hidden/x..y") == ["..hidden", "x..y"]


@pytest.mark.parametrize("name", ["../x", "a/../../b", "a/..", "..\\x", "/etc/passwd", "\\\\server\\share", "C:/x",
                                  "c:x", "a\0b", "x" * 256])
def test_parts_refuses_names_that_leave_their_directory(name):
    with pytest.raises(paths.Escape):
        paths.parts(name)


def test_rooted_keeps_paths_on_their_own_machine():
    assert paths.rooted("/../../etc/x") == "/etc/x"
    assert paths.rooted("//a/./b/../c") == "/a/c"
    assert paths.rooted("relative/../../../x") == "/x"
    assert paths.rooted("") == "/"
    with pytest.raises(paths.Escape):
        paths.rooted("/etc/\0x")


def test_component_is_one_safe_name_and_reversible():
    assert paths.component("123456789012_us-east-1") == "123456789012_us-east-1"
    names = ["..", ".", "", "a/b", "a%2Fb", "\0", "a b", ".hidden"]
    encoded = [paths.component(n) for n in names]
    assert len(set(encoded)) == len(names)
    for e in encoded:
        assert "/" not in e and "\0" not in e and e not in ("", ".", "..") and not e.startswith(".")


# -- paths.Tree -------------------------------------------------------------------------------------------------


def test_tree_writes_inside_and_never_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "target")
    tree = paths.Tree(root)
    with pytest.raises(paths.Escape):
        tree.write("link/x", b"no")  # an archive's own symlink is not a directory of the tree
    with pytest.raises(paths.Escape):
        tree.mkdir("link/sub")
    tree.write("file-link", b"replaced")  # a file name is written fresh: the link goes, not through it
    assert (root / "file-link").read_bytes() == b"replaced" and not (root / "file-link").is_symlink()
    with pytest.raises(paths.Escape):
        tree.write("../x", b"no")
    assert list(outside.iterdir()) == []
    paths.Tree(root, replace=True).write("link/x", b"kumo's own")  # a tree of kumo's own: the link is replaced
    assert (root / "link").is_dir() and not (root / "link").is_symlink() and list(outside.iterdir()) == []


def test_tree_does_not_write_through_a_hard_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"original")
    root = tmp_path / "root"
    root.mkdir()
    os.link(victim, root / "boot.sh")
    paths.Tree(root).write("boot.sh", b"new")
    assert victim.read_bytes() == b"original" and (root / "boot.sh").read_bytes() == b"new"


def test_tree_modes_and_limits(tmp_path):
    tree = paths.Tree(tmp_path / "t", dir_mode=0o755)
    tree.write("a/b/tool", b"#!/bin/sh\n", 0o4755)
    assert stat.S_IMODE((tmp_path / "t/a/b/tool").stat().st_mode) == 0o755  # no setuid on the host
    assert stat.S_IMODE((tmp_path / "t/a").stat().st_mode) == 0o755
    tree.mkdir("tmp", mode=0o1777)
    assert stat.S_IMODE((tmp_path / "t/tmp").stat().st_mode) == 0o1777
    with pytest.raises(OverflowError):
        tree.write("big", io.BytesIO(b"x" * 100), limit=99)
    with pytest.raises(paths.Escape):
        tree.write("", b"")


def test_tree_merge_follows_overlay_rules(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "keep").mkdir(parents=True)
    (lower / "keep" / "a").write_text("lower a")
    (lower / "data").symlink_to(outside)
    (lower / "file-then-dir").write_text("x")
    (upper / "keep").mkdir(parents=True)
    (upper / "keep" / "b").write_text("upper b")
    (upper / "data").mkdir()
    (upper / "data" / "marker").write_text("upper marker")
    (upper / "file-then-dir").mkdir()
    merged = paths.Tree(tmp_path / "merged", replace=True)
    merged.merge(str(lower))
    assert (tmp_path / "merged" / "data").is_symlink()  # kept as a link, not followed
    merged.merge(str(upper))
    m = tmp_path / "merged"
    assert (m / "keep" / "a").read_text() == "lower a" and (m / "keep" / "b").read_text() == "upper b"
    assert not (m / "data").is_symlink() and (m / "data" / "marker").read_text() == "upper marker"
    assert (m / "file-then-dir").is_dir()
    assert list(outside.iterdir()) == []
    with pytest.raises(paths.Escape):  # without replace, a directory over a symlink is refused
        strict = paths.Tree(tmp_path / "strict")
        strict.merge(str(lower))
        strict.merge(str(upper))


# -- archive ----------------------------------------------------------------------------------------------------


def _zip(entries, method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, content, link in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 if link else 0o100644) << 16
            info.compress_type = method
            zf.writestr(info, content)
    return buf.getvalue()


def _check(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return archive.check(zf)


def test_check_returns_the_declared_size_of_a_good_archive():
    assert _check(_zip([("a.py", "x" * 10, False), ("lib/", "", False), ("lib/link", "../a.py", True),
                        ("abs-link", "/opt/lib/libx.so", True)])) == 10 + 7 + 16


@pytest.mark.parametrize("entries", [
    [("../x", "x", False)],
    [("/etc/x", "x", False)],
    [("a\\..\\..\\x", "x", False)],
    [("esc", "/etc", True), ("esc/passwd", "x", False)],
    [("esc/passwd", "x", False), ("esc", "/etc", True)],  # order does not matter
    [("d/esc", "..", True), ("d/esc/deeper/x", "x", False)],
    [("big-link", "x" * 5000, True)],
])
def test_check_refuses_archives_that_leave_their_directory(entries):
    with pytest.raises(archive.Refused):
        _check(_zip(entries))


def test_check_refuses_methods_lambda_does_not_unzip():
    with pytest.raises(archive.Refused):
        _check(_zip([("a.py", "x", False)], zipfile.ZIP_BZIP2))
    with pytest.raises(archive.Refused):
        _check(_zip([("a.py", "x", False)], zipfile.ZIP_LZMA))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_extract_skips_what_check_refuses_and_keeps_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    data = _zip([("ok.py", "ok", False), ("../climb", "x", False), ("esc", str(outside), True),
                 ("esc/through", "x", False), ("same", str(outside / "same"), True), ("same", "file", False),
                 ("tool", "#!/bin/sh", False)])
    target = tmp_path / "code"
    archive.extract(data, str(target), 1000)
    assert (target / "ok.py").read_text() == "ok"
    assert os.readlink(target / "esc") == str(outside)  # kept as written, never followed
    assert (target / "same").read_text() == "file" and not (target / "same").is_symlink()
    assert stat.S_IMODE((target / "tool").stat().st_mode) == 0o644
    assert list(outside.iterdir()) == [] and not (tmp_path / "climb").exists()


def test_extract_is_bounded_by_declared_sizes(tmp_path):
    data = bytearray(_zip([("bomb", b"\0" * 5_000_000, False)]))
    struct.pack_into("<I", data, data.index(b"PK\x03\x04") + 22, 10)  # declares 10 bytes, inflates to 5 MB
    struct.pack_into("<I", data, data.index(b"PK\x01\x02") + 24, 10)
    with pytest.raises(archive.Refused):
        archive.extract(bytes(data), str(tmp_path / "a"), 1000)
    written = tmp_path / "a" / "bomb"
    assert not written.exists() or written.stat().st_size <= 10
    with pytest.raises(archive.Refused):  # the total is bounded too
        archive.extract(_zip([("a", "x" * 600, False), ("b", "x" * 600, False)]), str(tmp_path / "b"), 1000)


# -- user data names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filename, expected", [
    ("setup.sh", "setup.sh"),
    ("../../../../tmp/x", ".._.._.._.._tmp_x"),
    ("/etc/cron.d/evil", "_etc_cron.d_evil"),
    ("..", "part-007"),
    ("", "part-007"),
    (None, "part-007"),
    ("a\0b\nc;$(rm)", "abc(rm)"),
    ("x" * 300, "x" * userdata.MAX_SCRIPT_NAME),
])
def test_mime_filenames_become_one_safe_file_name(filename, expected):
    assert userdata.script_name(filename, "part-007") == expected


def test_write_files_paths_are_instance_paths():
    plan = userdata.plan(b"#cloud-config\nwrite_files:\n  - path: /../../etc/x\n    content: a\n"
                         b"  - path: rel/file\n    content: b\n  - path: /bad\n    permissions: 'nope'\n")
    assert [f["path"] for f in plan.files] == ["/etc/x", "/rel/file"]
    assert any("'/bad'" in w for w in plan.warnings)


def test_boot_script_writes_files_only_within_the_disk(tmp_path):
    disk, outside = tmp_path / "disk", tmp_path / "outside"
    (disk / "etc").mkdir(parents=True)
    outside.mkdir()
    (disk / "etc" / "escape").symlink_to(outside)
    plan = userdata.plan(b"#cloud-config\nwrite_files:\n  - path: /etc/ok\n    content: fine\n"
                         b"  - path: /etc/escape/x\n    content: no\n")
    script = userdata.boot_script(plan, str(disk), "i-1", "/unused", [str(disk)])
    function = script[script.index("kumo_write_file() {"):script.index("\n}\n") + 3]
    src = tmp_path / "content"
    src.write_text("data")
    for path in ("/etc/ok", "/etc/escape/x"):
        subprocess.run(["sh", "-c", function + f'kumo_write_file "{src}" "{disk}{path}" 644 replace {path}'],
                       capture_output=True, text=True, timeout=10)
    assert (disk / "etc" / "ok").read_text() == "data"
    assert list(outside.iterdir()) == []
