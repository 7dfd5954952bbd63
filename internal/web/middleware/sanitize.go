package middleware

import (
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// Sanitizer is the one policy every surface puts a job's description
// through before showing it: bluemonday's user-generated-content policy
// (formatting, lists, tables, links; no scripts, styles, event handlers
// or javascript: URLs). One policy means the reviewer sees what the public
// site will show. A policy is safe for concurrent use once built, so it is
// built once.
var Sanitizer = sync.OnceValue(bluemonday.UGCPolicy)
