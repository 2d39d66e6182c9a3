"""Java functions, wherever the host has a JDK: kumo's Java runtime client calls handlers as AWS's does."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

# The function's own copy of the AWS library interface it codes against (a real package bundles
# aws-lambda-java-core); kumo's runtime passes a proxy of it.
CONTEXT = """
package com.amazonaws.services.lambda.runtime;
public interface Context {
    String getAwsRequestId();
    String getFunctionName();
    int getRemainingTimeInMillis();
    int getMemoryLimitInMB();
    LambdaLogger getLogger();
}
"""
LOGGER = """
package com.amazonaws.services.lambda.runtime;
public interface LambdaLogger { void log(String message); }
"""
HELLO = """
package example;
import com.amazonaws.services.lambda.runtime.Context;
import java.util.*;
public class Hello {
    public static class Order { private String item; private int count;
        public String getItem() { return item; } public void setItem(String v) { item = v; }
        public int getCount() { return count; } public void setCount(int v) { count = v; } }
    public Map<String, Object> handleRequest(Order order, Context context) {
        context.getLogger().log("ordering " + order.getItem());
        if (order.getCount() < 0) throw new IllegalStateException("negative count");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("item", order.getItem().toUpperCase());
        out.put("total", order.getCount() * 2);
        out.put("request", context.getAwsRequestId());
        out.put("function", context.getFunctionName());
        out.put("memory", context.getMemoryLimitInMB());
        out.put("remaining", context.getRemainingTimeInMillis() > 0);
        return out;
    }
}
"""


def _package(tmp_path: Path) -> bytes:
    src = tmp_path / "src"
    for rel, text in {"com/amazonaws/services/lambda/runtime/Context.java": CONTEXT,
                      "com/amazonaws/services/lambda/runtime/LambdaLogger.java": LOGGER,
                      "example/Hello.java": HELLO}.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    out = tmp_path / "classes"
    subprocess.run(["javac", "-d", str(out), *[str(p) for p in src.rglob("*.java")]], check=True, timeout=120)
    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as zf:
        for cls in out.rglob("*.class"):
            zf.write(cls, cls.relative_to(out).as_posix())
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("lib/app.jar", jar.getvalue())
    return package.getvalue()


@pytest.mark.skipif(not shutil.which("javac"), reason="no JDK on this host")
def test_java_function(fns, lam, tmp_path):
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    major = version.split('"')[1].split(".")[0]
    runtime = f"java{major}"
    lam.create_function(FunctionName="java-fn", Runtime=runtime, Role=fns.role, Handler="example.Hello::handleRequest",
                        Code={"ZipFile": _package(tmp_path)}, MemorySize=512, Timeout=30)
    from .conftest import wait_active

    wait_active(lam, "java-fn")
    resp, body = fns.invoke("java-fn", {"item": "tea", "count": 21}, LogType="Tail")
    assert "FunctionError" not in resp, body
    assert body == {"item": "TEA", "total": 42, "request": resp["ResponseMetadata"]["RequestId"],
                    "function": "java-fn", "memory": 512, "remaining": True}
    assert "ordering tea" in base64.b64decode(resp["LogResult"]).decode()
    resp, body = fns.invoke("java-fn", {"item": "tea", "count": -1})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "java.lang.IllegalStateException" and body["errorMessage"] == "negative count"
    assert body["stackTrace"][0].startswith("example.Hello.handleRequest(Hello.java:")
