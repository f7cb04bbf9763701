"""The state of a command's targets when it was asked for, so an approver never approves what is no longer there:
each named container's id, creation time and image id; each named service's id and spec version."""

from datetime import UTC, datetime

from bot.engine import Engine
from bot.engine.targets import find_containers, find_services
from bot.grammar import Command
from bot.grammar.service_commands import ServiceCommand

ABSENT = "absent"


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def fingerprint(engine: Engine, command: Command) -> dict[str, str]:
    """Target -> its state now (EngineError when the engine cannot say)."""
    state: dict[str, str] = {}
    refs = command.targets()
    if refs:
        found = find_containers(engine, refs)
        with engine.errors("containers"):
            listing = {item["Id"]: item for item in engine.api.containers(all=True)}
        for ref, facts in found.items():
            item = listing.get(facts.id) if facts is not None else None
            if item is None:
                state[f"container {ref}"] = ABSENT
                continue
            created = datetime.fromtimestamp(int(item.get("Created", 0)), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            state[f"container {ref}"] = (
                f"{item['Id'][:12]} created {created} from image {_short(str(item.get('ImageID', '')))}"
            )
    if isinstance(command, ServiceCommand):
        for ref, service in find_services(engine, command.services()).items():
            if service is None:
                state[f"service {ref}"] = ABSENT
                continue
            with engine.errors(ref):
                version = (engine.api.inspect_service(service.id).get("Version") or {}).get("Index")
            state[f"service {ref}"] = f"{service.id[:12]} spec version {version}"
    return state


def differences(before: dict[str, str], now: dict[str, str]) -> tuple[str, ...]:
    """How the targets changed, one line each: "container web1: was …, now …"."""
    return tuple(
        f"{target}: was {before.get(target, ABSENT)}, now {now.get(target, ABSENT)}"
        for target in dict.fromkeys([*before, *now])
        if before.get(target, ABSENT) != now.get(target, ABSENT)
    )
