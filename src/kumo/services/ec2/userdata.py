"""User data, read as cloud-init reads it, turned into the instance's boot script.

Supported, as on EC2's Linux images:

* a script starting with ``#!`` runs once, at first boot;
* ``#cloud-boothook`` runs at every boot;
* ``#cloud-config``: ``bootcmd`` (every boot), ``write_files`` and ``runcmd``
  (first boot), and ``cloud_final_modules: [[scripts-user, always]]`` to run
  user scripts at every boot;
* gzip-compressed user data and MIME multi-part archives of the above.

Scripts in ``/var/lib/cloud/scripts/per-boot``, ``per-instance`` and ``per-once``
run as cloud-init runs them.  Anything else is reported as a warning on the
console, as cloud-init would.  Pure logic: no files, no processes.

Names from the user data never reach the host: a MIME part's filename becomes
one plain file name as cloud-init cleans it (``../../x`` is ``.._.._x``), kept
in the instance's own script directory; a ``write_files`` path is a path on
the instance (``/../../etc/x`` is ``/etc/x``), and the boot script writes it
only where it lands on the instance's disk, symlinks resolved.
"""

from __future__ import annotations

import base64
import email
import gzip
import re
import shlex
import zlib
from dataclasses import dataclass, field

import yaml

from ...core import paths


@dataclass
class BootPlan:
    every_boot: list[str] = field(default_factory=list)  # shell snippets
    first_boot: list[str] = field(default_factory=list)
    scripts: list[tuple[str, bytes, bool]] = field(default_factory=list)  # (name, body, every boot)
    files: list[dict] = field(default_factory=list)  # write_files entries, normalised
    warnings: list[str] = field(default_factory=list)


def decode(raw: bytes | str | None) -> bytes:
    """User data as the instance sees it: base64 as the API carries it, un-gzipped."""
    if not raw:
        return b""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        data = base64.b64decode(data, validate=True)
    except Exception:
        pass  # already plain
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except OSError:
            pass
    return data


def plan(data: bytes) -> BootPlan:
    result = BootPlan()
    _part(data, result, "part-001")
    return result


def _part(data: bytes, out: BootPlan, name: str) -> None:
    if not data.strip():
        return
    head = data.lstrip()[:64].lower()
    if head.startswith(b"content-type:") or head.startswith(b"mime-version:"):
        _multipart(data, out)
    elif data.startswith(b"#cloud-config"):
        _cloud_config(data, out)
    elif data.startswith(b"#cloud-boothook"):
        _script(out, f"boothook-{name}", b"#!/bin/sh\n" + data.split(b"\n", 1)[-1], True)
    elif data.startswith(b"#!"):
        _script(out, name, data, False)
    elif data.startswith(b"#include"):
        out.warnings.append("#include user data is not supported by kumo (it would fetch URLs); ignored")
    else:
        out.warnings.append("Unhandled non-multipart (text/x-not-multipart) userdata: "
                            f"'{data[:20].decode(errors='replace')}...'")


def _script(out: BootPlan, name: str, body: bytes, every_boot: bool) -> None:
    # Two parts of one name are one file on the instance: the later one is what runs.
    out.scripts[:] = [s for s in out.scripts if s[0] != name]
    out.scripts.append((name, body, every_boot))


_UNSAFE = re.compile(r"[^A-Za-z0-9_.()-]")
MAX_SCRIPT_NAME = 200  # room for "boothook-" within a file name's 255 bytes


def script_name(filename: str | None, fallback: str) -> str:
    """A MIME part's filename as one file name, cleaned as cloud-init cleans it ("/" becomes "_", other
    characters outside letters, digits and ``_-.()`` go); ``fallback`` when nothing usable is left."""
    name = _UNSAFE.sub("", (filename or "").replace("/", "_"))[:MAX_SCRIPT_NAME]
    return fallback if name.strip(".") == "" else name


_MIME = {
    "text/x-shellscript": b"",
    "text/cloud-config": b"#cloud-config\n",
    "text/cloud-boothook": b"#cloud-boothook\n",
}


