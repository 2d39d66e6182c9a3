"""core/pidlock.py: one holder at a time, and the refused one learns the holder's pid."""

import os

import pytest

from kumo.core.pidlock import Held, PidLock


def test_a_held_lock_refuses_naming_its_holder_and_frees_on_release(tmp_path):
    path = str(tmp_path / "kumo.lock")
    first = PidLock(path)
    with pytest.raises(Held) as e:
        PidLock(path)  # another open file: flock refuses it even in the same process
    assert e.value.pid == os.getpid() and e.value.path == path
    first.release()
    second = PidLock(path)
    assert open(path).read() == str(os.getpid())
    second.release()
