package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"

	"github.com/csdi-hk/csdi/catalog"
)

func layersCmd(ctx context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := flag.NewFlagSet("layers", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	sub := pos[0]
	switch {
	case sub == "list" && len(pos) == 1:
	case (sub == "show" || sub == "delete" || sub == "history") && len(pos) == 2:
	case sub == "rollback" && len(pos) == 3:
	default:
		return fmt.Errorf("layers: usage: csdi layers [list | show ID | history ID | rollback ID VERSION | delete ID]")
	}
	store, _, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "history":
		return layerHistory(ctx, store, pos[1], stdout)
	case "rollback":
		v, err := strconv.ParseInt(pos[2], 10, 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("layers rollback: version %q is not a positive number", pos[2])
		}
		info, err := store.Rollback(ctx, pos[1], v)
		if err != nil {
			return fmt.Errorf("layers rollback %s %d: %w", pos[1], v, err)
		}
		fmt.Fprintf(stdout, "rolled %s back to the data and metadata of version %d: now version %d, %d features\n", info.ID, v, info.Version, info.FeatureCount)
		return nil
	}
	layers, err := store.Layers(ctx)
	if err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	switch sub {
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVERSION\tFEATURES\tTYPE\tTITLE\tTITLE (ZH)\tUPDATED")
		for _, l := range layers {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", l.ID, l.Version, l.FeatureCount, l.GeometryType,
				l.Title, l.TitleZH, l.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
		return tw.Flush()
	case "show":
		for _, l := range layers {
			if l.ID == pos[1] {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(l)
			}
		}
		return fmt.Errorf("layers show: no layer %q", pos[1])
	default:
		if err := store.DeleteLayer(ctx, pos[1]); err != nil {
			return fmt.Errorf("layers delete %q: %w", pos[1], err)
		}
		fmt.Fprintf(stdout, "deleted %s\n", pos[1])
		return nil
	}
}

// layerHistory lists the kept versions of a layer, newest first.
func layerHistory(ctx context.Context, store catalog.Store, id string, stdout io.Writer) error {
	versions, err := store.History(ctx, id)
	if err != nil {
		return fmt.Errorf("layers history %s: %w", id, err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tSOURCE FILE\tFEATURES\tDATA OF")
	for _, v := range versions {
		cur := ""
		if v.Current {
			cur = " (current)"
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\t%d\tversion %d\n", v.Version, cur, v.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
			orDash(v.CreatedBy), orDash(v.SourceFile), v.FeatureCount, v.DataVersion)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
