#!/usr/bin/env bash
# The Linux tier (guest/linux/t-linux.sh): boots the default Linux guest
# twice and checks what issue 6 asks for; slow on nested KVM (minutes).
. "$(dirname "${BASH_SOURCE[0]}")/../guest/linux/t-linux.sh"
