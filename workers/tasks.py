"""Thin Celery tasks: claim the step by id, run it through the shared runner, nothing else."""

from __future__ import annotations

import logging
from functools import lru_cache

from dossiers.services import Services
from sohoa.settings import get_settings
from workers.celery_app import RUN_STEP, app
from workers.runner import StepRunner

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _runner() -> StepRunner:
    return StepRunner(Services(get_settings()))


@app.task(name=RUN_STEP)
def run_step(step_id: int) -> str:
    runner = _runner()
    if not runner.claim(step_id):
        log.info("step %s not claimable (done, failed or leased elsewhere); skipped", step_id)
        return "skipped"
    return str(runner.run(step_id).state)
