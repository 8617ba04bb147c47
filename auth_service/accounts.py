"""Use cases on users, roles and passwords, on one unit of work.

Functions take the worker's Transaction (or a Session for reads); they
apply the rules, write the rows, audit and record events. Sessions of a
user are ended through `sessions.revoke_user_sessions`.
"""
import datetime as dt
import uuid

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from auth_service import credentials, domain, passwords
from auth_service.models import PasswordHistory, Role, User, UserRole
from auth_service.contract.permissions import BUILTIN_ROLES, PERMISSIONS
from auth_service.contract.schemas import RoleOut, UserOut, UserSummary
from auth_service.contract import events
from mes_common import errors, paging
from mes_common.db import fetch

USER = credentials.USER
ROLE = "role"

user_out, role_out, summary_out = UserOut(), RoleOut(), UserSummary()


def now():
    return dt.datetime.now(dt.timezone.utc)


# ------------------------------------------------------------------ reads

def get_user(session, user_id, lock=False):
    return fetch(session, User.id, user_id, "user", lock)


def find_user(session, username, lock=False):
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def role_names(session, user_id):
    return sorted(session.execute(select(UserRole.role).where(UserRole.user_id == user_id)).scalars())


def roles_of(session, user_id):
    return session.execute(select(Role).join(UserRole, UserRole.role == Role.name)
                           .where(UserRole.user_id == user_id).order_by(Role.name)).scalars().all()


def dump_user(session, user, roles=None):
    return user_out.dump({**columns(user), "roles": role_names(session, user.id) if roles is None else roles})


def columns(row):
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def dump_me(session, user):
    roles = roles_of(session, user.id)
    return {**dump_user(session, user, [r.name for r in roles]),
            "permissions": domain.permissions_of(roles), "mfa_required": domain.mfa_required(roles)}


def list_users(session, query):
    stmt = select(User)
    if query["active"] is not None:
        stmt = stmt.where(User.active.is_(query["active"]))
    if query["role"]:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == query["role"])))
    if query["q"]:
        pattern = "%" + query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern)))
    keys = [(func.lower(User.username), paging.text_key, lambda user: user.username.lower()), (User.id, paging.uuid_key)]
    return paging.page(session, stmt, keys, query, lambda users: _dump_users(session, users))


def _dump_users(session, users):
    roles = {}
    if users:
        for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)
                                             .where(UserRole.user_id.in_([u.id for u in users]))
                                             .order_by(UserRole.role)):
            roles.setdefault(user_id, []).append(role)
    return [dump_user(session, u, roles.get(u.id, [])) for u in users]


def summaries(session, user_ids):
    users = session.execute(select(User).where(User.id.in_(user_ids))).scalars()
    return {str(u.id): summary_out.dump(u) for u in users}


def summary(user):
    return summary_out.dump(user)


def bookkeep(session, user, **values):
    """Sign-in bookkeeping (last login, TOTP step, lock, rehash) written without
    bumping `version`, which guards administrators' edits: signing in must not
    make an edit someone is preparing stale."""
    session.execute(update(User.__table__).where(User.__table__.c.id == user.id).values(**values))
    for name, value in values.items():
        set_committed_value(user, name, value)


def check_within_own_permissions(session, caller, permissions, what):
    """Refuse (403) handing out or taking power over `permissions` the caller
    does not hold: `user:write` alone must not make anyone an administrator.
    What the caller holds is their roles' permissions narrowed to what the call
    carries (an API token's scope). A call without a user is allowed only when
    it is the platform's own (`mes` CLI, a service: Caller.trusted)."""
    if caller.user_id is None:
        if caller.trusted:
            return
        raise errors.Forbidden(f"you cannot {what}: no user is signed in",
                               {"authorization": ["no user, and not a platform call"]})
    held = set(domain.permissions_of(roles_of(session, caller.user_id)))
    if caller.permissions is not None:
        held &= caller.permissions
    beyond = sorted(set(permissions) - held)
    if beyond:
        raise errors.Forbidden(f"you cannot {what}: it involves permissions you do not hold",
                               {"permissions": [f"you do not hold {p}" for p in beyond]})


def permissions_of_user(session, user_id):
    return domain.permissions_of(roles_of(session, user_id))


def permissions_of_roles(session, names):
    return domain.permissions_of(session.execute(select(Role).where(Role.name.in_(names))).scalars())


