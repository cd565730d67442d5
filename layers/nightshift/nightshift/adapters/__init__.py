"""Small adapters around AWS and HTTP. Only these modules import boto3; each takes its client
(or builds the default one lazily), returns domain objects and raises our errors."""
