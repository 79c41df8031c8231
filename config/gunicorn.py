"""gunicorn's settings for serving Studyhall's HTTP: `gunicorn -c config/gunicorn.py`.

WebSockets (/ws/) are served by uvicorn beside it (config.asgi), on their own port or behind
the same proxy; docs/adr/0010 says why and how the two were measured. Give the number of worker
processes with `--workers` (or WEB_CONCURRENCY) and the address with `--bind`.
"""

from config.env import DEFAULT_POOL_SIZE, env_int

wsgi_app = "config.wsgi:application"
# Threads, not processes per request: a worker keeps its pool of database connections.
worker_class = "gthread"
# One thread per pooled connection, so that a request never waits for the pool, and no more:
# more requests in Python at once than the cores can run only wait for the interpreter at
# every statement (README, Database connections).
threads = env_int("STUDYHALL_DB_POOL_SIZE", DEFAULT_POOL_SIZE, minimum=1, maximum=500)
# Browsers keep their connection between the page and its htmx requests.
keepalive = 5
# A worker holds at most twice as many connections as it has threads: once half of them wait
# in keep-alive, its next answers close their connections, and new ones wait in the kernel's
# queue for whichever worker has room. Without a bound, each worker accepts all it can, so a
# burst of clients is split between workers by chance (16 and 4 of 20 in the benchmark) and
# stays split for as long as they keep their connections: those on the fuller worker wait four
# times as long (README, Performance).
worker_connections = threads * 2
# Requests are logged by the app (LOG_LEVEL); gunicorn's own access log stays off.
accesslog = None
# No control socket: it is one path per user, which two servers on one machine would share.
control_socket_disable = True
