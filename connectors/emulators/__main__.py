"""``python -m connectors.emulators VENDOR [--port N]``: run one vendor's emulator on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import importlib
import time

from connectors.emulators.base import Running

VENDORS = {"dingtalk": "connectors.emulators.dingtalk:DingTalkEmulator",
           "wecom": "connectors.emulators.wecom:WeComEmulator",
           "feishu": "connectors.emulators.feishu:FeishuEmulator",
           "kingdee": "connectors.emulators.kingdee:KingdeeEmulator",
           "yonyou": "connectors.emulators.yonyou:YonyouEmulator",
           "sap": "connectors.emulators.sap:SapEmulator"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.emulators", description=__doc__)
    parser.add_argument("vendor", choices=sorted(VENDORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    module, name = VENDORS[args.vendor].split(":")
    emulator = getattr(importlib.import_module(module), name)()
    running = Running(emulator, args.host, args.port)
    print(f"{args.vendor} emulator on {running.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
