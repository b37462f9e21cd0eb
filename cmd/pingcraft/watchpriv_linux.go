package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// relinquish gives up what watch no longer needs once its capture is open,
// as tcpdump does: as root, with -Z USER, the user's ids and groups; in
// every case every capability, and exec can never give them back
// (no_new_privs). libcap's psx reaches every thread, cgo's included.
func relinquish(name, username string) error {
	if username != "" && os.Geteuid() == 0 {
		u, err := user.Lookup(username)
		if err != nil {
			return worded{fmt.Sprintf("%s: Couldn't find user '%.32s'", name, username), exitTcpdumpError}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		var groups []int
		if ids, err := u.GroupIds(); err == nil {
			for _, g := range ids {
				if n, err := strconv.Atoi(g); err == nil && n != gid {
					groups = append(groups, n)
				}
			}
		}
		if err := cap.SetGroups(gid, groups...); err != nil {
			return fmt.Errorf("Couldn't change to '%.32s' uid=%d gid=%d: %w", username, uid, gid, err)
		}
		if err := cap.SetUID(uid); err != nil {
			return fmt.Errorf("Couldn't change to '%.32s' uid=%d gid=%d: %w", username, uid, gid, err)
		}
	}
	if err := cap.NewSet().SetProc(); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	return noNewPrivs()
}
