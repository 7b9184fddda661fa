"""moto's server as the AWS stand-in: SES v2 and S3 on 127.0.0.1, read back through /moto-api."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3

REGION = "ap-south-1"
SENDER_DOMAIN = "lab.example"
BUCKET = "lab-reports"


class FakeAWS:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))

    def data(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json") as response:
            return json.load(response)

    def messages(self) -> list[dict[str, Any]]:
        """Simple messages sent: ``{source, destinations, subject, body}`` (body: the HTML part if any)."""
        return self.data()["ses"]["Message"]

    def raw_messages(self) -> list[dict[str, Any]]:
        """Raw messages sent: ``{source, destinations, raw_data}``."""
        return self.data()["ses"]["RawMessage"]

    def verify_domain(self, domain: str = SENDER_DOMAIN, region: str = REGION) -> None:
        boto3.client("sesv2", region_name=region, endpoint_url=self.endpoint).create_email_identity(
            EmailIdentity=domain
        )

    def s3(self) -> Any:
        return boto3.client("s3", region_name=REGION, endpoint_url=self.endpoint)

    def put_object(self, key: str, body: bytes, content_type: str = "application/pdf") -> None:
        s3 = self.s3()
        existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        if BUCKET not in existing:
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
