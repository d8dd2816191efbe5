package reports

import "database/sql"

// Report statements name their parameters (@end, @scope, …; sql.Named): a
// statement that repeats a value or is assembled from parts would otherwise
// need its positional arguments lined up by hand, in an order that changes
// with every part. A name must be followed by a space, a comma, a closing
// parenthesis or a line break (how GORM finds where it ends).

// scopeIn is the scope's territory filter on column col, whose territories are
// the parameter @scope (scopeArgs); empty for an organisation-wide scope, which
// needs no filter.
func (s scope) scopeIn(col string) string {
	if s.All {
		return ""
	}
	return " AND " + col + " IN @scope"
}

// scopeArgs binds the @scope parameter of scopeIn: nothing for an
// organisation-wide scope, whose statements do not name it (a statement that
// names no parameter takes none).
func (s scope) scopeArgs() []any {
	if s.All {
		return nil
	}
	return []any{sql.Named("scope", s.Territories)}
}
