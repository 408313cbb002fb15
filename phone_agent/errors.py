"""The errors phone-agent raises, and what each one means to a user.

Lower-level errors (``adbutils.AdbError``, ``httpx.HTTPError``) are translated once, at the
boundary where they happen, with ``raise Mapped(...) from exc``. Only ``cli.py`` turns these into
messages and exit codes.

    PhoneAgentError
    ├── ConfigError                 bad flags, settings or files (exit 2)
    ├── DeviceError                 anything between us and the phone
    │   ├── NoDeviceError           no device attached / several without --device / not found
    │   ├── DeviceStateError        the device is unauthorized or offline
    │   ├── TextInputError          text cannot be typed with what the phone has
    │   └── ChannelError            the scrcpy channel cannot start (no genuine server, old Android, ...)
    ├── ModelError                  anything between us and the model endpoint
    │   ├── ModelUnreachableError   connection refused, DNS, timeouts after retries
    │   ├── AuthenticationError     HTTP 401/403, z.ai 1000-1004
    │   ├── ArrearsError            z.ai 1113: the account has no balance
    │   ├── UnknownModelError       HTTP 404 / z.ai 1211: the model name is not served
    │   ├── ContentRefusedError     z.ai 1301: the provider refused the content
    │   ├── RateLimitError          HTTP 429 / z.ai 1302, 1303, 1305 after every retry
    │   └── ModelResponseError      5xx after retries, a broken stream or an unusable body
    └── RunAborted                  the run cannot continue (e.g. the model keeps answering garbage)

``actions.ActionParseError`` and ``apps_registry.UnknownAppError`` live next to the code that raises
them (those packages import nothing from here); they are messages *for the model* and are fed back
to it rather than shown to the user as failures.
"""

from __future__ import annotations


class PhoneAgentError(Exception):
    """Base class: its message is written for the person running phone-agent."""


class ConfigError(PhoneAgentError):
    """A flag, setting, environment variable or file is wrong or missing."""


class DeviceError(PhoneAgentError):
    """Something went wrong talking to the phone."""


class NoDeviceError(DeviceError):
    """No usable device: none attached, the named one is absent, or several and none chosen."""


class DeviceStateError(DeviceError):
    """The device is attached but unauthorized or offline."""


class TextInputError(DeviceError):
    """The text cannot be typed with the input methods this phone has."""


class ChannelError(DeviceError):
    """The scrcpy channel cannot start: no genuine server file, an old Android, no PyAV, or the server failed."""


class ModelError(PhoneAgentError):
    """Something went wrong talking to the model endpoint."""


class ModelUnreachableError(ModelError):
    """The endpoint could not be reached (connection refused, DNS, timeout)."""


class AuthenticationError(ModelError):
    """The API key is missing, invalid or expired."""


class ArrearsError(ModelError):
    """The provider account has no balance left."""


class UnknownModelError(ModelError):
    """The endpoint does not serve the requested model name."""


class ContentRefusedError(ModelError):
    """The provider refused to process the content."""


class RateLimitError(ModelError):
    """The provider kept rate-limiting us after every retry."""


class ModelResponseError(ModelError):
    """The endpoint failed (5xx), dropped the stream or sent a body we cannot use."""


class RunAborted(PhoneAgentError):
    """The run cannot continue, for a reason given in the message."""