# ------------------------------------------------------------------ roles

def sync_builtin_roles(tx):
    """Make the built-in roles in the database match permissions.py (added
    roles and permissions appear; removed permissions go), audited as the
    system. Returns the names of roles changed. `requires_mfa` is left as an
    administrator set it."""
    session, changed = tx.session, []
    existing = {r.name: r for r in session.execute(select(Role).with_for_update()).scalars()}
    for name, (description, permissions, requires_mfa) in BUILTIN_ROLES.items():
        role = existing.get(name)
        if role is None:
            session.add(Role(name=name, description=description, permissions=sorted(permissions),
                             requires_mfa=requires_mfa, builtin=True))
            changed.append(name)
        elif sorted(role.permissions) != sorted(permissions) or role.description != description:
            role.permissions, role.description, role.builtin = sorted(permissions), description, True
            changed.append(name)
    session.flush()
    for name in changed:
        tx.audit("sync_builtin_role", ROLE, name, new=role_out.dump(session.get(Role, name)),
                 reason="built-in role definition of this release", actor="system")
    return changed


def list_roles(session):
    return [role_out.dump(r) for r in session.execute(select(Role).order_by(Role.name)).scalars()]


def get_role(session, name, lock=False):
    return fetch(session, Role.name, name, "role", lock)


def list_permissions():
    return [{"name": name, "description": text} for name, text in sorted(PERMISSIONS.items())]


def create_role(tx, data):
    if tx.session.get(Role, data["name"]) is not None:
        raise errors.Conflict(f"role {data['name']} already exists", {"name": ["already used"]})
    role = Role(name=data["name"], description=data["description"], permissions=sorted(set(data["permissions"])),
                requires_mfa=data["requires_mfa"], builtin=False)
    tx.session.add(role)
    tx.flush()
    out = role_out.dump(role)
    tx.audit("create", ROLE, role.name, new=out)
    tx.emit(events.ROLE_CREATED, role.name, out)
    return out


def update_role(tx, name, changes):
    role = get_role(tx.session, name, lock=True)
    if role.builtin and set(changes) - {"requires_mfa"}:
        raise errors.RuleViolated(f"{name} is a built-in role: only requires_mfa can change",
                                  {field: ["read-only on a built-in role"]
                                   for field in sorted(set(changes) - {"requires_mfa"})})
    old = role_out.dump(role)
    for field, value in changes.items():
        setattr(role, field, sorted(set(value)) if field == "permissions" else value)
    tx.flush()
    out = role_out.dump(role)
    if out != old:
        tx.audit("update", ROLE, name, old=old, new=out)
        tx.emit(events.ROLE_UPDATED, name, out)
    return out


# ------------------------------------------------------------------ users

def _check_roles_exist(session, names):
    known = set(session.execute(select(Role.name).where(Role.name.in_(names))).scalars())
    missing = sorted(set(names) - known)
    if missing:
        raise errors.RuleViolated("unknown roles", {"roles": [f"no role {name}" for name in missing]})


def set_password(session, user, password, *, must_change, expires_at=None):
    """Hash and store a new password, keeping the history for the reuse rule.
    One set by an administrator (`must_change`) serves once, to choose the
    user's own, and only until `expires_at`."""
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now()
    user.must_change_password = must_change
    user.password_expires_at = expires_at if must_change else None
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))


def password_expired(user, at):
    return user.password_expires_at is not None and user.password_expires_at <= at


def _previous_hashes(session, user_id):
    return session.execute(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user_id)
                           .order_by(PasswordHistory.id.desc()).limit(passwords.HISTORY)).scalars().all()


def check_new_password(session, user, password, *, username=None, display_name=None, email=None):
    passwords.check(password, username=username or user.username,
                    user_inputs=[display_name or (user.display_name if user else ""),
                                 email or (user.email if user else "") or ""],
                    previous_hashes=_previous_hashes(session, user.id) if user else ())


