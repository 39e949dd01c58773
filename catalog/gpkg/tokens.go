package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/csdi-hk/csdi/catalog"
)

// CreateToken records the hash of a department's token in csdi_tokens.
func (s *Store) CreateToken(ctx context.Context, department string, hash []byte) error {
	if err := catalog.CheckToken(department, hash); err != nil {
		return fmt.Errorf("create token in %q: %w", s.path, err)
	}
	var n int
	err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM csdi_tokens WHERE hash = ?", hash).Scan(&n)
	if err == nil && n > 0 {
		return fmt.Errorf("create token for %q in %q: the token is already recorded", department, s.path)
	}
	if err == nil {
		_, err = s.w.ExecContext(ctx, "INSERT INTO csdi_tokens (hash, department, created_at) VALUES (?, ?, ?)",
			hash, department, time.Now().UTC().Format(dateTimeFormat))
	}
	if err != nil {
		return fmt.Errorf("create token for %q in %q: %w", department, s.path, err)
	}
	return nil
}

// TokenDepartment returns the department whose token has this hash.
func (s *Store) TokenDepartment(ctx context.Context, hash []byte) (string, error) {
	var dept string
	err := s.r.QueryRowContext(ctx, "SELECT department FROM csdi_tokens WHERE hash = ?", hash).Scan(&dept)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("token in %q: %w", s.path, catalog.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("look up token in %q: %w", s.path, err)
	}
	return dept, nil
}

// RevokeToken forgets a token's hash.
func (s *Store) RevokeToken(ctx context.Context, hash []byte) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM csdi_tokens WHERE hash = ?", hash)
	if err != nil {
		return fmt.Errorf("revoke token in %q: %w", s.path, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke token in %q: %w", s.path, catalog.ErrNotFound)
	}
	return nil
}
