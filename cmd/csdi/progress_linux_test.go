package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/csdi-hk/csdi/internal/testenv"
)

// openPTY opens a pseudo-terminal: the side a program writes to (a
// terminal, as far as it can tell) and the side the test reads from.
func openPTY(t *testing.T) (term, reader *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	var n uint32
	var unlock int32
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCGPTN, unsafe.Pointer(&n)}, {syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			ptmx.Close()
			t.Fatalf("ioctl %#x on /dev/ptmx: %v", c.req, errno)
		}
	}
	term, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close() })
	return term, ptmx
}

// TestImportProgress runs `csdi import` of a file big enough to take a
// few seconds with its standard error on a terminal, where it must draw a
// bar redrawn in place with bytes and features per second, and on a pipe,
// where it must write plain lines.
func TestImportProgress(t *testing.T) {
	big := squaresFile(t, 150_000)
	// The numbers of a progress report: share and bytes of the file, features and their rate.
	numbers := `\s*\d+% \d+\.\d MB of 32\.\d MB, \d+ features, \d+/s`
	tests := []struct {
		name     string
		terminal bool
		want     *regexp.Regexp
		not      string
	}{
		{"terminal", true, regexp.MustCompile(`\rlots \[#*\.*\] ` + numbers + "\033\\[K"), "import lots:"},
		{"pipe", false, regexp.MustCompile(`(?m)^import lots: ` + numbers + `\r?$`), "\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(csdiBin, "import", "--layer", "lots", "--data", t.TempDir(), big)
			cmd.Env = append(os.Environ(), "CSDI_DATABASE_URL=", "CSDI_KEEP_VERSIONS=")
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			var read *os.File
			if tt.terminal {
				term, r := openPTY(t)
				cmd.Stderr, read = term, r
				defer term.Close()
			} else {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr, read = w, r
				defer w.Close()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Only the child holds the writing side now, so reading ends
			// when it exits.
			cmd.Stderr.(*os.File).Close()
			var stderr bytes.Buffer
			done := make(chan error, 1)
			go func() {
				_, err := io.Copy(&stderr, read)
				if errors.Is(err, syscall.EIO) { // a terminal whose last writer closed
					err = nil
				}
				done <- err
			}()
			if err := cmd.Wait(); err != nil {
				t.Fatalf("import: %v\n%s", err, stderr.String())
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			out := stderr.String()
			if !tt.want.MatchString(out) || strings.Contains(out, tt.not) {
				t.Errorf("progress on %s: want %q and no %q in:\n%q", tt.name, tt.want, tt.not, out)
			}
			if !strings.Contains(stdout.String(), "imported lots: 150000 features") {
				t.Errorf("report:\n%s", stdout.String())
			}
		})
	}
}
