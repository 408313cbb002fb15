"""The screens, widgets and apps of the virtual phone."""

from phone_agent.sim.ui.phone_ui import PhoneUI

__all__ = ["PhoneUI"]
