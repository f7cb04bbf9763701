"""The README's renderings of Shipmate's own surfaces, built through the real renderers from example results:
the Home tab (`home_view`), the Run… form (`run_form`) and an approval request message (`to_message`).

    python3 -m tests.docs_images      # from the repository's root: rewrites docs/*.svg

tests/test_blockkit_svg.py draws them again and compares them with the committed images, so they never drift
from what Shipmate sends."""

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from bot.render.blocks import to_message
from bot.render.forms import run_form
from bot.render.home import home_view
from bot.results import (
    Alert,
    ApprovalRequest,
    ApprovalsToDecide,
    ContainerRow,
    EngineStatus,
    EngineStatuses,
    Freeze,
    FreezesAhead,
    Home,
    OpenAlerts,
    OwnedContainers,
    OwnedService,
    OwnedServices,
    ServiceRow,
    Silence,
    SilenceList,
)

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)  # a Friday afternoon
OWNER = "label=io.shipmate.user=U0ALICE"

REQUEST = ApprovalRequest(
    id="9f3c2a1b7d6e5f40",
    requester="U0BOB",
    command="/docker --context prod-1 rm -f api-old",
    engine="prod-1",
    summary="remove container `api-old` (3f2a9c1d4e5b, nginx:1.27), which is running: it will be stopped first",
    details=("created 2026-11-30 by U0BOB · label io.shipmate.team=payments",),
    approvers=("S0LEADS", "U0ALICE"),
    needed=1,
    approved_by=(),
    expires_at=(NOW + timedelta(minutes=30)).timestamp(),
    state="pending",
    why="approvals rule 1: container.rm on prod-*",
)


def _container(name: str, image: str, state: str, status: str, engine: str) -> ContainerRow:
    return ContainerRow(name, "3f2a9c1d4e5b", image, "", state, status, (), "U0ALICE", engine)


def home() -> Home:
    engines = EngineStatuses(
        (
            EngineStatus("prod-1", True, "27.3.1", 14, 15),
            EngineStatus("prod-2", True, "27.3.1", 9, 9),
            EngineStatus("staging", False, problem="no answer within 5 s"),
        )
    )
    alert = Alert(
        "prod-2", "worker", "8e1d2c3b4a59", "acme/worker:2.4", "die", "died with exit code 137", NOW, "exited"
    )
    freezes = FreezesAhead(
        (Freeze("4", "prod-*", NOW - timedelta(hours=1), NOW + timedelta(hours=3), "release 4.2", "U0ALICE"),), NOW
    )
    silences = SilenceList(
        (Silence("2", "prod-2", "batch-*", NOW, NOW + timedelta(hours=1), "reindexing", "U0CAROL"),), NOW
    )
    containers = OwnedContainers(
        OWNER,
        (
            _container("web1", "nginx:1.27", "running", "Up 3 hours", "prod-1"),
            _container("cron", "acme/cron:1.9", "exited", "Exited (0) 20 minutes ago", "prod-2"),
        ),
    )
    services = OwnedServices(
        OWNER, (OwnedService("prod-1", ServiceRow("k2j4h5", "api", "replicated", 3, 3, "acme/api:4.1", ())),)
    )
    return Home(
        "U0ALICE",
        (engines, ApprovalsToDecide((REQUEST,)), OpenAlerts((alert,)), freezes, silences, containers, services),
    )


def documents() -> dict[str, dict]:
    """Each image in docs/ by its file name, and the Block Kit it draws."""
    return {
        "home-tab.svg": home_view(home()),
        "run-form.svg": run_form(("prod-1", "prod-2", "staging"), "prod-1", ""),
        "approval-request.svg": to_message(REQUEST).payload(),
    }


def blockkit_svg() -> ModuleType:
    spec = importlib.util.spec_from_file_location("blockkit_svg", ROOT / "scripts" / "blockkit_svg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    draw = blockkit_svg().render
    for name, document in documents().items():
        (ROOT / "docs" / name).write_text(draw(document))
        print(f"docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
