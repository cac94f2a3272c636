// Package service provides the `service` kind, which stops, starts,
// restarts or queries a system service through systemctl or service(8) and
// reports whether it is active afterwards.
//
// The commands it runs, so transports and the simulator can serve them:
//   - auto-detection: `test -d /run/systemd/system` (how sd_booted decides);
//   - systemd: `systemctl ACTION NAME`, then `systemctl is-active NAME`;
//   - SysV/upstart: `service NAME ACTION`, then `service NAME status`
//     (exit status 0 means running).
//
// The package does not own how commands reach a host (the transports).
package service
