"""The aws CLI against kumo's KMS: create a key and an alias, encrypt a file and decrypt it back."""

import base64
import json


def test_cli_encrypt_decrypt_file(aws_cli, tmp_path):
    key = json.loads(aws_cli("kms", "create-key", "--description", "cli").stdout)["KeyMetadata"]
    aws_cli("kms", "create-alias", "--alias-name", "alias/cli", "--target-key-id", key["KeyId"])
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x00binary secret\xff")
    out = json.loads(aws_cli("kms", "encrypt", "--key-id", "alias/cli", "--plaintext", f"fileb://{secret}").stdout)
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(out["CiphertextBlob"]))
    back = json.loads(aws_cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}").stdout)
    assert base64.b64decode(back["Plaintext"]) == b"\x00binary secret\xff"
    assert back["KeyId"] == key["Arn"]
    missing = aws_cli("kms", "describe-key", "--key-id", "alias/nope", check=False)
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr
