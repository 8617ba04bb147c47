"""RPC entrypoints of skills and qualifications; mixed into ResourceService,
which provides `self.uow`, `self.cache`, `self.auth` and `self._caller()`."""
from auth_service import contract as auth_contract
from mes_common import errors
from mes_common.events.handlers import event_handler
from mes_common.rpc import rpc
from mes_common.schemas import load, uuid_arg
from mes_common.timers import config_timer
from resource_service.contract import qualifications as schemas
from resource_service.qualifications import use_cases as qualifications

matrix_out = schemas.Matrix()
check_out = schemas.QualificationCheckOut()


class QualificationEntrypoints:

    # ------------------------------------------------------------ skills

    @rpc
    def create_skill(self, data):
        data = load(schemas.SkillCreate(), data)
        with self.uow() as tx:
            return qualifications.dump_skill(qualifications.create_skill(tx, data))

    @rpc
    def update_skill(self, code, changes):
        code = load(schemas.SkillKey(), {"code": code})["code"]
        changes = load(schemas.SkillUpdate(), changes)
        with self.uow() as tx:
            return qualifications.dump_skill(qualifications.update_skill(tx, code, changes))

    @rpc
    def get_skill(self, code):
        code = load(schemas.SkillKey(), {"code": code})["code"]
        return qualifications.dump_skill(qualifications.get_skill(self.uow.session, code))

    @rpc
    def list_skills(self, query=None):
        return qualifications.list_skills(self.uow.session, load(schemas.SkillListQuery(), query))

    # ------------------------------------------------------------ qualifications

    def _user_name(self, user_id):
        """The person's display name from the auth service (422 for no such user)."""
        summary = self.cache.summary(auth_contract.USER_KIND, user_id, self.auth.get_user_summaries)
        if summary is None:
            raise errors.RuleViolated(f"user_id: no user {user_id}", {"user_id": ["no user with this id"]})
        return summary["display_name"]

    @rpc
    def grant_qualification(self, data):
        """Certify a person in a skill (their active qualification in it is superseded)."""
        data = load(schemas.QualificationGrant(), data)
        name = self._user_name(data["user_id"])
        with self.uow() as tx:
            return qualifications.dump(qualifications.grant(tx, self._caller(), data, name))

    @rpc
    def revoke_qualification(self, qualification_id, data):
        qualification_id = uuid_arg(qualification_id)
        data = load(schemas.QualificationRevoke(), data)
        with self.uow() as tx:
            return qualifications.dump(qualifications.revoke(tx, self._caller(), qualification_id, data["reason"]))

    @rpc
    def get_qualification(self, qualification_id):
        return qualifications.dump(qualifications.get(self.uow.session, uuid_arg(qualification_id)))

    @rpc
    def list_qualifications(self, query=None):
        """A page of qualification records: a person's history, a skill's holders, what expires soon."""
        return qualifications.list_page(self.uow.session, load(schemas.QualificationListQuery(), query))

    @rpc
    def get_qualification_matrix(self, query=None):
        return matrix_out.dump(qualifications.matrix(self.uow.session, load(schemas.MatrixQuery(), query)))

    @rpc
    def check_qualification(self, data):
        """What a person lacks today for skill requirements (the shop floor asks
        before an operation starts): {user_id, qualified, shortfalls}."""
        data = load(schemas.QualificationCheck(), data)
        shortfalls = qualifications.check(self.uow.session, data["user_id"], data["requirements"])
        return check_out.dump({"user_id": data["user_id"], "qualified": not shortfalls, "shortfalls": shortfalls})

    @config_timer("QUALIFICATION_EXPIRY_INTERVAL", default=60.0)
    def expire_qualifications(self):
        """Record and announce expiries (validity never waits for this: checks
        compare the last valid day with today)."""
        while True:
            with self.uow() as tx:
                if qualifications.expire_due(tx, qualifications.today()) < qualifications.EXPIRY_BATCH:
                    return

    @event_handler("auth_service", "mes.auth.user.updated")
    def on_user_updated(self, event):
        """A person's new display name on their qualification records."""
        qualifications.rename_holder(self.uow, self.cache, event.data)
