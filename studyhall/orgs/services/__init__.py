"""Writes to organizations, people, courses and policy. Each runs inside its caller's
transaction (the view, API handler, task or command owns it) and writes an audit entry."""