def _multipart(data: bytes, out: BootPlan) -> None:
    message = email.message_from_bytes(data)
    parts = message.walk() if message.is_multipart() else [message]
    n = 0
    for part in parts:
        if part.is_multipart():
            continue
        n += 1
        ctype = part.get_content_type()
        body = part.get_payload(decode=True) or b""
        if ctype not in _MIME:
            out.warnings.append(f"Unhandled MIME part of type {ctype}; ignored")
            continue
        prefix = _MIME[ctype]
        if prefix and not body.startswith(prefix.strip()):
            body = prefix + body
        if ctype == "text/x-shellscript" and not body.startswith(b"#!"):
            body = b"#!/bin/sh\n" + body
        _part(body, out, script_name(part.get_filename(), f"part-{n:03d}"))


def _command(item) -> str:
    if isinstance(item, list):
        return " ".join(shlex.quote(str(a)) for a in item)
    return str(item)


_KNOWN = {"runcmd", "bootcmd", "write_files", "cloud_final_modules"}


def _cloud_config(data: bytes, out: BootPlan) -> None:
    try:
        doc = yaml.safe_load(data.decode("utf-8", "replace")) or {}
    except yaml.YAMLError as exc:
        out.warnings.append(f"Failed loading yaml blob: {exc}")
        return
    if not isinstance(doc, dict):
        out.warnings.append("cloud-config is not a mapping; ignored")
        return
    for cmd in doc.get("bootcmd") or []:
        out.every_boot.append(_command(cmd))
    for entry in doc.get("write_files") or []:
        if isinstance(entry, dict) and entry.get("path"):
            try:
                out.files.append(_file(entry))
            except (ValueError, TypeError, OSError, EOFError, zlib.error) as exc:  # paths.Escape is a ValueError
                out.warnings.append(f"write_files: {entry.get('path')!r}: {exc}; not written")
    for cmd in doc.get("runcmd") or []:
        out.first_boot.append(_command(cmd))
    for module in doc.get("cloud_final_modules") or []:
        if isinstance(module, list) and module[:1] == ["scripts-user"] and "always" in module[1:]:
            out.scripts[:] = [(n, b, True) for n, b, _ in out.scripts]
            out.every_boot.append("#scripts-user-always")
    for key in doc:
        if key not in _KNOWN:
            out.warnings.append(f"cloud-config module '{key}' is not supported by kumo; ignored")


def _file(entry: dict) -> dict:
    content = entry.get("content", "")
    raw = content.encode() if isinstance(content, str) else bytes(content or b"")
    encoding = str(entry.get("encoding", "text/plain")).lower()
    if encoding in ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        raw = base64.b64decode(raw)
    if encoding.startswith("gz"):
        raw = gzip.decompress(raw)
    perms = entry.get("permissions", "0644")
    mode = int(str(perms), 8) if not isinstance(perms, int) else perms
    return {"path": paths.rooted(str(entry["path"])), "content": raw, "mode": mode,
            "append": bool(entry.get("append")), "owner": entry.get("owner")}


