"""Volumes and networks as text: tables laid out like `docker volume ls` (with the size `system df -v` counts) and
`docker network ls`, and the facts `volume inspect` / `network inspect` show.

Both renderers use these lines (Slack shows the tables in monospace and escapes them there; facts are escaped by
the Block Kit renderer), so terminal and chat read alike. Labels and options are masked by their renderers.
"""

from bot.render.format import ago, aligned, decimal_size
from bot.results import NetworkDetails, NetworkTable, VolumeFacts, VolumeTable


def volume_size(size: int) -> str:
    return decimal_size(size, 4) if size >= 0 else "N/A"


def volume_lines(result: VolumeTable) -> list[str]:
    header: tuple[str, ...] = ("DRIVER", "VOLUME NAME", "SIZE", "LINKS")
    rows = [(r.driver, r.name, volume_size(r.size), str(r.links)) for r in result.rows]
    if any(r.engine for r in result.rows):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(result.rows, rows, strict=True)]
    return aligned(header, rows)


def volume_empty(result: VolumeTable) -> str:
    matching = " ".join(f"{key}={value}" for key, value in result.filters)
    return f"no volumes match {matching}" if matching else "no volumes"


def volume_title(result: VolumeTable) -> str:
    count = len(result.rows)
    known = sum(r.size for r in result.rows if r.size > 0)
    return f"{count} volume{'s' * (count != 1)}, {decimal_size(known, 4)}"


def volume_facts(volume: VolumeFacts) -> list[tuple[str, str]]:
    return [
        ("Driver", volume.driver),
        ("Scope", volume.scope),
        ("Mountpoint", volume.mountpoint),
        ("Created", ago(volume.created)),
        ("Size", volume_size(volume.size)),
        ("Used by", ", ".join(volume.used_by) or "no container"),
    ]


def network_lines(result: NetworkTable) -> list[str]:
    header: tuple[str, ...] = ("NETWORK ID", "NAME", "DRIVER", "SCOPE")
    rows = [(r.short_id, r.name, r.driver, r.scope) for r in result.rows]
    if any(r.engine for r in result.rows):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(result.rows, rows, strict=True)]
    return aligned(header, rows)


def network_facts(result: NetworkDetails) -> list[tuple[str, str]]:
    flags = [word for word, on in (("internal", result.internal), ("attachable", result.attachable)) if on]
    return [
        ("ID", result.short_id),
        ("Driver", result.driver),
        ("Scope", result.scope),
        ("Created", ago(result.created)),
        (
            "Subnets",
            ", ".join(f"{subnet} via {gateway}" if gateway else subnet for subnet, gateway in result.subnets) or "—",
        ),
        ("Flags", ", ".join(flags) or "—"),
    ]


def member_lines(result: NetworkDetails) -> list[str]:
    """The containers attached, with their addresses on this network."""
    return aligned(("CONTAINER", "IPV4", "IPV6"), [(m.name, m.ipv4 or "—", m.ipv6 or "—") for m in result.members])
