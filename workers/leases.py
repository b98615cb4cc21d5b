"""Leases on job steps: how a process takes, keeps, proves and gives back its hold on a row.

One mechanism for the step runner (pipeline steps) and maintenance (the re-time-stamping
schedule). A lease is taken by a conditional UPDATE, so two processes never both hold a row;
it names its owner and runs until ``lease_until``, after which another process may take the
row (its holder died). A holder renews it while it works, and writes an outcome only through
the row locked while it still holds it, so a process that lost its lease records nothing.
What a row must be for its lease to be taken (its state, its due time) is the caller's.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from storage.catalogue.models import JobStep, utcnow


def worker_identity() -> str:
    """A lease owner unique to this process (host, pid and a random part: pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take(s: Session, owner: str, duration: timedelta, *where: Any, **values: Any) -> list[int]:
    """Lease the rows matching ``where`` (also setting ``values``); returns the ids taken.

    The condition is checked by the UPDATE itself: a row another process took meanwhile no
    longer matches, and is left out.
    """
    now = utcnow()
    return list(
        s.scalars(
            update(JobStep)
            .where(*where)
            .values(lease_owner=owner, lease_until=now + duration, updated_at=now, **values)
            .returning(JobStep.id)
            .execution_options(synchronize_session=False)
        ).all()
    )


def expired(now: datetime) -> ColumnElement[bool]:
    """Rows whose holder stopped renewing before ``now``."""
    return JobStep.lease_until < now


def free(now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: never leased, given back, or whose lease expired."""
    return or_(JobStep.lease_until.is_(None), expired(now))


def held(owner: str, step_id: int) -> ColumnElement[bool]:
    """The row, while ``owner`` still holds its lease."""
    return and_(JobStep.id == step_id, JobStep.lease_owner == owner)


def renew(s: Session, owner: str, step_id: int, duration: timedelta, *where: Any) -> bool:
    """Extend a lease still held (and ``where`` still true); False once it was lost."""
    res = s.execute(
        update(JobStep)
        .where(held(owner, step_id), *where)
        .values(lease_until=utcnow() + duration)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def locked(s: Session, owner: str, step_id: int, *where: Any) -> JobStep | None:
    """The row, locked for this transaction, while ``owner`` holds it (and ``where`` is true); else None."""
    return s.scalar(select(JobStep).where(held(owner, step_id), *where).with_for_update())


def clear(row: JobStep) -> None:
    """Give the lease of a row locked by ``locked`` back, with the outcome written to it."""
    row.lease_owner = row.lease_until = None


def release(s: Session, owner: str, step_ids: list[int]) -> None:
    """Give back the leases ``owner`` still holds on these rows, leaving the rows otherwise as they are."""
    s.execute(
        update(JobStep)
        .where(JobStep.id.in_(step_ids), JobStep.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
