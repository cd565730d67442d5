"""What the developer's commands (scripts/) use and the deployed functions do not: kept out of
the Lambda layer, which holds only what the five handlers run
(tests/unit/test_layer_runtime_only.py).

- `policy_check`: every mistake in a policy file (scripts/check-policy, scripts/publish-policy);
- `preview`: notifier fixtures rendered for a terminal (scripts/preview, the local cloud's
  webhook receiver);
- `week`: the scheduler's next days of starts and stops (scripts/plan-schedule).
"""
