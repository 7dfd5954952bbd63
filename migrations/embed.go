// Package migrations embeds the SQL schema migrations, one directory per
// database dialect, numbered and applied in order by goose.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
