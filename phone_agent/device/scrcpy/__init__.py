"""The scrcpy channel: the genuine scrcpy server on the phone, its video stream and its control socket."""
