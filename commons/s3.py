"""The S3 client built from settings (MinIO in production, any S3 API in tests)."""

from __future__ import annotations

from urllib.parse import urlsplit

from minio import Minio

from commons.errors import ConfigurationError
from commons.settings import Settings


def minio_client(settings: Settings) -> Minio:
    """A ``minio`` client for ``OZG_S3_ENDPOINT``; TLS follows the URL's scheme."""
    if not settings.s3_endpoint or not settings.s3_access_key:
        raise ConfigurationError(["OZG_S3_ENDPOINT and OZG_S3_ACCESS_KEY must be set for S3"])
    url = urlsplit(settings.s3_endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigurationError([f"OZG_S3_ENDPOINT is not an http(s) URL: {url.scheme}://..."])
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.s3_region,
    )
