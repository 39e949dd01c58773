package postgis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/csdi-hk/csdi/catalog"
)

// How Listen keeps its connection: a check when the channel has been quiet
// this long (a connection dropped without a reset is otherwise noticed only
// by TCP keepalive, minutes later), and the delays between attempts to
// reconnect.
const (
	listenPing       = 30 * time.Second
	listenRetryFirst = 100 * time.Millisecond
	listenRetryMax   = 10 * time.Second
)

// ListenApplicationName is the application_name of the connection Listen
// holds, as pg_stat_activity shows it.
const ListenApplicationName = "csdi listen"

// Listen calls fn with the id of each layer that changes in the database,
// by this process or another, until ctx ends; it then returns ctx's error.
// Calls come one at a time, from Listen's goroutine, in commit order.
//
// It holds a connection of its own, outside the pool, and LISTENs on
// Channel. When the connection is lost it reconnects, waiting longer after
// each failure, and, since notifications sent meanwhile are lost, compares
// every layer's version with what it saw before and calls fn for each that
// changed, appeared or went away. On the first connection it calls fn for
// every layer: changes may have been committed between the caller's load
// and the LISTEN. fn is thus called more often than strictly needed (also
// for the caller's own changes); a caller that compares versions
// (LayerVersion) makes the extra calls cheap.
func (s *Store) Listen(ctx context.Context, fn func(id string)) error {
	log := slog.Default().With("channel", Channel)
	var seen map[string]int64 // versions when last connected; nil before the first time
	delay := listenRetryFirst
	for {
		conn, versions, err := s.listen(ctx)
		if err == nil {
			delay = listenRetryFirst
			for id, v := range versions {
				if old, ok := seen[id]; seen == nil || !ok || old != v {
					fn(id)
				}
			}
			for id := range seen {
				if _, ok := versions[id]; !ok {
					fn(id)
				}
			}
			seen = versions
			err = s.wait(ctx, conn, seen, fn)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			conn.Close(closeCtx)
			cancel()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.WarnContext(ctx, "listening for layer changes: will reconnect", "in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(2*delay, listenRetryMax)
	}
}

// listen opens the connection, LISTENs, and then reads every layer's
// version: in that order, so that a change committed after the read is
// sure to be notified.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, map[string]int64, error) {
	cfg := s.pool.Config().ConnConfig
	cfg.RuntimeParams["application_name"] = ListenApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	versions, err := func() (map[string]int64, error) {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", Channel, err)
		}
		rows, err := conn.Query(ctx, "SELECT id, version FROM csdi.layers")
		if err != nil {
			return nil, fmt.Errorf("read layer versions: %w", err)
		}
		versions := map[string]int64{}
		var id string
		var v int64
		_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
			versions[id] = v
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read layer versions: %w", err)
		}
		return versions, nil
	}()
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return conn, versions, nil
}

// wait passes notifications to fn until the connection fails or ctx ends.
// It keeps seen up to date, so that a reconnection reports only what
// changed while it was away.
func (s *Store) wait(ctx context.Context, conn *pgx.Conn, seen map[string]int64, fn func(string)) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			// The version read may be newer than the one notified; the
			// newer one's notification follows and finds nothing new.
			var v int64
			switch err := conn.QueryRow(ctx, "SELECT version FROM csdi.layers WHERE id = $1", n.Payload).Scan(&v); {
			case err == nil:
				seen[n.Payload] = v
			case errors.Is(err, pgx.ErrNoRows):
				delete(seen, n.Payload)
			default:
				// Called below: a lost connection must not lose the call.
				fn(n.Payload)
				return fmt.Errorf("read the version of layer %q: %w", n.Payload, err)
			}
			fn(n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("wait for notifications: %w", err)
		}
		// Quiet for a while: check that the server is still there. pgx
		// keeps the connection usable after a wait that timed out.
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = conn.Ping(pingCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("check the listening connection: %w", err)
		}
	}
}

// LayerVersion returns the version of a layer as committed, or an error
// wrapping catalog.ErrNotFound if there is no such layer: a cheap check
// before reloading a layer that a notification names.
func (s *Store) LayerVersion(ctx context.Context, id string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, "SELECT version FROM csdi.layers WHERE id = $1", id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgis: version of layer %q: %w", id, catalog.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgis: version of layer %q: %w", id, err)
	}
	return v, nil
}
