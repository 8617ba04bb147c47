"""The release saga: snapshot the released routing, reserve the BOM in material,
release the order — or give everything back.

Steps (ARCHITECTURE.md §4), each persisted in the `saga` row before the next
one runs, the lease renewed at every step:

1. resource.get_released_routing → the operations snapshot, with the latest
   released version of each work instruction frozen into it;
2. material.explode_bom (one level × the order quantity) → the requirements,
   persisted (state `reserving`) BEFORE anything is reserved;
3. material.reserve per requirement, key `wo-release:<saga id>:<part id>`
   (SAGA_RESERVE_CONCURRENCY at a time; the lease renewed before each batch);
4. one transaction: operation rows, order released, saga completed, event.

Compensation releases EVERY requirement's key, whether or not its reserve
ran: material's release is idempotent and tombstones an unknown key, so a
reserve still in flight from a dead worker reserves nothing when it lands.
A worker that stops mid-saga (killed) leaves its lease to expire; the
recovery timer then takes the saga (FOR UPDATE SKIP LOCKED: one instance
each) and compensates it. Every saga write checks the row's version, so a
slow worker that lost its lease cannot complete a saga being compensated.
"""
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import eventlet
from sqlalchemy import func, select, update

from mes_common import errors
from mes_common.db import utcnow
from work_order_service import domain, orders
from work_order_service.contract import events
from work_order_service.models import Operation, Saga, WorkOrder

log = logging.getLogger(__name__)

INTERRUPTED = "release interrupted (the service stopped mid-release); its reservations were released"


@dataclass(frozen=True)
class Settings:
    lease_seconds: float = 15.0
    # drills and tests only: time to kill the process between reservations
    # (one reservation per step then)
    step_delay: float = 0.0
    # reservations made at once in one step (different parts lock different rows in material)
    concurrency: int = 8

    @classmethod
    def from_config(cls, config):
        return cls(lease_seconds=float(config.get("SAGA_LEASE_SECONDS", 15)),
                   step_delay=float(config.get("SAGA_STEP_DELAY", 0)),
                   concurrency=max(1, int(config.get("SAGA_RESERVE_CONCURRENCY", 8))))

    def lease(self):
        """Until when a saga is ours: on the database's clock, which every instance shares."""
        return func.now() + dt.timedelta(seconds=self.lease_seconds)


@dataclass
class Run:
    """This worker's hold on one saga row: the version it last wrote."""
    id: uuid.UUID
    work_order_id: uuid.UUID
    state: str
    version: int
    data: dict


class LeaseLost(Exception):
    """The saga row changed under us: the recovery took it over."""


