"""Settings for the real servers the integration tests use (CI exports OZG_TEST_*)."""

from __future__ import annotations

import os
import secrets

import pytest
from pydantic import SecretStr

from commons.settings import Settings


def s3_settings(bucket_prefix: str = "ozg-test") -> Settings:
    """Settings for the S3 server in OZG_TEST_S3_*, with a fresh bucket name; else skip."""
    endpoint = os.environ.get("OZG_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.skip("needs an S3 server: set OZG_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY")
    return Settings(
        object_store="s3",
        s3_endpoint=endpoint,
        s3_access_key=os.environ.get("OZG_TEST_S3_ACCESS_KEY"),
        s3_secret_key=SecretStr(os.environ.get("OZG_TEST_S3_SECRET_KEY", "")),
        s3_region=os.environ.get("OZG_TEST_S3_REGION", "us-east-1"),
        s3_bucket=f"{bucket_prefix}-{secrets.token_hex(6)}",
    )
