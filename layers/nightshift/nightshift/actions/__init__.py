"""Signed actions: links and Slack buttons that keep an environment running, stop or start it,
snooze a canary check or roll a service back (docs/actions.md).

`token` signs and verifies the action token, `slack` checks Slack's request signature and reads
its interaction payload, `plan` decides what an action changes, `page` renders the confirmation
page; `service` carries a verified action out through the ports. Pure, except `service`.
"""
