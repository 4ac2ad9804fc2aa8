package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"keydesk/db/dbtest"
)

// shipped pins the SQL of every migration that has left this repository:
// a shipped migration is never edited, a change is a new entry. Add the
// hash of a new entry here when it ships.
var shipped = map[Backend][]string{
	SQLite: {
		"e75d2e0405f72605a79b1e3c271d2951f0ae86006f1d2c765ece118572b5c7b9",
		"b20ede91a0bc30b56baeab55a0082b5f4adb22fc0b982c4ba33e5e3e47a36394",
		"e6c1001aaa8ac8fe1a3efb9550ebf884e1824777778ec3cb15329c16db4e5d72",
		"fd0d316f66731a075fd354d6c7064d5d02cb91051e1cf6400785e9022cb2baf2",
		"ac1c8b8e77e80c1fa2371e0f483ec850e483e9a922bc80fb493ca2d37644c9b9",
		"c536077ec373a6354a61033fb72551264f3052a250f8dbdb160d1c4a438c1f0d",
		"c58f35ef6f96474d438247136a77542169ddc16868ec136e6b4b400d7f5073e4",
		"836e91e566897821518fb3792c9f2fa786a46472954d95ffcd187b4c38b7a27d",
		"6c580d142d8cb01079d31d2341567cf3975310cbd2c638b1a636b135392670a7",
		"0d6dff0b8478dd6bd45624467a56971e1be809f6604806d197cf8a6a6de1b369",
		"e215bfb1a7f2d834256c3ab1015864ec880d4cc4d647063e5b1101b809a2fa3e",
		"c79ecf820a1c6252b2d9423c5ec720320c7732acf0631daf47e358663e12ffcc",
		"9e1de3a854a3b1803d13ea62e2016d3170802521184dcdbb923f16a2f9cfb24f",
		"ba62d91849c34dc068cdf90eb3e68ea4ef2f820a74952fa473719be7508d5233",
		"116b359215c02df87be93353d9225519ca3e5b7e9503a6c70c001a8742d82a3f",
		"91665fc09770ad75b5877e5ded3441e51431aa4084b7e47974958469e2613364",
	},
	Postgres: {
		"825055d96042c55556efd412e38eb33fad868faf9a9e5f9e14f808683aee93c0",
		"2bddf0efa58b9ee6e014651fb3386315c2d8e31f34289711f80dc212b794f466",
		"5ff104df0005c516f56a7e414ab0321b26cd0eeb4dd3a9a0bc8680ccc353730a",
		"e517938dca8384e5b99767c5e233b9739cf4efdf703635c1f10ec799069b55bb",
		"8e4db74f52fb46fc7089f063774abeb36cdc9d78b7168289542f354c393208aa",
		"11a619f8ddd60c19edf097e26bb94190ddbdce57d88ee66683d9e8dbc896fb9e",
		"ae9635e596f33fbd676e83b899491f6f563fc25885884c346f84cd5b72f5cd80",
		"2fa3f910ca55bb75aa9da259c5237e69784185bf582ebc95cf1e1a4b27bc5611",
		"f1c0d0dabab4bf056715972e983c7ab1f799600047f61cbdf3afd52433a21147",
		"2bf0e4954faaaeb02a2699feb666849a07405470e791b61aec7617417c55b910",
		"f05a98fc020dcc98226d3878550e935ade4ca432f1a63b5800b41ff55949af4b",
		"4b5da92f65f140640bb575c5cfc95d0ee385e910468518a5042aad9d81d1cc24",
		"8f379ab50b8ee752cced9ea405b85241d4adeff5362a7e25265dc74167961235",
		"a637698f6ca763b4f87a2b77ad5ec902b6e261fcf9a5fe4a95b427913175527f",
		"f522e549cca385acb056b14ee866ae8a42f2834b568fef0acb2f266e2557eda8",
		"91665fc09770ad75b5877e5ded3441e51431aa4084b7e47974958469e2613364",
	},
}

func TestShippedMigrationsAreNeverEdited(t *testing.T) {
	lists := map[Backend][]Migration{SQLite: sqliteMigrations, Postgres: postgresMigrations}
	for backend, hashes := range shipped {
		list := lists[backend]
		if len(list) < len(hashes) {
			t.Fatalf("%s: %d migrations, but %d have shipped: never remove one", backend, len(list), len(hashes))
		}
		for i, want := range hashes {
			sum := sha256.Sum256([]byte(list[i].SQL))
			if got := hex.EncodeToString(sum[:]); got != want {
				t.Errorf("%s migration %d (%s) was edited after it shipped: append a new migration instead", backend, list[i].ID, list[i].Description)
			}
		}
	}
}

func TestMigrationListsShareNumbering(t *testing.T) {
	if len(sqliteMigrations) != len(postgresMigrations) {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL ones: entry N of each must be the same change", len(sqliteMigrations), len(postgresMigrations))
	}
	for i, s := range sqliteMigrations {
		p := postgresMigrations[i]
		if s.ID != i+1 || p.ID != i+1 {
			t.Errorf("entry %d has ids %d (SQLite) and %d (PostgreSQL), want %d", i, s.ID, p.ID, i+1)
		}
		if s.Description == "" || s.Description != p.Description {
			t.Errorf("migration %d: descriptions %q and %q, want the same, not empty", i+1, s.Description, p.Description)
		}
	}
}

// schema is what both databases must agree on: per table, its columns with
// nullability, and its unique indexes (columns, lower(x) for a
// case-insensitive one, and whether it is partial).
type schema map[string]tableShape

type tableShape struct {
	Columns []string // "name NOT NULL" or "name NULL", in order
	Unique  []string // sorted
}