def boot_script(bp: BootPlan, root: str, instance_id: str, script_dir: str, within: list[str]) -> str:
    """The shell script that boots the instance.

    ``root`` prefixes absolute paths of the instance's disk ("" when the instance
    has a mount namespace of its own).  ``script_dir`` holds the files kumo wrote
    out (user scripts as ``user/<name>``, ``write_files`` contents as ``files/<n>``).
    ``within`` are the directories, as the boot script sees them, where a write
    lands on the instance's disk: a ``write_files`` path that resolves (symlinks
    followed) anywhere else is not written.
    """
    always = "#scripts-user-always" in bp.every_boot
    lines = [
        "#!/bin/sh",
        f"# kumo boot script of {instance_id}, generated from its user data",
        f"CLOUD={shlex.quote(root)}/var/lib/cloud",
        # As cloud-init does, per-instance state is kept by instance id, so an image of this disk
        # still boots new instances as new.
        f'INST="$CLOUD/instances/{instance_id}"',
        'mkdir -p "$INST/scripts" "$CLOUD/scripts/per-boot" "$CLOUD/scripts/per-instance" '
        '"$CLOUD/scripts/per-once" "$CLOUD/data"',
        'rm -f "$CLOUD/instance"; ln -s "$INST" "$CLOUD/instance"',
        'BOOT=$(( $(cat "$INST/boot-count" 2>/dev/null || echo 0) + 1 )); echo $BOOT > "$INST/boot-count"',
        f'echo "Cloud-init v. kumo running boot $BOOT of {instance_id} at $(date -u)"',
    ]
    for warning in bp.warnings:
        lines.append(f"echo {shlex.quote('[kumo] WARNING: ' + warning)}")
    for cmd in bp.every_boot:
        if cmd != "#scripts-user-always":
            lines.append(f"( {cmd} )")
    user = script_dir + "/user/"
    for name, _, every in bp.scripts:
        if every or always:
            lines.append(f"{shlex.quote(user + name)}")
    if bp.files:
        lines += _write_files_function(within)
    lines.append('if [ ! -e "$INST/boot-finished" ]; then')
    for n, f in enumerate(bp.files):
        target = shlex.quote(root + f["path"])
        src = shlex.quote(f"{script_dir}/files/{n}")
        how = "append" if f["append"] else "replace"
        lines.append(f'  kumo_write_file {src} {target} {f["mode"] & 0o7777:o} {how} {shlex.quote(f["path"])}')
    if bp.first_boot:
        lines.append(f"  sh {shlex.quote(script_dir + '/runcmd')}")
    for name, _, every in bp.scripts:
        if not (every or always):
            lines.append(f"  {shlex.quote(user + name)}")
    lines.append('  for s in "$CLOUD"/scripts/per-instance/*; do [ -x "$s" ] && "$s"; done')
    lines.append('  if [ ! -e "$CLOUD/data/once-done" ]; then')
    lines.append('    for s in "$CLOUD"/scripts/per-once/*; do [ -x "$s" ] && "$s"; done; touch "$CLOUD/data/once-done"')
    lines.append("  fi")
    lines.append("fi")
    lines.append('for s in "$CLOUD"/scripts/per-boot/*; do [ -x "$s" ] && "$s"; done')
    lines.append('date -u > "$INST/boot-finished"')
    lines.append(f'echo "Cloud-init v. kumo finished at $(date -u). Datasource DataSourceEc2. Up $BOOT boot(s)"')
    # The instance's init stays alive for as long as the instance runs (its status check watches it).
    lines.append("exec sleep infinity")
    return "\n".join(lines) + "\n"


def _write_files_function(within: list[str]) -> list[str]:
    # realpath -m resolves the symlinks on the way (a link planted by bootcmd included); what is left must
    # still be on the instance's disk.  Python's realpath stands in where realpath has no -m (busybox).
    allowed = "|".join(f"{shlex.quote(d)}|{shlex.quote(d.rstrip('/'))}/*" for d in within)
    return [
        "kumo_write_file() {  # <content> <path> <mode> <append|replace> <path on the instance>",
        '  t=$(realpath -m -- "$2" 2>/dev/null || python3 -c '
        "'import os,sys; print(os.path.realpath(sys.argv[1]))' \"$2\" 2>/dev/null)",
        '  case "$t" in',
        f"    {allowed}) ;;",
        '    *) echo "[kumo] WARNING: write_files: $5 leads off the instance disk; not written"; return 1 ;;',
        "  esac",
        '  mkdir -p "$(dirname "$t")" || return 1',
        '  if [ "$4" = append ]; then cat "$1" >> "$t"; else cat "$1" > "$t"; fi && chmod "$3" "$t"',
        "}",
    ]


def runcmd_script(bp: BootPlan) -> str:
    return "#!/bin/sh\n" + "\n".join(bp.first_boot) + "\n"
