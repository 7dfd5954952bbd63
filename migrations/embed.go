// Package migrations embeds the SQL schema migrations, one directory per
// database dialect, numbered, and applies them in order (Up, through
// goose). The two trees describe one schema and are kept in step by hand;
// a test checks they define the same tables and columns.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
