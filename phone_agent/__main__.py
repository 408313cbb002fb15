"""``python -m phone_agent`` is the ``phone-agent`` command."""

from phone_agent.cli import main

main()
