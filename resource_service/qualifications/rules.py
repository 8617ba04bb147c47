"""Pure rules of qualifications: validity on a day, expiry dates, and what a
person lacks for a set of skill requirements. No database, no clock: the
caller passes the day (UTC) and the records."""
import datetime as dt
from dataclasses import dataclass

from mes_common import errors


@dataclass(frozen=True)
class Held:
    """A person's active qualification in one skill."""
    skill: str
    level: int
    level_name: str
    expires_on: dt.date | None   # valid through this day; None: no periodic re-certification


@dataclass(frozen=True)
class Requirement:
    skill: str
    min_level: int


def expiry(certified_on, recertification_days, expires_on=None, field="expires_on"):
    """The last day a certification made on `certified_on` is valid. A skill that
    needs periodic re-certification expires after its interval at the latest
    (`expires_on` may set an earlier day); another lasts until revoked unless
    `expires_on` says otherwise."""
    latest = certified_on + dt.timedelta(days=recertification_days) if recertification_days else None
    if expires_on is None:
        return latest
    if expires_on <= certified_on:
        raise errors.RuleViolated(f"{field}: not after the certification ({certified_on})",
                                      {field: [f"must be after certified_on ({certified_on})"]})
    if latest is not None and expires_on > latest:
        raise errors.RuleViolated(
            f"{field}: the skill needs re-certification every {recertification_days} days",
            {field: [f"at the latest {latest} ({recertification_days} days after certified_on)"]})
    return expires_on


def check_level(level, levels, field="level"):
    if not 1 <= level <= len(levels):
        raise errors.RuleViolated(f"{field}: {level} is not a level of this skill",
                                      {field: [f"one of 1..{len(levels)} ({', '.join(levels)})"]})


def shortfalls(requirements, held, today):
    """What `held` ({skill code: Held}) lacks for `requirements` on `today`: one
    problem per requirement not met, each naming the skill, the level needed
    and, for an expired one, its expiry date."""
    problems = []
    for req in requirements:
        have = held.get(req.skill)
        base = {"skill": req.skill, "level_required": req.min_level}
        if have is None:
            problems.append({**base, "problem": "not_qualified",
                             "message": f"not qualified in {req.skill} (level {req.min_level} needed)"})
        elif have.expires_on is not None and have.expires_on < today:
            problems.append({**base, "problem": "expired", "level_held": have.level,
                             "expired_on": have.expires_on,
                             "message": f"qualification in {req.skill} expired on {have.expires_on.isoformat()} "
                                        f"(level {req.min_level} needed)"})
        elif have.level < req.min_level:
            problems.append({**base, "problem": "below_level", "level_held": have.level,
                             "expires_on": have.expires_on,
                             "message": f"{req.skill} level {have.level} ({have.level_name}) held, "
                                        f"level {req.min_level} needed"})
    return problems


def status_on(expires_on, today, expiring_within_days=30):
    """'valid', 'expiring' (within the window) or 'expired' on `today`."""
    if expires_on is None or expires_on >= today + dt.timedelta(days=expiring_within_days):
        return "valid"
    return "expired" if expires_on < today else "expiring"


def check_requirements(requirements_per_operation, skills):
    """Each operation's required skills ({code: (number of levels, active)} is the
    catalogue's word on them) exist, are active, name a level the skill has,
    and appear once per operation."""
    problems = {}
    for i, requirements in enumerate(requirements_per_operation):
        seen = set()
        for j, req in enumerate(requirements):
            where = f"operations.{i}.required_skills.{j}"
            known = skills.get(req["skill"])
            if known is None:
                problems[f"{where}.skill"] = [f"no skill {req['skill']} in the catalogue"]
            elif not known[1]:
                problems[f"{where}.skill"] = [f"skill {req['skill']} is inactive"]
            elif req["min_level"] > known[0]:
                problems[f"{where}.min_level"] = [f"{req['skill']} has {known[0]} level(s)"]
            if req["skill"] in seen:
                problems[f"{where}.skill"] = [f"{req['skill']} is required twice"]
            seen.add(req["skill"])
    if problems:
        first = next(iter(problems))
        raise errors.RuleViolated(f"{first}: {problems[first][0]}", problems)
