"""Authentication and authorization of gateway requests: the one place.

Every route goes through `authenticate(request, spec)` before its handler
runs. Until the auth service lands (issue: auth and gateway security), every
request is an anonymous principal allowed everything; the route specs
already declare their permission (`resource:read`, `resource:write`), which
is what this function will check.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    actor: str
    permissions: frozenset = frozenset()


ANONYMOUS = Principal(actor="anonymous")


def authenticate(request, spec):
    return ANONYMOUS
