"""User data, read as cloud-init reads it, turned into the instance's boot script.

Supported, as on EC2's Linux images:

* a script starting with ``#!`` runs once per instance, at its first boot;
* ``#cloud-boothook`` runs at every boot;
* ``#cloud-config``: ``bootcmd`` (every boot), ``write_files`` and ``runcmd``
  (once per instance), and ``cloud_final_modules: [[scripts-user, always]]`` to
  run user scripts (runcmd included) at every boot;
* gzip-compressed user data and MIME multi-part archives of the above.

The boot runs cloud-init's stages in cloud-init's order (its default
``cloud.cfg``): the init stage runs boothooks, then ``bootcmd``, then
``write_files``; the final stage runs ``scripts_per_once``,
``scripts_per_boot``, ``scripts_per_instance`` and ``scripts_user`` (the user
scripts and runcmd's script, by name).  So a per-boot script that user data
writes runs from the second boot on, and one ``write_files`` delivers runs at
the first.  Frequencies are kept as cloud-init keeps them, in semaphore files
on the instance's disk, written before the module runs: per instance in
``/var/lib/cloud/instances/<id>/sem`` (an image of the disk boots new
instances as new), once ever in ``/var/lib/cloud/sem`` (an image of the disk
carries it to new instances too).  Anything else is reported as a warning on
the console, as cloud-init would.  Pure logic: no files, no processes.

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
    every_boot: list[str] = field(default_factory=list)  # bootcmd, as shell snippets
    first_boot: list[str] = field(default_factory=list)  # runcmd, as shell snippets
    scripts: list[tuple[str, bytes, bool]] = field(default_factory=list)  # (name, body, is a boothook)
    user_always: bool = False  # cloud_final_modules: [[scripts-user, always]]
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


def _script(out: BootPlan, name: str, body: bytes, boothook: bool) -> None:
    # Two parts of one name are one file on the instance: the later one is what runs.
    out.scripts[:] = [s for s in out.scripts if s[0] != name]
    out.scripts.append((name, body, boothook))


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
            out.user_always = True
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
    out (user scripts as ``user/<name>``, ``write_files`` contents as ``files/<n>``);
    its parent holds ``clock``, kumo's clock as the instance reads it (``clock_view``).
    ``within`` are the directories, as the boot script sees them, where a write
    lands on the instance's disk: a ``write_files`` path that resolves (symlinks
    followed) anywhere else is not written.
    """
    user = script_dir + "/user/"
    lines = [
        "#!/bin/sh",
        f"# kumo boot script of {instance_id}, generated from its user data",
        f"CLOUD={shlex.quote(root)}/var/lib/cloud",
        # As cloud-init does, per-instance state is kept by instance id, so an image of this disk
        # still boots new instances as new.
        f'INST="$CLOUD/instances/{instance_id}"',
        # Disks booted before semaphores were kept: a finished first boot stands for every per-instance module.
        'if [ -e "$INST/boot-finished" ] && [ ! -d "$INST/sem" ]; then mkdir -p "$INST/sem"; '
        'touch "$INST/sem/config_write_files" "$INST/sem/config_scripts_per_instance" '
        '"$INST/sem/config_scripts_user"; fi',
        'if [ -e "$CLOUD/data/once-done" ]; then mkdir -p "$CLOUD/sem"; '
        'touch "$CLOUD/sem/config_scripts_per_once.once"; fi',
        'mkdir -p "$INST/sem" "$CLOUD/sem" "$CLOUD/scripts/per-boot" "$CLOUD/scripts/per-instance" '
        '"$CLOUD/scripts/per-once" "$CLOUD/data"',
        'rm -f "$CLOUD/instance"; ln -s "$INST" "$CLOUD/instance"',
        'BOOT=$(( $(cat "$INST/boot-count" 2>/dev/null || echo 0) + 1 )); echo $BOOT > "$INST/boot-count"',
        *_clock_function(script_dir.rsplit("/", 1)[0] + "/clock"),
        # A module's semaphore is taken before it runs, as cloud-init takes it: a boot cut short in the
        # middle of a module does not run it again.
        'kumo_sem() { [ -e "$1" ] && return 1; kumo_now > "$1"; }',
        'kumo_run_parts() { for s in "$1"/*; do [ -f "$s" ] && [ -x "$s" ] && "$s"; done; }',
        f'echo "Cloud-init v. kumo running \'init\' at $(kumo_now). Boot $BOOT of {instance_id}."',
    ]
    for warning in bp.warnings:
        lines.append(f"echo {shlex.quote('[kumo] WARNING: ' + warning)}")
    # init stage: user data is consumed (boothooks run as they are met, at every boot), then the init
    # modules: bootcmd (every boot) and write_files (once per instance).
    for name, _, boothook in bp.scripts:
        if boothook:
            lines.append(shlex.quote(user + name))
    for cmd in bp.every_boot:
        lines.append(f"( {cmd} )")
    if bp.files:
        lines += _write_files_function(within)
        lines.append('if kumo_sem "$INST/sem/config_write_files"; then')
        for n, f in enumerate(bp.files):
            target = shlex.quote(root + f["path"])
            src = shlex.quote(f"{script_dir}/files/{n}")
            how = "append" if f["append"] else "replace"
            lines.append(f'  kumo_write_file {src} {target} {f["mode"] & 0o7777:o} {how} {shlex.quote(f["path"])}')
        lines.append("fi")
    # final stage: scripts_per_once, scripts_per_boot, scripts_per_instance, scripts_user.
    lines.append('if kumo_sem "$CLOUD/sem/config_scripts_per_once.once"; then '
                 'kumo_run_parts "$CLOUD/scripts/per-once"; fi')
    lines.append('kumo_run_parts "$CLOUD/scripts/per-boot"')
    lines.append('if kumo_sem "$INST/sem/config_scripts_per_instance"; then '
                 'kumo_run_parts "$CLOUD/scripts/per-instance"; fi')
    # scripts_user runs the instance's scripts directory in name order: the user data's scripts and the
    # script the runcmd module wrote there.
    user_scripts = sorted([(name, shlex.quote(user + name)) for name, _, boothook in bp.scripts if not boothook]
                          + ([("runcmd", "sh " + shlex.quote(script_dir + "/runcmd"))] if bp.first_boot else []))
    if user_scripts:
        guard = "true" if bp.user_always else 'kumo_sem "$INST/sem/config_scripts_user"'
        lines.append(f"if {guard}; then")
        lines += [f"  {command}" for _, command in user_scripts]
        lines.append("fi")
    lines.append('kumo_now > "$INST/boot-finished"')
    lines.append('echo "Cloud-init v. kumo finished at $(kumo_now). Datasource DataSourceEc2. Up $BOOT boot(s)"')
    # The instance's init stays alive for as long as the instance runs (its status check watches it).
    lines.append("exec sleep infinity")
    return "\n".join(lines) + "\n"


