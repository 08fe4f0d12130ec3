"""Play OpenShift's image import controller on the sandbox cluster, which has none.

For the DockerImage spec tag NAMESPACE/STREAM:TAG, ask the sandbox registry (skopeo, with the sandbox's
credentials and CA) for the image's digest and record it in the ImageStream's status the way OpenShift's import
does (`status.tags[].items[0]`). Prints "imported <digest>" when the status changed, "unchanged" otherwise.
Only for the sandbox and the demo: on a real cluster OpenShift imports by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def kubectl_json(*args: str) -> dict:
    return json.loads(subprocess.run(["kubectl", *args, "-o", "json"], check=True, capture_output=True).stdout)


def registry_digest(image: str) -> str:
    with tempfile.TemporaryDirectory() as cert_dir:
        Path(cert_dir, "ca.crt").write_bytes(Path(os.environ["SANDBOX_REGISTRY_CA"]).read_bytes())
        creds = f"{os.environ['SANDBOX_REGISTRY_USER']}:{os.environ['SANDBOX_REGISTRY_PASSWORD']}"
        completed = subprocess.run(
            [
                "skopeo",
                "inspect",
                "--cert-dir",
                cert_dir,
                "--creds",
                creds,
                "--format",
                "{{.Digest}}",
                f"docker://{image}",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return completed.stdout.strip()


def main(namespace: str, stream: str, tag: str) -> int:
    image_stream = kubectl_json("get", "imagestream", stream, "-n", namespace)
    spec_tag = next((t for t in image_stream["spec"].get("tags") or [] if t["name"] == tag), None)
    if spec_tag is None or (spec_tag.get("from") or {}).get("kind") != "DockerImage":
        print(f"{namespace}/{stream}:{tag} is not a DockerImage spec tag", file=sys.stderr)
        return 1
    source = spec_tag["from"]["name"]
    digest = registry_digest(source)
    repository = source.split("@", 1)[0]
    if repository.rfind(":") > repository.rfind("/"):  # a tag, not a registry port
        repository = repository.rsplit(":", 1)[0]
    reference = f"{repository}@{digest}"
    status_tags = [t for t in (image_stream.get("status") or {}).get("tags") or [] if t.get("tag") != tag]
    current = next((t for t in (image_stream.get("status") or {}).get("tags") or [] if t.get("tag") == tag), None)
    if current and current.get("items") and current["items"][0].get("image") == digest:
        print("unchanged")
        return 0
    event = {
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dockerImageReference": reference,
        "image": digest,
        "generation": spec_tag.get("generation") or image_stream["metadata"].get("generation", 1),
    }
    status_tags.append({"tag": tag, "items": [event, *((current or {}).get("items") or [])]})
    patch = {"status": {"tags": sorted(status_tags, key=lambda t: t["tag"])}}
    subprocess.run(
        [
            "kubectl",
            "patch",
            "imagestream",
            stream,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(patch),
        ],
        check=True,
        capture_output=True,
    )
    print(f"imported {digest}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: sandbox_import.py NAMESPACE STREAM TAG", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
