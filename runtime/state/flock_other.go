//go:build !unix

package state

import (
	"errors"
	"os"
)

var errNoFlock = errors.New("the file state backend needs flock(2), which this system lacks; use an etcd state URL")

func tryFlock(f *os.File) (bool, error) { return false, errNoFlock }

func fileKey(f *os.File) (fileID, error) { return fileID{}, errNoFlock }
