"""The demo seed's hook: apps above tutoring add their own scene to the demo organization
(`demo_seeded.connect(...)` in their AppConfig.ready), as the console adds a term of history."""

from django.dispatch import Signal

# Sent by `manage.py seed_demo` inside its transaction, with `organization` and `people`
# (the demo users by the part of their email before "@").
demo_seeded = Signal()
