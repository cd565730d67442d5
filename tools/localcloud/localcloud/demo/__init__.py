"""`make demo`: one scripted day of the example app (examples/core-stack.yaml, "todoapp") in
staging, played through the built Nightshift functions in the local cloud on a simulated clock.

Setup: a moto server, the built stack (PolicyFile=demo.yaml, PrunerDryRun=false), the example app
in the same server, a webhook receiver standing in for Slack, and the app's `/health` on the
loopback address the demo policy's canary probes. Then the day (Europe/Berlin):

- 09:00 a push of `main-<sha>` redeploys the backend; ECS reports the deployment completed;
- 13:00 the canary sees the app degrade: its down alarm's ALARM reaches chat, then its OK;
- 18:00 AWS Budgets' 80 % alert;
- 19:00 the scheduler parks staging (service capacity and autoscaling limits, the database);
- 02:00 RDS starts the database by itself and the scheduler (enforce) stops it again;
- 03:00 the pruner's plan (dry run), then its scheduled run deletes what it planned;
- 07:30 the scheduler starts staging exactly as it was.

Each step prints its times, what happened, every chat message as the receiver got it, and ✓ done
or ✗ failed with why. See docs/local-cloud.md, "make demo". Modules: `day` (the date and its
instants), `payloads` (AWS's messages from the reference shapes), `health_app`, `cloud` (the
moves every step makes), `steps` (the day), `timeline` (the output), `__main__` (the command).
"""
