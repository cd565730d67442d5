"""The IAM judge: every AWS call a Nightshift function makes, judged against its role in
template.yaml (docs/iam.md, "What is judged where").

- `iamjudge.recorder`: records each request as IAM would authorize it (botocore hook).
- `iamjudge.roles`: each function's role from template.yaml, through the SAM translator.
- `iamjudge.judge`: evaluates with @cloud-copilot/iam-simulate in one node process.
- `iamjudge.pytest_plugin`: the `iam_judge` fixture of the test tiers.
- `iamjudge.localcloud`: the local cloud's hook (functions run under the Lambda RIE).
"""