def clock_view(sim: float, wall: float, scale: float) -> str:
    """The instance's view of kumo's clock: simulated time ``sim`` was wall time ``wall``, and since then it
    has run ``scale`` times as fast (the boot script's ``kumo_now`` reads it)."""
    return f"{sim:.3f} {wall:.3f} {scale:g}\n"


def _clock_function(path: str) -> list[str]:
    # Console timestamps follow kumo's clock, not the host's: the host's wall clock is placed in simulated
    # time with the view kumo keeps on the disk (rewritten whenever time jumps or changes pace).
    return [
        f"KUMO_CLOCK_FILE={shlex.quote(path)}",
        "kumo_now() {",
        '  set -- $(cat "$KUMO_CLOCK_FILE" 2>/dev/null)',
        '  if [ $# -eq 3 ]; then',
        '    t=$(awk -v s="$1" -v w="$2" -v k="$3" -v now="$(date +%s)" \'BEGIN { printf "%d", s + (now - w) * k }\')',
        "  else t=$(date +%s); fi",
        "  date -u -d \"@$t\" \'+%a, %d %b %Y %H:%M:%S +0000\' 2>/dev/null || python3 -c "
        "\'import sys,time; print(time.strftime(\"%a, %d %b %Y %H:%M:%S +0000\", time.gmtime(int(sys.argv[1]))))\' \"$t\"; }",
    ]


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
