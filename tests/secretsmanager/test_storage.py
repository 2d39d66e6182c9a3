"""Secret values are stored sealed (kumo's store file holds no plaintext) and survive kill -9; a deletion
window scheduled before the crash still runs out on the restarted kumo's clock."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

PLAINTEXT = "correct-horse-battery-staple-7f3a9c"
BINARY = b"\x00binary-plaintext-b8e2\xff"


def advance(proc, seconds: float) -> None:
    req = urllib.request.Request(proc.endpoint + "/_kumo/clock", data=json.dumps({"advance": seconds}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=30).read()


def test_values_are_sealed_on_disk_and_survive_kill_9(kumo_process, account):
    proc = kumo_process().start()
    sm = proc.client("secretsmanager", account)
    sm.create_secret(Name="disk/plain", SecretString=PLAINTEXT)
    sm.create_secret(Name="disk/binary", SecretBinary=BINARY)
    second = sm.put_secret_value(SecretId="disk/plain", SecretString=PLAINTEXT + "-v2")["VersionId"]
    sm.create_secret(Name="disk/doomed", SecretString="x")
    sm.delete_secret(SecretId="disk/doomed", RecoveryWindowInDays=7)
    proc.kill9()

    stored = b"".join(p.read_bytes() for p in proc.data_dir.glob("state.db*"))
    assert b"disk/plain" in stored  # the records are there ...
    assert PLAINTEXT.encode() not in stored and BINARY not in stored  # ... their values are not
    assert b"binary-plaintext" not in stored

    restarted = kumo_process(like=proc).start()
    sm = restarted.client("secretsmanager", account)
    current = sm.get_secret_value(SecretId="disk/plain")
    assert current["SecretString"] == PLAINTEXT + "-v2" and current["VersionId"] == second
    assert sm.get_secret_value(SecretId="disk/plain", VersionStage="AWSPREVIOUS")["SecretString"] == PLAINTEXT
    assert sm.get_secret_value(SecretId="disk/binary")["SecretBinary"] == BINARY
    assert sm.describe_secret(SecretId="disk/doomed")["DeletedDate"]
    advance(restarted, 7 * 86400 + 1)
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId="disk/doomed")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
