package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/csdi-hk/csdi/importers/upload"
)

func tokenCmd(ctx context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	department := fs.String("department", "", "the department the token uploads for (create)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	const usage = "token: usage: csdi token create --department NAME | csdi token revoke TOKEN"
	switch {
	case len(pos) == 1 && pos[0] == "create":
		if strings.TrimSpace(*department) == "" {
			return errors.New("token create: --department NAME is required")
		}
	case len(pos) == 2 && pos[0] == "revoke":
	default:
		return errors.New(usage)
	}
	store, _, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if pos[0] == "revoke" {
		if err := store.RevokeToken(ctx, upload.HashToken(pos[1])); err != nil {
			return fmt.Errorf("token revoke: %w", err)
		}
		fmt.Fprintln(stdout, "revoked")
		return nil
	}
	token, err := upload.NewToken()
	if err != nil {
		return err
	}
	if err := store.CreateToken(ctx, strings.TrimSpace(*department), upload.HashToken(token)); err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(os.Stderr, "a token for %s: keep it now, it is not stored and cannot be shown again; send it as \"Authorization: Bearer TOKEN\"\n", *department)
	return nil
}
