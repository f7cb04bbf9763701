"""Swarm results as text: tables laid out like `docker service ls`, `service ps`, `node ls`, `stack ls`.

Both renderers use these lines (Slack shows the tables in monospace), so terminal and chat read alike.
"""

from bot.render.format import ago, aligned
from bot.results import CONVERGED, Convergence, NodeTable, ServiceProgress, ServiceTable, StackTable, TaskTable

TASK_ID_WIDTH = 12
ERROR_WIDTH = 60  # `service ps` cuts errors short, unless --no-trunc


def service_lines(result: ServiceTable) -> list[str]:
    rows = [(r.id, r.name, r.mode, r.replicas, r.image, ", ".join(r.ports)) for r in result.rows]
    return aligned(("ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"), rows)


def current_state(state: str, since_text: str) -> str:
    return f"{state.capitalize()} {since_text}".strip()


def task_lines(result: TaskTable) -> list[str]:
    def cut(text: str, width: int) -> str:
        return text if result.no_trunc or len(text) <= width else text[: width - 1] + "…"

    rows = [
        (
            r.id if result.no_trunc else r.id[:TASK_ID_WIDTH],
            r.name,
            r.image,
            r.node,
            r.desired_state.capitalize(),
            current_state(r.state, ago(r.since)),
            cut(r.error, ERROR_WIDTH),
        )
        for r in result.rows
    ]
    return aligned(("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"), rows)


def node_lines(result: NodeTable) -> list[str]:
    rows = [(r.id, r.hostname, r.status, r.availability, r.manager_status, r.engine_version) for r in result.rows]
    return aligned(("ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"), rows)


def stack_lines(result: StackTable) -> list[str]:
    return aligned(("NAME", "SERVICES"), [(r.name, str(r.services)) for r in result.rows])


def progress_line(result: ServiceProgress) -> str:
    note = f" ({result.note})" if result.note else ""
    return f"{result.service}: {result.running}/{result.desired} running …{note}"


def convergence_line(item: Convergence) -> str:
    """`web: 3/3 running ✓ converged in 4 s`, or how far it got and why it stopped."""
    head = f"{item.service}: {item.running}/{item.desired} running"
    took = f"{item.seconds:.0f} s"
    if item.outcome == CONVERGED:
        return f"{head} ✓ {item.verb}, converged in {took}"
    hint = _NEXT.get(item.verb, "").format(service=item.service)
    if item.error:
        return f"{head} ✗ {item.verb}, but a task failed after {took}: {item.error}{hint}"
    return f"{head} ✗ {item.verb}, but not converged within {took}; the tasks are below{hint}"


# What to type next when a change did not converge: the change itself stays, as with the docker CLI.
_NEXT = {
    "created": " — the service stays: `service rm {service}` removes it",
    "updated": " — `service rollback {service}` goes back",
}
