"""``YonyouEmulator``: the routes YonBIP and U8 OpenAPI serve, each to the mixin method that answers it."""

from __future__ import annotations

from werkzeug.routing import Rule

from connectors.emulators.yonyou.u8 import U8Api
from connectors.emulators.yonyou.yonbip import YonBipApi
from connectors.yonyou.wire import redact

redact("werkzeug")  # the served requests' log lines carry the token, and U8's token request the app secret


class YonyouEmulator(YonBipApi, U8Api):
    """One Yonyou tenant: YonBIP's gateway and U8's OpenAPI in front of one book."""

    rules = [
        Rule("/open-auth/dataCenter/getGatewayAddress", endpoint="yonbip_gateway", methods=["GET"]),
        Rule("/open-auth/selfAppAuth/base/v1/getAccessToken", endpoint="yonbip_token", methods=["GET"]),
        Rule("/yonbip/fi/ficloud/openapi/voucher/addVoucher", endpoint="yonbip_add_voucher", methods=["POST"]),
        Rule("/yonbip/EFI/openapi/voucher/queryVoucherById", endpoint="yonbip_by_id", methods=["POST"]),
        Rule("/yonbip/EFI/openapi/voucher/queryVouchers", endpoint="yonbip_query", methods=["POST"]),
        Rule("/system/token", endpoint="u8_token", methods=["GET"]),
        Rule("/api/voucher/add", endpoint="u8_voucher_add", methods=["POST"]),
        Rule("/api/voucherdetails/batch_get", endpoint="u8_batch_get", methods=["GET"]),
    ]
