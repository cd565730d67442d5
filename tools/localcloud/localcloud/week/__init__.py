"""`make week`: a simulated week of the example app's staging (and a production service that
must stay untouched) in the local cloud, every schedule of the template firing at its deployed
rate. Modules: `plan` (the week's dates and injections, pure), `warm` and `sandbox_worker` (warm
Lambda sandboxes on the simulated clock), `play` (the week), `summary` (the checks, pure), `doc`
(docs/a-week.md, pure), `__main__` (the command).
"""
