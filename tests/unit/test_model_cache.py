"""botocore's models, cached by kumo in marshal form: the same model, per botocore version, rebuilt when damaged."""

import json

import botocore
import botocore.loaders

from kumo.aws import specs


def test_the_cached_model_is_botocores(tmp_path, monkeypatch):
    monkeypatch.setenv("KUMO_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    path = specs._cache_path("sts")
    if path is None:  # this machine has ~/.aws/models: kumo reads botocore every time
        return
    assert botocore.__version__ in path and path.startswith(str(tmp_path))
    first = specs._raw_model("sts")  # from botocore, written to the cache
    cached = specs._raw_model("sts")  # from the cache
    original = botocore.loaders.Loader().load_service_model("sts", "service-2")
    assert json.dumps(first) == json.dumps(cached) == json.dumps(original)  # same content, same order
    assert type(cached) is dict


def test_a_damaged_cache_file_is_read_again_from_botocore(tmp_path, monkeypatch):
    monkeypatch.setenv("KUMO_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    path = specs._cache_path("sts")
    if path is None:
        return
    specs._raw_model("sts")
    with open(path, "wb") as fh:
        fh.write(b"\x00garbage")
    original = botocore.loaders.Loader().load_service_model("sts", "service-2")
    assert json.dumps(specs._raw_model("sts")) == json.dumps(original)
    assert json.dumps(specs._raw_model("sts")) == json.dumps(original)  # and cached whole again


def test_no_cache_when_models_may_come_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("KUMO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    assert specs._cache_path("sts") is None
