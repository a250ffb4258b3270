"""The Docker image, built and run for real with buildah on a debootstrapped Debian base (cached between runs).

Skips, saying why, where buildah, debootstrap or root are missing; `.ci/run` installs both packages.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

ROOT = Path(__file__).resolve().parents[1]
STORAGE = ["--storage-driver", "vfs"]
BASE = "localhost/onnxfpgm-base:bookworm"
IMAGE = "localhost/onnxfpgm:test"
ROOTFS_CACHE = Path(os.environ.get("ONNXFPGM_ROOTFS_CACHE", "/var/cache/onnxfpgm/rootfs"))


def sh(*args, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run(list(args), capture_output=True, text=True, **kwargs)


def _missing() -> str | None:
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "building images with buildah's chroot isolation needs root here"
    return None


def ensure_base_image() -> None:
    """A minimal Debian with python3 and pip, imported once as a local base image."""
    if subprocess.run(["buildah", *STORAGE, "images", "-q", BASE], capture_output=True, text=True).stdout.strip():
        return
    if not (ROOTFS_CACHE / "usr" / "bin" / "python3").exists():
        ROOTFS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        sh("debootstrap", "--variant=minbase", "--include=python3,python3-pip,ca-certificates,passwd", "bookworm",
           str(ROOTFS_CACHE), "http://deb.debian.org/debian", timeout=1200)
        for marker in ROOTFS_CACHE.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()  # as in the official Python images
    ctr = sh("buildah", *STORAGE, "from", "scratch").stdout.strip()
    try:
        mount = sh("buildah", *STORAGE, "mount", ctr).stdout.strip()
        subprocess.run(f"tar -C '{ROOTFS_CACHE}' -cf - . | tar -C '{mount}' -xf -", shell=True, check=True)
        sh("buildah", *STORAGE, "umount", ctr)
        sh("buildah", *STORAGE, "config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           ctr)
        sh("buildah", *STORAGE, "commit", "-q", ctr, BASE)
    finally:
        subprocess.run(["buildah", *STORAGE, "rm", ctr], capture_output=True)


def test_image_builds_and_prunes_the_sample_model():
    reason = _missing()
    if reason:
        print(f"skipping the Docker image test: {reason}")
        pytest.skip(reason)
    ensure_base_image()
    sh("buildah", "bud", "--isolation", "chroot", *STORAGE, "--build-arg", f"BASE_IMAGE={BASE}",
       "-v", "/etc/ssl/certs:/etc/ssl/certs:ro", "-t", IMAGE, str(ROOT), cwd=ROOT, timeout=1200)
    config = sh("buildah", *STORAGE, "inspect", "--type", "image", "--format",
                "{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}", IMAGE).stdout
    assert config.split()[0] == "onnxfpgm" and "onnxfpgm" in config.split(maxsplit=1)[1]
    with tempfile.TemporaryDirectory() as out:
        os.chmod(out, 0o777)
        ctr = sh("buildah", *STORAGE, "from", IMAGE).stdout.strip()
        try:
            result = subprocess.run(
                ["buildah", *STORAGE, "run", "--isolation", "chroot", "-v", f"{ROOT / 'models'}:/work/models:ro",
                 "-v", f"{out}:/work/out", ctr, "--", "onnxfpgm", "prune", "/work/models/digits_resnet.onnx",
                 "/work/out/pruned.onnx", "--ratio", "0.3"], capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr
            assert "validate passed" in result.stdout
            whoami = sh("buildah", *STORAGE, "run", "--isolation", "chroot", ctr, "--", "id", "-u").stdout.strip()
            assert whoami != "0"
            leftovers = sh("buildah", *STORAGE, "run", "--isolation", "chroot", ctr, "--", "sh", "-c",
                           "ls /root/.cache /tmp/onnxfpgm-src 2>/dev/null; command -v gcc || true").stdout.strip()
            assert leftovers == ""
        finally:
            subprocess.run(["buildah", *STORAGE, "rm", ctr], capture_output=True)
        pruned = onnx.load(os.path.join(out, "pruned.onnx"))
        onnx.checker.check_model(pruned, full_check=True)
        data = np.load(ROOT / "models" / "digits_holdout.npz")
        sess = ort.InferenceSession(pruned.SerializeToString(), providers=["CPUExecutionProvider"])
        logits = sess.run(None, {"image": data["images"][:8]})[0]
        assert logits.shape == (8, 10)
    size = sh("buildah", *STORAGE, "images", "--format", "{{.Size}}", IMAGE).stdout.strip()
    print(f"image size: {size}")
