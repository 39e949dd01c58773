package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
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
	case (sub == "show" || sub == "delete") && len(pos) == 2:
	default:
		return fmt.Errorf("layers: usage: csdi layers [list | show ID | delete ID]")
	}
	store, _, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
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
