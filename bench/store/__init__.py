"""Warehouse benchmark: S3 throughput through the warehouse vs the raw minio client, catalogue lookups."""
