"""The lines both renderers show for Compose projects, laid out like `docker compose ls` / `top`."""

from bot.render.format import aligned
from bot.render.lines import process_lines
from bot.results import ComposeProcesses, ComposeProgress, ComposeProjectTable


def project_lines(result: ComposeProjectTable) -> list[str]:
    header = ("NAME", "STATUS", "CONFIG FILES")
    rows = [(row.name, row.status, row.config_files) for row in result.rows]
    if any(row.engine for row in result.rows):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(result.rows, rows, strict=True)]
    return aligned(header, rows)


def processes_empty(result: ComposeProcesses) -> str:
    return f"no running containers in project {result.project}"


def container_processes(result: ComposeProcesses) -> list[tuple[str, list[str]]]:
    """(container, its process table) for each running container, as `docker compose top` prints them."""
    return [(table.container, process_lines(table)) for table in result.tables]


def progress_line(result: ComposeProgress) -> str:
    return f"{result.doing} {result.project}: {result.step}/{result.total}, {result.container}"
