//go:build !unix

package upload

import (
	"errors"
	"os"
)

// tryLock cannot lock here: spooled uploads are then never taken for
// abandoned, and a crash leaves its upload in the temporary folder.
func tryLock(*os.File) (bool, error) { return false, errors.ErrUnsupported }
