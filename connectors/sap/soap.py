"""SAP's journal-entry SOAP service through zeep, with our timeouts and our failure classification.

zeep builds the envelope from the bundled WSDL and reads the confirmation back; its HTTP goes through
``SapTransport``, which sends with ``erp_http.send`` (timeouts; refused connections are safe to repeat, read
timeouts and dropped connections are ambiguous; 5xx is retryable) and classifies SAP's HTTP answers:

- 200: the confirmation (success or SAP's refusal log; ``connectors/sap/confirmation.py`` reads it);
- 401 / 403: the communication user's credentials or its communication arrangement: POST_FAILED; except that
  a 401 to a call that carried SAP's session cookie is retried once without cookies, logging on again from
  the Basic credentials (a stale session: nothing was processed before the logon check);
- 429: throttled, retryable;
- 500 with a SOAP Fault whose faultcode is ``Client`` (SOAP 1.1: do not resend the same message unchanged),
  e.g. SAP's "deserialization failed" on a malformed message: handed to zeep, which raises ``Fault``,
  a POST_FAILED; any other 5xx (a Server fault, a gateway page) is retryable and not ambiguous, since SAP
  answered and posting is one transaction. Unverified: that SAP's runtime uses faultcode Client for
  malformed messages, as the SOAP 1.1 specification says it should.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, ValidationError
from zeep.helpers import serialize_object

from connectors.base import ConnectorError
from connectors.erp import POST_FAILED
from connectors.erp_http import TIMEOUT, new_session, send, unavailable
from connectors.sap.settings import SapSettings

VENDOR = "SAP"
WSDL = Path(__file__).parent / "wsdl" / "journalentrycreaterequestconfi.wsdl"
BINDING = "{http://sap.com/xi/SAPSCORE/SFIN}binding_SOAP11"
OPERATION = "JournalEntryCreateRequestConfirmation_In"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONNECT_TIMEOUT = TIMEOUT[0]


def bad_credentials(status: int) -> ConnectorError:
    """401/403: never repeats by itself; the message names the settings, never their values."""
    return ConnectorError(POST_FAILED, f"{VENDOR}: answered HTTP {status}: check the user and password settings "
                          "(the communication user of the SAP_COM_0002 arrangement)", retryable=False,
                          errors=[], vendor=VENDOR, http_status=status)


def logon_again_once(session: requests.Session, call: Callable[[], requests.Response]) -> requests.Response:
    """``call``, and once more without SAP's session cookies if SAP refused the session (401)."""
    response = call()
    if response.status_code == 401 and session.cookies:
        session.cookies.clear()
        response = call()
    return response


class SapTransport(zeep.Transport):
    """zeep's transport, sending through ``erp_http.send`` on our session (Basic auth, timeouts)."""

    def __init__(self, session: requests.Session, timeout: tuple[float, float]) -> None:
        user_agent = session.headers.get("User-Agent")
        super().__init__(session=session)
        if user_agent:
            session.headers["User-Agent"] = user_agent  # zeep's constructor names itself instead
        self.timeouts = timeout

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        seen: list[requests.Response] = []

        def keep(response: requests.Response, **_: Any) -> None:
            seen.append(response)  # send raises on 5xx: a Client fault's body is still needed

        try:
            response = logon_again_once(self.session, lambda: send(
                self.session, "POST", address, vendor=VENDOR, timeout=self.timeouts, data=message, headers=headers,
                hooks={"response": keep}))
        except ConnectorError:
            if seen and is_client_fault(seen[-1]):
                return seen[-1]  # zeep raises it as Fault
            raise
        if response.status_code in (401, 403):
            raise bad_credentials(response.status_code)
        if response.status_code == 429:
            raise unavailable(VENDOR, "throttled the call (HTTP 429)", ambiguous=False)
        if response.status_code != 200:
            raise ConnectorError(POST_FAILED, f"{VENDOR}: answered HTTP {response.status_code} at {address}: check "
                                 "base_url and soap_path", retryable=False, errors=[], vendor=VENDOR)
        return response


def is_client_fault(response: requests.Response) -> bool:
    """A SOAP 1.1 Fault with faultcode ``<prefix>:Client``: the message itself is wrong."""
    if response.status_code != 500:
        return False
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        envelope = etree.fromstring(response.content, parser)
    except etree.XMLSyntaxError:
        return False
    code = envelope.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") or ""
    return code.rpartition(":")[2] == "Client"


class JournalEntryService:
    """``JournalEntryCreateRequestConfirmation_In`` at the tenant's address."""

    def __init__(self, settings: SapSettings, session: requests.Session | None = None) -> None:
        self.session = session or new_session()
        self.session.auth = (settings.user, settings.password)
        transport = SapTransport(self.session, (CONNECT_TIMEOUT, settings.timeout_seconds))
        client = zeep.Client(str(WSDL), transport=transport, settings=zeep.Settings(strict=True))
        self._service = client.create_service(BINDING, settings.soap_url)

    def post(self, request: dict[str, Any]) -> dict[str, Any]:
        """SAP's confirmation as plain dicts and lists; transport failures and Faults as ConnectorError."""
        try:
            answer = getattr(self._service, OPERATION)(**request)
        except ValidationError as exc:  # zeep refused to build the message: nothing was sent
            message = f"{VENDOR}: the journal entry does not fit SAP's message: {exc.message}"
            raise ConnectorError(POST_FAILED, message, retryable=False, errors=[], vendor=VENDOR) from None
        except Fault as fault:
            message = f"{VENDOR} refused the message (SOAP Fault {fault.code}): {str(fault.message)[:300]}"
            raise ConnectorError(POST_FAILED, message, retryable=False, errors=[], vendor=VENDOR) from None
        except ZeepError as exc:
            # SAP answered HTTP 200 with something zeep cannot read: the entry may have been posted.
            raise unavailable(VENDOR, f"answered something that is not its confirmation ({type(exc).__name__})",
                              ambiguous=True) from None
        return dict(serialize_object(answer, dict) or {})
