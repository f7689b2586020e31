"""Approval callbacks: the ``sys_approval_change`` XML, sealed and signed for the registered URL, delivered
with retries (or dropped, duplicated, held and released late, as the faults ask), and the URL check that
``POST /_emulator/callback`` runs before it registers a URL."""

from __future__ import annotations

import secrets

import requests
from werkzeug.wrappers import Request, Response

from connectors.emulators.base import json_response
from connectors.emulators.wecom.model import AGENT_ID, CallbackTarget, Delivery
from connectors.emulators.wecom.state import WeComState
from connectors.oa.envelope import seal, sha1_signature


class Callbacks(WeComState):
    """Making, sealing and delivering callbacks; ``/_emulator/callback`` and ``/_emulator/callback/release``."""

    def _event(self, sp_no: str, change_event: int, agent_id: int) -> tuple[str, int, bytes]:
        """The decrypted XML of a sys_approval_change callback for the sheet as it is now."""
        info = self.instances[sp_no]
        created = int(self.clock.now())
        records = "".join(
            f"<SpRecord><SpStatus>{r['sp_status']}</SpStatus><ApproverAttr>{r['approverattr']}</ApproverAttr>"
            + "".join(f"<Details><Approver><UserId><![CDATA[{d['approver']['userid']}]]></UserId></Approver>"
                      f"<Speech><![CDATA[{cdata(d['speech'])}]]></Speech><SpStatus>{d['sp_status']}</SpStatus>"
                      f"<SpTime>{d['sptime']}</SpTime></Details>" for d in r["details"])
            + "</SpRecord>" for r in info["sp_record"])
        xml = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[sys]]>"
               f"</FromUserName><CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
               f"<Event><![CDATA[sys_approval_change]]></Event><AgentID>{agent_id}</AgentID><ApprovalInfo>"
               f"<SpNo>{sp_no}</SpNo><SpNoStr>{sp_no}</SpNoStr><SpName><![CDATA[{info['sp_name']}]]></SpName>"
               f"<SpStatus>{info['sp_status']}</SpStatus><TemplateId><![CDATA[{info['template_id']}]]></TemplateId>"
               f"<ApplyTime>{info['apply_time']}</ApplyTime><Applyer><UserId><![CDATA[{info['applyer']['userid']}]]>"
               f"</UserId><Party><![CDATA[{info['applyer']['partyid']}]]></Party></Applyer>{records}"
               f"<StatuChangeEvent>{change_event}</StatuChangeEvent></ApprovalInfo></xml>")
        return sp_no, change_event, xml.encode()

    def sealed_callback(self, message: bytes, target: CallbackTarget) -> tuple[dict[str, str], bytes]:
        """The query and body WeCom posts for ``message``: sealed for this corp, signed with the target's token."""
        encrypted = seal(target.encoding_aes_key, message, self.corp_id)
        timestamp, nonce = str(int(self.clock.now())), str(secrets.randbelow(10**10))
        query = {"msg_signature": sha1_signature(target.token, timestamp, nonce, encrypted),
                 "timestamp": timestamp, "nonce": nonce}
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><AgentID><![CDATA[{AGENT_ID}]]>"
                f"</AgentID><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
        return query, body

    def _deliver(self, event: tuple[str, int, bytes]) -> Delivery | None:
        sp_no, change_event, message = event
        target = self.callback
        if target is None:
            return None
        if self.hold_callbacks:
            with self.lock:
                self.held.append(event)
            return None
        if self.faults.drop_callbacks:
            delivery = Delivery(sp_no, change_event, None, 0, dropped=True)
        else:
            delivery = self._post_with_retries(sp_no, change_event, message, target)
            for _ in range(self.faults.duplicate_callbacks):
                self._post_with_retries(sp_no, change_event, message, target)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def _post_with_retries(self, sp_no: str, change_event: int, message: bytes,
                           target: CallbackTarget) -> Delivery:
        query, body = self.sealed_callback(message, target)
        status, attempts = None, 0
        while attempts <= self.callback_retries and status != 200:
            attempts += 1
            try:
                answer = requests.post(target.url, params=query, data=body, timeout=(3.05, 5.0),
                                       headers={"Content-Type": "text/xml; charset=utf-8"})
                status = answer.status_code
            except requests.RequestException:
                status = None
        return Delivery(sp_no, change_event, status, attempts)

    def control_callback(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        try:
            target = CallbackTarget(str(body["url"]), str(body["token"]), str(body["encoding_aes_key"]))
            seal(target.encoding_aes_key, b"", self.corp_id)  # refuses a key that is not 43 base64 characters
        except (KeyError, ValueError):
            return json_response({"error": "url, token and a 43-character encoding_aes_key are required"}, 400)
        if body.get("verify", True):
            problem = self._verify_url(target)
            if problem:
                return json_response({"error": problem}, 400)
        self.callback = target
        return json_response({"url": target.url, "corp_id": self.corp_id})

    def control_release(self, request: Request) -> Response:
        """Deliver the held callbacks, in the order they happened or (``{"order": "reverse"}``) the other way:
        late and out-of-order delivery, which real tenants see."""
        body = request.get_json(silent=True) or {}
        with self.lock:
            held, self.held, self.hold_callbacks = self.held, [], bool(body.get("hold", False))
        if body.get("order") == "reverse":
            held.reverse()
        deliveries = [self._deliver(event) for event in held]
        return json_response({"released": len(held),
                              "delivered": [d.status if d else None for d in deliveries]})

    def _verify_url(self, target: CallbackTarget) -> str | None:
        """WeCom's URL check: a sealed random number the URL must answer in plain."""
        plain = str(secrets.randbelow(10**19))
        echostr = seal(target.encoding_aes_key, plain.encode(), self.corp_id)
        query, _body = self.sealed_callback(b"", target)
        query["msg_signature"] = sha1_signature(target.token, query["timestamp"], query["nonce"], echostr)
        try:
            answer = requests.get(target.url, params={**query, "echostr": echostr}, timeout=(3.05, 5.0))
        except requests.RequestException:
            return "the callback URL could not be reached"
        if answer.status_code != 200 or answer.text.strip() != plain:
            return "the callback URL did not answer the URL check with the echostr's plaintext"
        return None


def cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")
