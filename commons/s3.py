"""The S3 client built from settings (MinIO in production, any S3 API in tests)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio

from commons.errors import ConfigurationError
from commons.settings import Settings


def minio_client(settings: Settings) -> Minio:
    """A ``minio`` client for ``OZG_S3_ENDPOINT``; TLS follows the URL's scheme.

    The connection pool is our own, not minio's default: that one waits five minutes for a
    silent server and retries five times, so a stalled object store would hold every request
    for half an hour. Here a connection opens within ``OZG_S3_CONNECT_TIMEOUT_SECONDS``, a
    silent server fails the request after ``OZG_S3_READ_TIMEOUT_SECONDS``, and a failed
    request is retried twice (the API then answers 503, see gateway.problems)."""
    if not settings.s3_endpoint or not settings.s3_access_key:
        raise ConfigurationError(["OZG_S3_ENDPOINT and OZG_S3_ACCESS_KEY must be set for S3"])
    url = urlsplit(settings.s3_endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigurationError([f"OZG_S3_ENDPOINT is not an http(s) URL: {url.scheme}://..."])
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(
            connect=settings.s3_connect_timeout_seconds, read=settings.s3_read_timeout_seconds
        ),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.s3_region,
        http_client=http,
    )
