"""One renderer per destination type, each `render(n, details_url=None)`:
`slack` (Block Kit dict), `teams` (Adaptive Card message dict), `email` (EmailMessage)."""
