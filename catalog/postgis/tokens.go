package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/catalog"
)

// CreateToken records the hash of a department's token in csdi.tokens.
func (s *Store) CreateToken(ctx context.Context, department string, hash []byte) error {
	if err := catalog.CheckToken(department, hash); err != nil {
		return fmt.Errorf("postgis: create token: %w", err)
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO csdi.tokens (hash, department) VALUES ($1, $2)", hash, department)
	if isCode(err, "23505") { // unique_violation
		return fmt.Errorf("postgis: create token for %q: the token is already recorded", department)
	}
	if err != nil {
		return fmt.Errorf("postgis: create token for %q: %w", department, err)
	}
	return nil
}

// TokenDepartment returns the department whose token has this hash.
func (s *Store) TokenDepartment(ctx context.Context, hash []byte) (string, error) {
	var dept string
	err := s.pool.QueryRow(ctx, "SELECT department FROM csdi.tokens WHERE hash = $1", hash).Scan(&dept)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgis: token: %w", catalog.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("postgis: look up token: %w", err)
	}
	return dept, nil
}

// RevokeToken forgets a token's hash.
func (s *Store) RevokeToken(ctx context.Context, hash []byte) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM csdi.tokens WHERE hash = $1", hash)
	if err != nil {
		return fmt.Errorf("postgis: revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgis: revoke token: %w", catalog.ErrNotFound)
	}
	return nil
}
