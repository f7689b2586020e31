"""The contacts APIs: ``department/list``, ``user/list`` and ``user/get`` over the emulator's directory."""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from connectors.emulators.wecom.access import Access
from connectors.emulators.wecom.replies import Invalid, ok


class Directory(Access):
    """Departments (a subtree on request) and the people in them."""

    def department_list(self, request: Request) -> Response:
        return self._api(request, self._department_list)

    def _department_list(self, request: Request, agent_id: int) -> Response:
        with self.lock:
            root = request.args.get("id")
            if root is None:
                return ok(department=[dict(d) for d in self.departments.values()])
            if not root.isdigit() or int(root) not in self.departments:
                raise Invalid(60123, "invalid party id")
            return ok(department=[dict(self.departments[d]) for d in self._subtree(int(root))])

    def _subtree(self, root: int) -> list[int]:
        found, frontier = [root], [root]
        while frontier:
            children = [d for d, dept in self.departments.items() if dept["parentid"] in frontier]
            found += children
            frontier = children
        return found

    def user_list(self, request: Request) -> Response:
        return self._api(request, self._user_list)

    def _user_list(self, request: Request, agent_id: int) -> Response:
        department = request.args.get("department_id", "")
        with self.lock:
            if not department.isdigit() or int(department) not in self.departments:
                raise Invalid(60123, "invalid party id")
            wanted = set(self._subtree(int(department)) if request.args.get("fetch_child") == "1"
                         else [int(department)])
            return ok(userlist=[json.loads(json.dumps(u)) for u in self.users.values()
                                 if wanted & set(u["department"])])

    def user_get(self, request: Request) -> Response:
        return self._api(request, self._user_get)

    def _user_get(self, request: Request, agent_id: int) -> Response:
        with self.lock:
            user = self.users.get(request.args.get("userid", ""))
            if user is None:
                raise Invalid(60111, "userid not found")
            return ok(**json.loads(json.dumps(user)))
