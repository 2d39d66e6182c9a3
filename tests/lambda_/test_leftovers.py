"""Nothing of a killed kumo's environments outlives the next kumo's start on its data directory.

Lambda re-creates environments on demand, so a restarted kumo has no use for a killed one's: they would only
hold memory.  A runtime exits when its Runtime API connection goes; what it started in the background is
gone with its pid namespace where it has one, and is otherwise stopped by the next kumo, which finds it
through the compute layer by its workload tag (named after the data directory).
"""

from __future__ import annotations

import os

from .conftest import TRUST, wait_active, wait_for, zip_of

TAGGED = """import os, subprocess
def handler(e, c):
    subprocess.Popen(["sleep", "300"], start_new_session=True)  # a daemon the function leaves behind
    return os.environ["KUMO_WORKLOAD"]
"""


def _processes_tagged(tag: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if f"KUMO_WORKLOAD={tag}\0".encode() in f.read():
                    found.append(int(name))
        except OSError:
            continue
    return found


def test_no_process_of_a_killed_kumos_environments_survives_its_restart(kumo_process):
    k = kumo_process().start()
    iam, lam = k.client("iam"), k.client("lambda")
    role = iam.create_role(RoleName="left", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam.create_function(FunctionName="left", Runtime="python3.12", Role=role, Handler="lambda_function.handler",
                        Code={"ZipFile": zip_of({"lambda_function.py": TAGGED})})
    wait_active(lam, "left")
    tag = lam.invoke(FunctionName="left", Payload=b"{}")["Payload"].read().decode().strip('"')
    assert tag.startswith("lambda-")
    assert len(_processes_tagged(tag)) >= 2  # the warm environment's runtime and its daemon
    k.kill9()
    again = kumo_process(like=k).start()
    wait_for(lambda: not _processes_tagged(tag), timeout=10)
    # The function is served again, by a new environment.
    lam = again.client("lambda")
    wait_active(lam, "left")
    assert lam.invoke(FunctionName="left", Payload=b"{}")["Payload"].read().decode().strip('"') != tag
