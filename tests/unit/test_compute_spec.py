"""The compute layer's pure parts: handle records across restarts, and the sandbox's command line."""

from kumo.dataplane.compute import Handle, Limits, Mount, Spec
from kumo.dataplane.compute import isolation


def test_handle_record_round_trips_and_reads_an_older_kumos_boot_record():
    h = Handle("tok/i-1", 1234, 99, {"memory": "/sys/fs/cgroup/memory/kumo-x/instance-tok_i-1"}, "full")
    assert Handle.from_record(h.record()) == h
    old = Handle.from_record({"pid": 77, "ticks": 5, "at": 1.0}, workload="tok/i-2")
    assert (old.workload, old.pid, old.start_ticks, old.cgroups, old.isolation) == ("tok/i-2", 77, 5, {}, "partial")
    assert Handle.from_record(None) is None


def test_masks_cover_the_outermost_hidden_path_only():
    assert isolation._outermost(["/srv/k/data/work", "/srv/k/data", "/srv/other"]) == ["/srv/other", "/srv/k/data"]


def test_only_paths_the_workload_sees_through_a_host_system_dir_need_a_mask():
    assert isolation._is_system("/srv/kumo")
    assert isolation._is_system("/var/lib/kumo")
    assert not isolation._is_system("/var/tmp/kumo")  # /var/tmp inside is the workload's own
    assert not isolation._is_system("/root/.local/share/kumo")
    assert not isolation._is_system("/tmp/kumo-test-1")


def test_full_isolation_command_line(tmp_path):
    hidden = tmp_path.parent  # any existing dir; masked only if under a system dir
    spec = Spec(workload="tok/i-1", command=["/bin/sh", "/run/kumo-disk/.kumo/boot.sh"], env={},
                disk=tmp_path / "disk", layers=[tmp_path / "layer"],
                mounts=[Mount("/run/kumo-disk", tmp_path / "disk", writable=True), Mount("/opt", [tmp_path / "l1"])],
                limits=Limits(tmp_mb=64), preload="/x/netshim.so", hostname="ip-172-31-0-4")
    argv = isolation.full_argv(spec, ["/srv", str(hidden)], "/")
    assert argv[:4] == ["unshare", "--mount", "--propagation", "private"]
    script, bwrap = argv[6], argv[8:]
    assert f"upperdir={tmp_path}/disk/upper,workdir={tmp_path}/disk/work/_root" in script
    assert f"lowerdir={tmp_path}/layer:" in script
    assert "lowerdir=/usr," not in script and f"upperdir={tmp_path}/disk/upper/usr" in script
    assert f"ro,lowerdir={tmp_path}/l1:/run/kumo/sandbox/root/opt" in script  # read-only layers over /opt
    for flag in ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session"):
        assert flag in bwrap
    assert "--unshare-net" not in bwrap  # instances share the host's loopback network
    caps = [bwrap[i + 1] for i, a in enumerate(bwrap) if a == "--cap-add"]
    assert "CAP_SYS_ADMIN" not in caps and "CAP_NET_RAW" not in caps and "CAP_NET_BIND_SERVICE" in caps
    assert bwrap[bwrap.index("--cap-drop") + 1] == "ALL"
    assert ["--tmpfs", "/srv"] == bwrap[bwrap.index("/srv") - 1:bwrap.index("/srv") + 1]
    assert bwrap[bwrap.index("--size") + 1] == str(64 * 1048576)
    assert ["--bind", str(tmp_path / "disk"), "/run/kumo-disk"] == bwrap[bwrap.index("/run/kumo-disk") - 2:
                                                                          bwrap.index("/run/kumo-disk") + 1]
    assert bwrap[bwrap.index("LD_PRELOAD") + 1] == isolation.PRELOAD_INSIDE
    assert bwrap[bwrap.index("--hostname") + 1] == "ip-172-31-0-4"
    assert bwrap[-3:] == ["--", "/bin/sh", "/run/kumo-disk/.kumo/boot.sh"]


def test_without_a_disk_the_root_is_read_only(tmp_path):
    spec = Spec(workload="tok/fn", command=["/var/runtime/bootstrap"], env={}, mounts=[Mount("/var/task", tmp_path)])
    argv = isolation.full_argv(spec, [], "/var/task")
    assert "upperdir" not in argv[6]
    assert "ro,lowerdir=" in argv[6]
    assert ["--ro-bind", str(tmp_path), "/var/task"] == argv[argv.index("/var/task") - 2:argv.index("/var/task") + 1]
