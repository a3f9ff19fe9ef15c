"""The bulk-move bench compares like with like: its bare loop leaves exactly the rows the engine
leaves, written the same way (one guarded UPDATE per dossier, one INSERT of history rows and one
of audit rows per chunk of app.sop.machine.BULK_CHUNK)."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bulk_move():
    spec = importlib.util.spec_from_file_location("bench_bulk_move", ROOT / "bench" / "bulk_move.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _state(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        state = {
            "dossier": connection.execute(text(
                "SELECT id, stage_id, status, due_at, version FROM dossier ORDER BY id")).all(),
            "stage_event": connection.execute(text(
                "SELECT dossier_id, from_stage_id, to_stage_id, action, actor_id, occurred_at, note "
                "FROM stage_event ORDER BY dossier_id")).all(),
            "audit_log": connection.execute(text(
                "SELECT occurred_at, actor_id, actor_name, address, origin, entity, record_id, action, dossier_id, "
                "changes, reason, import_batch_id FROM audit_log ORDER BY record_id")).all(),
        }
    engine.dispose()
    return state


def test_bare_bulk_loop_writes_the_rows_the_engine_writes(
    bulk_move, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.sop.machine as machine

    # Small chunks, so three of them (7 + 7 + 6) show the per-chunk batching of both sides.
    monkeypatch.setattr(machine, "BULK_CHUNK", 7)
    monkeypatch.setattr(bulk_move, "BULK_CHUNK", 7)
    template = tmp_path / "template.db"
    bulk_move.build(f"sqlite:///{template}", 20)
    urls = {}
    for side in ("ours", "bare"):
        shutil.copy(template, tmp_path / f"{side}.db")
        urls[side] = f"sqlite:///{tmp_path / f'{side}.db'}"

    _, ours_statements = bulk_move.run_ours(urls["ours"], 20)
    _, bare_statements = bulk_move.run_baseline(urls["bare"], 20)

    ours, bare = _state(urls["ours"]), _state(urls["bare"])
    assert len(bare["stage_event"]) == len(bare["audit_log"]) == 20
    assert bare == ours
    # 20 UPDATEs, then per chunk one INSERT of history rows and one of audit rows.
    assert bare_statements == 20 + 3 * 2
    # The engine writes the same rows, loading and judging each chunk in a few reads, and moves a
    # chunk's dossiers by one guarded UPDATE where the bare loop runs one per dossier.
    assert 3 * 3 < ours_statements < bare_statements


def test_bulk_move_bench_checks_that_every_dossier_moved(bulk_move, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unmoved.db'}"
    bulk_move.build(url, 3)
    with pytest.raises(AssertionError):
        bulk_move.check_moved(create_engine(url), 3)
