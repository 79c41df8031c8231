"""How Studyhall's browser tests and scripts start Debian's Chromium (never a downloaded one)."""

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's services, which a
# closed test network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# For the classroom: fake camera and microphone, no permission prompt, and WebRTC allowed to
# connect over loopback.
WEBRTC_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