def create_user(tx, data, *, temporary_password_ttl=None, reason=None):
    """A user whose first password, set by an administrator, serves once and for
    `temporary_password_ttl` (None: the user's own, as `mes create-admin` sets)."""
    session = tx.session
    if find_user(session, data["username"]) is not None:
        raise errors.Conflict(f"username {data['username']} is already used", {"username": ["already used"]})
    passwords.check(data["password"], username=data["username"],
                    user_inputs=[data["display_name"], data.get("email") or ""])
    roles = sorted(set(data["roles"]))
    _check_roles_exist(session, roles)
    user = User(id=uuid.uuid4(), username=data["username"], display_name=data["display_name"],
                email=data.get("email"), active=True, password_hash=passwords.hash_password(data["password"]),
                must_change_password=temporary_password_ttl is not None,
                password_expires_at=None if temporary_password_ttl is None else now() + temporary_password_ttl)
    session.add(user)
    tx.flush()
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    session.add_all([UserRole(user_id=user.id, role=name) for name in roles])
    tx.flush()
    out = dump_user(session, user, roles)
    tx.audit("create", USER, user.id, new=out, reason=reason)
    tx.emit(events.USER_CREATED, user.id, summary(user))
    return out


def update_user(tx, user_id, changes):
    """Change display fields or the active flag. Returns (user dict, deactivated?)."""
    session = tx.session
    reason = changes.pop("reason", None)
    expected = changes.pop("version", None)
    user = get_user(session, user_id, lock=True)
    if expected is not None and expected != user.version:
        raise errors.Conflict(f"user {user_id} is at version {user.version}, not {expected}",
                              {"version": [f"current version is {user.version}"]})
    old = dump_user(session, user)
    for field, value in changes.items():
        setattr(user, field, value)
    tx.flush()
    out = dump_user(session, user)
    deactivated = old["active"] and not user.active
    if out != old:
        action = "deactivate" if deactivated else "reactivate" if user.active and not old["active"] else "update"
        tx.audit(action, USER, user.id, old=old, new=out, reason=reason)
        tx.emit(events.USER_UPDATED, user.id, summary(user))
    return out, deactivated


def set_roles(tx, user_id, roles, reason=None):
    session = tx.session
    user = get_user(session, user_id, lock=True)
    roles = sorted(set(roles))
    _check_roles_exist(session, roles)
    old = role_names(session, user.id)
    if old == roles:
        return dump_user(session, user, roles)
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all([UserRole(user_id=user.id, role=name) for name in roles])
    tx.flush()
    tx.audit("assign_roles", USER, user.id, old={"roles": old}, new={"roles": roles}, reason=reason)
    tx.emit(events.USER_ROLES_CHANGED, user.id, {"id": str(user.id), "roles": roles})
    return dump_user(session, user, roles)


def reset_password(tx, user_id, password, ttl, reason=None):
    """An administrator sets a temporary password: it serves once, within `ttl`, to
    choose a new one at the next sign-in, after the user's own second factor."""
    session = tx.session
    user = get_user(session, user_id, lock=True)
    check_new_password(session, user, password)
    set_password(session, user, password, must_change=True, expires_at=now() + ttl)
    tx.flush()
    tx.audit("reset_password", USER, user.id, reason=reason,
             new={"must_change_password": True, "password_expires_at": user.password_expires_at})
    return user


def change_password(tx, throttle, address, user, current, new):
    """The user's own change: the current password proves it is them (checked
    under the account throttle). A wrong one is audited and returned (raise it
    after the commit), not raised."""
    session = tx.session
    refused = credentials.guarded(
        tx, throttle, user, address, lambda: passwords.verify(user.password_hash, current),
        failed_action="change_password_failed",
        refused=errors.Unauthenticated("the current password is wrong", {"current_password": ["wrong password"]}))
    if refused is not None:
        return refused
    if passwords.verify(user.password_hash, new):
        raise errors.RuleViolated("the new password must differ from the current one",
                                  {"new_password": ["same as the current password"]})
    check_new_password(session, user, new)
    set_password(session, user, new, must_change=False)
    tx.flush()
    tx.audit("change_password", USER, user.id, new={"password_changed_at": user.password_changed_at})
    return None


def unlock(tx, throttle, user_id, reason=None):
    """Forget the user's failed attempts at every address (a lock holds per address)."""
    user = get_user(tx.session, user_id, lock=True)
    throttle.clear(user.username, everywhere=True)
    tx.audit("unlock", USER, user.id, new={"failed_attempts": "cleared at every address"}, reason=reason)
    return user


def create_admin(tx, username, password, display_name=None, email=None):
    """The first administrator (`mes create-admin`): chose their own password."""
    sync_builtin_roles(tx)
    return create_user(tx, {"username": username, "password": password, "email": email,
                            "display_name": display_name or username, "roles": ["admin"]},
                       reason="mes create-admin")