func TestSchemasMatch(t *testing.T) {
	ctx := context.Background()
	pg := fixtureOpen(t, dbtest.URL(t))
	lite := fixtureOpen(t, filepath.Join(t.TempDir(), "keydesk.db"))
	want, err := sqliteSchema(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	got, err := postgresSchema(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 9 {
		t.Fatalf("SQLite schema has only %d tables: %v", len(want), want)
	}
	for table, w := range want {
		g, ok := got[table]
		if !ok {
			t.Errorf("table %s is missing on PostgreSQL", table)
			continue
		}
		if !reflect.DeepEqual(g.Columns, w.Columns) {
			t.Errorf("%s columns differ:\nSQLite     %v\nPostgreSQL %v", table, w.Columns, g.Columns)
		}
		if !reflect.DeepEqual(g.Unique, w.Unique) {
			t.Errorf("%s unique indexes differ:\nSQLite     %v\nPostgreSQL %v", table, w.Unique, g.Unique)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok {
			t.Errorf("table %s exists only on PostgreSQL", table)
		}
	}
}

func sqliteSchema(ctx context.Context, d *DB) (schema, error) {
	tables, err := queryAll(ctx, d.read, "tables", scanString,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	out := schema{}
	for _, table := range tables {
		var shape tableShape
		rows, err := d.read.QueryContext(ctx, `SELECT name, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var name string
			var notNull, pk int
			if err := rows.Scan(&name, &notNull, &pk); err != nil {
				rows.Close()
				return nil, err
			}
			// A primary key column is never NULL on PostgreSQL, nor in keydesk's SQLite use.
			shape.Columns = append(shape.Columns, column(name, notNull == 1 || pk > 0))
		}
		rows.Close()
		rows, err = d.read.QueryContext(ctx, `SELECT name, partial FROM pragma_index_list(?) WHERE "unique" = 1 AND origin != 'pk'`, table)
		if err != nil {
			return nil, err
		}
		type index struct {
			name    string
			partial bool
		}
		var indexes []index
		for rows.Next() {
			var ix index
			if err := rows.Scan(&ix.name, &ix.partial); err != nil {
				rows.Close()
				return nil, err
			}
			indexes = append(indexes, ix)
		}
		rows.Close()
		for _, ix := range indexes {
			rows, err := d.read.QueryContext(ctx, `SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`, ix.name)
			if err != nil {
				return nil, err
			}
			var cols []string
			for rows.Next() {
				var name, coll string
				if err := rows.Scan(&name, &coll); err != nil {
					rows.Close()
					return nil, err
				}
				if strings.EqualFold(coll, "NOCASE") {
					name = "lower(" + name + ")"
				}
				cols = append(cols, name)
			}
			rows.Close()
			shape.Unique = append(shape.Unique, uniqueIndex(cols, ix.partial))
		}
		slices.Sort(shape.Unique)
		out[table] = shape
	}
	return out, nil
}

func postgresSchema(ctx context.Context, d *DB) (schema, error) {
	tables, err := queryAll(ctx, d.read, "tables", scanString, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations'`)
	if err != nil {
		return nil, err
	}
	out := schema{}
	for _, table := range tables {
		var shape tableShape
		shape.Columns, err = queryAll(ctx, d.read, "columns", func(s scanner) (string, error) {
			var name, nullable string
			err := s.Scan(&name, &nullable)
			return column(name, nullable == "NO"), err
		}, `SELECT column_name, is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
		if err != nil {
			return nil, err
		}
		shape.Unique, err = queryAll(ctx, d.read, "indexes", func(s scanner) (string, error) {
			var def string
			var partial bool
			if err := s.Scan(&def, &partial); err != nil {
				return "", err
			}
			// CREATE UNIQUE INDEX x ON s.t USING btree (account_id, lower(name)) WHERE …
			_, cols, _ := strings.Cut(def, " USING btree (")
			depth, end := 1, 0
			for end = 0; end < len(cols) && depth > 0; end++ {
				switch cols[end] {
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			return uniqueIndex(strings.Split(strings.ReplaceAll(cols[:end-1], " ", ""), ","), partial), nil
		}, `SELECT pg_get_indexdef(ix.indexrelid), ix.indpred IS NOT NULL
			FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = current_schema() AND t.relname = ? AND ix.indisunique AND NOT ix.indisprimary`, table)
		if err != nil {
			return nil, err
		}
		slices.Sort(shape.Unique)
		out[table] = shape
	}
	return out, nil
}

func column(name string, notNull bool) string {
	if notNull {
		return name + " NOT NULL"
	}
	return name + " NULL"
}

func uniqueIndex(cols []string, partial bool) string {
	s := "(" + strings.Join(cols, ", ") + ")"
	if partial {
		s += " partial"
	}
	return s
}

func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}

func TestNumberPlaceholders(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`SELECT '?' || ? FROM "odd?name" WHERE x = ?`, `SELECT '?' || $1 FROM "odd?name" WHERE x = $2`},
		{`INSERT INTO t VALUES (?, ?), (?, ?)`, `INSERT INTO t VALUES ($1, $2), ($3, $4)`},
	}
	for _, tt := range tests {
		if got := numberPlaceholders(tt.in); got != tt.want {
			t.Errorf("numberPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	b := &binder{numbered: true}
	first := b.bind(tests[1].in)
	if again := b.bind(tests[1].in); again != first || again != tests[1].want {
		t.Errorf("bind twice = %q, %q", first, again)
	}
	if got := (&binder{}).bind(tests[1].in); got != tests[1].in {
		t.Errorf("SQLite binder changed %q to %q", tests[1].in, got)
	}
}
