"""The scrcpy server's side on the virtual phone: `app_process` with a genuine jar, its sockets and messages."""
