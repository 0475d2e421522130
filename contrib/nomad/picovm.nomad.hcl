# A fleet of picovm VMs under Nomad: one VM per allocation, its config
# rendered from a template, stopped gracefully (SIGTERM -> picovm ctl stop).
# picovm brings no scheduler of its own; Nomad places the allocations.
#
#   nomad job run -var count=10 contrib/nomad/picovm.nomad.hcl
#
# Needs on every client: /usr/local/bin/picovm, this folder's
# picovm-task.sh as /usr/local/bin/picovm-task.sh, /dev/kvm, the guest
# files under /srv/picovm, and the raw_exec driver enabled (picovm drops
# its own privileges: see sandbox.user in picovm.conf(5)).
# Not run on picovm's build machines (no Nomad there); tests/t-control.sh
# runs the task script, and `picovm check` on the template and args below
# rendered with test values (README, "Running fleets").
variable "count" {
  type    = number
  default = 3
}

job "picovm" {
  type = "service"

  group "vm" {
    count = var.count

    task "picovm" {
      driver = "raw_exec"

      config {
        command = "/usr/local/bin/picovm-task.sh"
        args = [
          "${NOMAD_TASK_DIR}/vm.conf",
          "${NOMAD_TASK_DIR}/control.sock",
          "30s",
          "name=${NOMAD_JOB_NAME}-${NOMAD_ALLOC_INDEX}",
        ]
      }

      # One config per allocation; picovm.conf(5) has every key.
      template {
        destination = "local/vm.conf"
        data        = <<-EOT
          kernel = /srv/picovm/vmlinux
          disk.0.path = /srv/picovm/rootfs.ext4
          disk.0.ephemeral = on
          cmdline = "console=ttyS0 root=/dev/vda rw quiet"
          memory = 256M
          vcpus = 1
          serial = file:{{ env "NOMAD_ALLOC_DIR" }}/logs/console.log
        EOT
      }

      # SIGTERM: the task script asks the guest to stop, 30 s at most;
      # Nomad kills after kill_timeout.
      kill_signal  = "SIGTERM"
      kill_timeout = "45s"

      resources {
        cpu    = 500
        memory = 320 # MiB: guest RAM plus picovm's own ~2 MiB
      }
    }
  }
}