def _write(tx, run, settings, state=None, data=None, error=None, lease=True):
    """Write the saga row if we still own it (same version); renews the lease."""
    values = {"version": run.version + 1}
    if lease:
        values["lease_until"] = settings.lease()
    if state is not None:
        domain.check_saga_transition(run.state, state)
        values["state"] = state
    if data is not None:
        values["data"] = data
    if error is not None:
        values["error"] = error
    result = tx.session.execute(update(Saga).where(Saga.id == run.id, Saga.version == run.version)
                                .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise LeaseLost(run.id)
    run.version += 1
    run.state = state or run.state
    run.data = data if data is not None else run.data


def _advance(uow, run, settings, **values):
    with uow() as tx:
        _write(tx, run, settings, **values)


def keys(run):
    return [domain.reservation_key(run.id, r["part_id"]) for r in run.data.get("requirements", [])]


# ------------------------------------------------------------------ the saga

def release(uow, material, resource, freeze, settings, caller, wo_id):
    """Run the saga in this worker; the released order (WorkOrderOut), or the
    error saying why not (after compensation). `freeze(session, codes)`: the
    latest released version of each work instruction code, None if it has none."""
    run = _begin(uow, settings, wo_id)
    data = run.data
    try:
        routing = _routing(resource, data)
        with uow() as tx:  # work instructions live in this database
            operations = snapshot(routing, lambda codes: freeze(tx.session, codes), data.get("planned_operations"))
        _advance(uow, run, settings)  # two RPCs may take most of a lease
        bom = material.explode_bom(data["part_id"], {"revision": data["part_revision"],
                                                     "quantity": data["quantity"], "levels": 1})
        requirements = [{"part_id": r["part_id"], "part_number": r.get("part_number"), "quantity": r["quantity"]}
                        for r in bom["requirements"] if r["quantity"] > 0]
        _advance(uow, run, settings, state=domain.RESERVING, data={
            **data, "routing": {"id": routing["id"], "version": routing.get("version")} if routing else None,
            "operations": operations, "requirements": requirements})
        step = 1 if settings.step_delay else settings.concurrency
        for start in range(0, len(requirements), step):
            if start and settings.step_delay:
                eventlet.sleep(settings.step_delay)
            _advance(uow, run, settings)  # the lease covers this step's calls (each within RPC_TIMEOUT)
            _reserve(material, run, requirements[start:start + step])
        return _finish(uow, run, caller)
    except LeaseLost:
        raise errors.Conflict(f"the release of work order {data['number']} took too long and is being "
                              "compensated; release it again", {"saga_id": str(run.id)}) from None
    except Exception as exc:
        error = _refusal(exc)
        try:
            final = compensate(uow, material, settings, run, error)
        except LeaseLost:
            final = error
        except Exception:
            log.exception("compensation of release saga %s failed; the recovery will retry", run.id)
            _expire_lease(uow, run)
            raise errors.Unavailable(f"{error.message}; its reservations are being given back "
                                     "(retried automatically)", error.details) from exc
        if isinstance(exc, errors.MesError):
            raise final from None
        raise


def _reserve(material, run, requirements):
    """Reserve a step's requirements concurrently; after every call has
    answered, raise the first failure (a shortage first: it gets reported in full)."""
    data = run.data

    def one(requirement):
        try:
            return material.reserve({"work_order_id": data["work_order_id"], "part_id": requirement["part_id"],
                                     "quantity": requirement["quantity"],
                                     "idempotency_key": domain.reservation_key(run.id, requirement["part_id"]),
                                     "reference": data["number"]})
        except Exception as exc:  # noqa: BLE001 - collected, raised below
            return exc

    failures = [r for r in eventlet.GreenPool(len(requirements)).imap(one, requirements)
                if isinstance(r, Exception)]
    if failures:
        raise next((f for f in failures if _is_shortage(f)), failures[0])


def _begin(uow, settings, wo_id):
    with uow() as tx:
        session = tx.session
        wo = orders.get(session, wo_id, lock=True)
        domain.check_transition(wo.number, wo.status, domain.RELEASED)
        orders.check_no_release_running(session, wo)
        data = {"work_order_id": str(wo.id), "number": wo.number, "part_id": str(wo.part_id),
                "part_revision": wo.part_revision, "quantity": float(wo.quantity),
                "planned_operations": wo.planned_operations}
        saga = Saga(id=uuid.uuid4(), type=domain.SAGA_RELEASE, work_order_id=wo.id, state=domain.STARTED,
                    data=data, version=1, lease_until=settings.lease())
        session.add(saga)
        tx.flush()
        return Run(saga.id, wo.id, saga.state, saga.version, data)


def _routing(resource, data):
    """The part's released routing; None when it has none but the ERP planned the operations."""
    try:
        return resource.get_released_routing(data["part_id"], data["part_revision"])
    except errors.NotFound:
        if data.get("planned_operations"):
            return None
        raise


CONTROLLED = ("work_instruction_code", "required_skills", "special_process")   # what a plan must not drop


def planned_over_routing(routing, planned):
    """The operations of an order the ERP planned: the plan's sequence, name, work center and times, with the
    instruction, skills and special process of the routing's operation of the same sequence, if any. A
    routing operation that carries any of those and has no planned counterpart refuses the release: an
    instruction, a qualification or a special process must not vanish because the ERP numbers differently."""
    by_sequence = {op["sequence"]: op for op in (routing or {}).get("operations", [])}
    planned_sequences = {op["sequence"] for op in planned}
    dropped = [seq for seq, op in sorted(by_sequence.items())
               if seq not in planned_sequences and any(op.get(key) for key in CONTROLLED)]
    if dropped:
        raise errors.RuleViolated(
            "release refused: the ERP's plan has no operation " + ", ".join(map(str, dropped))
            + " of the released routing, which carries an instruction, required skills or a special process",
            {"planned_operations": [f"operation {seq} missing" for seq in dropped]})
    return [{**{k: v for k, v in by_sequence.get(op["sequence"], {}).items()
                if k in ("work_instruction_code", "required_skills", "skill_note", "special_process")},
             **{k: op[k] for k in ("sequence", "name", "work_center_id", "work_center_code", "work_center_name",
                                   "setup_time", "run_time")}}
            for op in planned]


def snapshot(routing, freeze, planned=None):
    """The routing's operations as the order will keep them (or the ERP's plan over them), each with its work
    instruction frozen (the latest released version)."""
    source = planned_over_routing(routing, planned) if planned else routing["operations"]
    codes = sorted({op["work_instruction_code"] for op in source if op.get("work_instruction_code")})
    frozen = freeze(codes) if codes else {}
    operations = []
    for op in sorted(source, key=lambda o: o["sequence"]):
        code = op.get("work_instruction_code")
        if code and frozen.get(code) is None:
            raise errors.RuleViolated(
                f"release refused: work instruction {code} (operation {op['sequence']}) has no released version",
                {"work_instruction_code": [f"{code} has no released version"]})
        operations.append({
            "sequence": op["sequence"], "name": op["name"], "work_center_id": op["work_center_id"],
            "work_center_code": op.get("work_center_code"), "work_center_name": op.get("work_center_name"),
            "setup_time": op["setup_time"], "run_time": op["run_time"],
            "required_skills": op.get("required_skills", []), "skill_note": op.get("skill_note"),
            "special_process": op.get("special_process"), "work_instruction": frozen.get(code) if code else None})
    if not operations:
        raise errors.RuleViolated("release refused: the released routing has no operations",
                                  {"routing": ["no operations"]})
    return operations


def _finish(uow, run, caller):
    with uow() as tx:
        session = tx.session
        wo = orders.get(session, run.work_order_id, lock=True)
        # cancel and update wait for the saga; this is for anything that slipped past
        domain.check_transition(wo.number, wo.status, domain.RELEASED)
        _write(tx, run, None, state=domain.COMPLETED, lease=False)
        for i, op in enumerate(run.data["operations"]):
            session.add(Operation(
                id=uuid.uuid4(), work_order_id=wo.id, sequence=op["sequence"], name=op["name"],
                work_center_id=uuid.UUID(op["work_center_id"]), work_center_code=op["work_center_code"],
                work_center_name=op["work_center_name"], setup_time=op["setup_time"], run_time=op["run_time"],
                # a saga run stored before skills were checked carries the free text only
                required_skills=op.get("required_skills", []),
                skill_note=op.get("skill_note", op.get("required_skill")),
                work_instruction=op["work_instruction"], special_process=op.get("special_process"),
                status=domain.READY if i == 0 else domain.PENDING,
                quantity_good=0, quantity_scrap=0, quantity_rework=0))
        now = utcnow()
        orders.record_status(tx, wo, domain.RELEASED, caller, at=now)
        wo.released_at, wo.release_error = now, None
        tx.flush()
        out = orders.get_out(session, wo.id)
        # the routing version used, for the as-built record (traceability)
        tx.emit(events.work_order("released"), wo.id, {**out, "routing": run.data["routing"]})
        tx.audit("release", orders.ENTITY, wo.id, old={"status": domain.CREATED},
                 new={"status": domain.RELEASED, "saga_id": str(run.id), "routing": run.data["routing"],
                      "reservations": keys(run)})
        return out


# ------------------------------------------------------------------ compensation

def _refusal(exc):
    """The typed error a failed step becomes for the caller: RuleViolated 422
    "release refused: …" (Unavailable stays a 503: retrying may work)."""
    if isinstance(exc, errors.Unavailable):
        return errors.Unavailable(f"release refused: {exc.message}", exc.details)
    if isinstance(exc, errors.MesError):
        message = exc.message if exc.message.startswith("release refused") else f"release refused: {exc.message}"
        return errors.RuleViolated(message, exc.details)
    return errors.RuleViolated("release refused: internal error (see the service log)", {})


def _is_shortage(error):
    return isinstance(error, errors.RuleViolated) and "short" in error.details


def compensate(uow, material, settings, run, error):
    """Give back every reservation of the saga, mark it compensated, record why
    on the order. Returns the error to report (for a shortage: every short part)."""
    with uow() as tx:
        _write(tx, run, settings, state=domain.COMPENSATING, error=error.message)
        _set_release_error(tx, run, error.message)
    give_back(material, run, error.message, settings.concurrency)
    if _is_shortage(error):
        error = _all_shortages(material, run, error)
    _compensated(uow, run, error)
    return error


def give_back(material, run, why, concurrency=8):
    """Release every key of the saga (idempotent; an unknown key leaves a tombstone)."""
    release_one = lambda key: material.release_reservation(key, {"reason": why[:500]})  # noqa: E731
    for _ in eventlet.GreenPool(concurrency).imap(release_one, keys(run)):
        pass


def _all_shortages(material, run, error):
    """Reserve stops at the first short part; the planner wants them all
    (asked after our own reservations were given back)."""
    try:
        report = material.check_availability(
            {"items": [{"part_id": r["part_id"], "quantity": r["quantity"]} for r in run.data["requirements"]]})
    except errors.MesError as exc:
        log.warning("availability check after a refused release failed: %s", exc)
        report = []
    shortages = [s for s in report if s["short"] > 0] or [error.details]
    return domain.release_refused(shortages)


def _set_release_error(tx, run, message):
    tx.session.execute(update(WorkOrder).where(WorkOrder.id == run.work_order_id)
                       .values(release_error=message).execution_options(synchronize_session=False))


def _compensated(uow, run, error):
    with uow() as tx:
        _write(tx, run, None, state=domain.COMPENSATED, error=error.message, lease=False)
        wo = orders.get(tx.session, run.work_order_id, lock=True)
        wo.release_error = error.message
        tx.flush()
        out = orders.get_out(tx.session, wo.id)
        shortages = error.details.get("shortages", [])
        tx.emit(events.work_order("release_failed"), wo.id, {**out, "shortages": shortages})
        tx.audit("release_failed", orders.ENTITY, wo.id, new={"saga_id": str(run.id), "error": error.message,
                                                             "shortages": shortages})


def _expire_lease(uow, run):
    """Let the recovery retry at once rather than after the lease."""
    try:
        with uow() as tx:
            tx.session.execute(update(Saga).where(Saga.id == run.id, Saga.version == run.version)
                               .values(lease_until=func.now()))
    except Exception:
        log.exception("could not expire the lease of saga %s", run.id)


def active_saga_counts(session):
    """Release sagas under way, by state (the metric `mes_release_sagas`): one
    stuck in `compensating` or piling up in `reserving` needs a look."""
    counts = dict(session.execute(select(Saga.state, func.count()).where(Saga.state.in_(domain.SAGA_ACTIVE))
                                  .group_by(Saga.state)).all())
    return [((state,), counts.get(state, 0)) for state in domain.SAGA_ACTIVE]


def recover(uow, material, settings, limit=10):
    """Compensate sagas whose lease ran out (their worker died). Returns the ids done."""
    with uow() as tx:
        sagas = tx.session.execute(
            select(Saga).where(Saga.state.in_(domain.SAGA_ACTIVE), Saga.lease_until < func.now())
            .order_by(Saga.lease_until).limit(limit).with_for_update(skip_locked=True)).scalars().all()
        runs = []
        for saga in sagas:
            run = Run(saga.id, saga.work_order_id, saga.state, saga.version, saga.data)
            error = saga.error or INTERRUPTED
            if run.state == domain.COMPENSATING:
                _write(tx, run, settings)  # take it over: lease and version are ours now
            else:
                _write(tx, run, settings, state=domain.COMPENSATING, error=error)
                _set_release_error(tx, run, error)
            runs.append((run, error))
    done = []
    for run, message in runs:
        try:
            give_back(material, run, message, settings.concurrency)
            _compensated(uow, run, errors.RuleViolated(message, {}))
            done.append(run.id)
            log.warning("release saga %s of work order %s recovered: compensated", run.id, run.work_order_id)
        except LeaseLost:
            pass
        except Exception:  # its lease runs out again and the next pass retries
            log.exception("recovery of release saga %s failed; retried after its lease", run.id)
    return done
