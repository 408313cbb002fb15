"""What Android's system server writes to logcat at boot and when an app starts or is force-stopped."""

from __future__ import annotations

from phone_agent.sim.adb.common import app_pid, short_component
from phone_agent.sim.logs import LogBuffer


def log_boot(logs: LogBuffer) -> None:
    """The lines of a finished boot, the home screen shown."""
    logs.write("I", "SystemServer", "Entered the Android system server!")
    logs.write("I", "ActivityManager", "System now ready")
    logs.write("I", "ActivityTaskManager", "Displayed com.android.launcher3/.Launcher for user 0: +412ms")


def log_app_event(logs: LogBuffer, kind: str, package: str, activity: str, cold: bool) -> None:
    """The activity manager's lines for an app start (`cold`: its process starts too) or a force-stop."""
    component = short_component(package, activity)
    if kind == "force_stop":
        logs.write("I", "ActivityManager", f"Force stopping {package} appid=10123 user=0: from pid 4242")
        return
    logs.write("I", "ActivityTaskManager", f"START u0 {{flg=0x10000000 cmp={component}}} result code=0")
    if cold:
        logs.write("I", "ActivityManager", f"Start proc {app_pid(package)}:{package}/u0a123 for "
                                           f"next-top-activity {{{component}}}")
    logs.write("I", "ActivityTaskManager", f"Displayed {component} for user 0: +{180 if cold else 60}ms")
