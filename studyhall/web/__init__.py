"""Shared page plumbing: who is asking, refusals as pages, post/redirect/get, parameter
parsing, and putting a service's refusal onto a form. Every app's views build on it."""
