# onnxfpgm in a container: docker run --rm -v "$PWD:/work" IMAGE prune /work/in.onnx /work/out.onnx
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# EXTRAS=torch adds torch for scoring on a GPU; the default image has numpy scoring only.
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

COPY pyproject.toml README.md /tmp/onnxfpgm-src/
COPY onnxfpgm /tmp/onnxfpgm-src/onnxfpgm
RUN python3 -m pip install --no-cache-dir "/tmp/onnxfpgm-src${EXTRAS:+[$EXTRAS]}" \
    && rm -rf /tmp/onnxfpgm-src /root/.cache \
    && (useradd --create-home --uid 10001 onnxfpgm 2>/dev/null || adduser -D -u 10001 onnxfpgm)

USER onnxfpgm
WORKDIR /work
ENTRYPOINT ["onnxfpgm"]
CMD ["--help"]
