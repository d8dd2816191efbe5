package domain

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text a database cannot store: Postgres text holds no NUL character and only
// valid UTF-8, where SQLite takes anything. Both databases must answer the same,
// so such strings are refused before they reach either, with the field named.
const (
	msgNUL       = "must not contain a NUL character"
	msgBadUTF8   = "must be valid UTF-8 text"
	msgBadKeyTxt = "has a key that is not valid text"
)

// ValidText reports why s cannot be stored as text, or "" when it can.
func ValidText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return msgNUL
	case !utf8.ValidString(s):
		return msgBadUTF8
	}
	return ""
}

// OwnTextChecker marks a type whose consumer checks the text of every value
// it holds on its own, item by item: TextErrors skips it. A push mutation is
// one (each mutation is rejected alone; one bad mutation never fails its
// batch).
type OwnTextChecker interface{ ChecksOwnText() }

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	ownCheckerType = reflect.TypeFor[OwnTextChecker]()
)

// TextErrors reports, by JSON path, every string of the JSON value
// raw that is not storable text: a NUL character (`\u0000`), invalid UTF-8, or an
// unpaired UTF-16 surrogate escape (which encoding/json would silently turn into
// U+FFFD). typ, when not nil, is the Go type raw decodes into: it names struct
// fields as clients spell them and skips json.RawMessage values and
// OwnTextChecker types, which their consumer checks on its own.
func TextErrors(raw []byte, typ reflect.Type) []FieldError {
	// Callers pass decoded or checked JSON; on anything else the scan still
	// ends, but its findings mean little.
	s := textScan{b: raw}
	s.value("", typ)
	return s.errs
}

type textScan struct {
	b    []byte
	i    int
	errs []FieldError
}

func (s *textScan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *textScan) add(path, msg string) {
	if path == "" {
		path = "(body)"
	}
	s.errs = append(s.errs, FieldError{Field: path, Message: msg})
}

// value scans one value at s.i. The input is known to be valid JSON (it was
// decoded or checked before), so the scanner only guards against running off
// the end.
func (s *textScan) value(path string, typ reflect.Type) {
	for typ != nil && typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	s.ws()
	if s.i >= len(s.b) {
		return
	}
	if typ == rawMessageType || (typ != nil && (typ.Implements(ownCheckerType) || reflect.PointerTo(typ).Implements(ownCheckerType))) {
		s.skip()
		return
	}
	switch s.b[s.i] {
	case '{':
		s.object(path, typ)
	case '[':
		s.array(path, typ)
	case '"':
		if msg := s.str(); msg != "" {
			s.add(path, msg)
		}
	default:
		start := s.i
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
		if s.i == start {
			s.i++ // malformed input: always make progress
		}
	}
}

func (s *textScan) object(path string, typ reflect.Type) {
	s.i++ // {
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == '}' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		start := s.i
		if msg := s.str(); msg != "" {
			s.add(path, msgBadKeyTxt)
		}
		key, plain := plainKey(s.b[start:s.i])
		if !plain {
			_ = json.Unmarshal(s.b[start:s.i], &key)
		}
		s.ws()
		s.i++ // :
		child := key
		if path != "" {
			child = path + "." + key
		}
		s.value(child, fieldType(typ, key))
	}
}

// plainKey is the value of the string literal lit when it is plain ASCII text
// without escapes, terminated (its bytes are its value; encoding/json, called
// per key for anything else, made a push body's scan allocate per key).
func plainKey(lit []byte) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", false
	}
	for _, c := range lit[1 : len(lit)-1] {
		if c < 0x20 || c >= utf8.RuneSelf || c == '\\' || c == '"' {
			return "", false
		}
	}
	return string(lit[1 : len(lit)-1]), true
}

func (s *textScan) array(path string, typ reflect.Type) {
	var elem reflect.Type
	if typ != nil && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array) {
		elem = typ.Elem()
	}
	s.i++ // [
	for n := 0; ; {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == ']' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			n++
			continue
		}
		s.value(path+"["+strconv.Itoa(n)+"]", elem)
	}
}

// fieldType is the type of key's value in an object of type typ, or nil when
// unknown (then everything below is checked). Keys match field names as
// encoding/json matches them: exactly, else ignoring case.
func fieldType(typ reflect.Type, key string) reflect.Type {
	if typ == nil {
		return nil
	}
	switch typ.Kind() {
	case reflect.Map:
		return typ.Elem()
	case reflect.Struct:
		fields := jsonFields(typ)
		if f, ok := fields[key]; ok {
			return f.typ
		}
		for name, f := range fields {
			if strings.EqualFold(name, key) {
				return f.typ
			}
		}
	}
	return nil
}

// str consumes a string literal at s.i and reports why its text cannot be
// stored, or "".
func (s *textScan) str() string {
	s.i++ // opening quote
	msg := ""
	bad := func(m string) {
		if msg == "" {
			msg = m
		}
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return msg
		case c == '\\':
			if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
				r, ok := s.hex4(s.i + 2)
				s.i += 6
				switch {
				case !ok:
				case r == 0:
					bad(msgNUL)
				case r >= 0xD800 && r < 0xDC00:
					// A high surrogate must be followed by a low one.
					if lo, ok := s.hex4(s.i + 2); s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' &&
						ok && lo >= 0xDC00 && lo < 0xE000 {
						s.i += 6
					} else {
						bad(msgBadUTF8)
					}
				case r >= 0xDC00 && r < 0xE000:
					bad(msgBadUTF8)
				}
				continue
			}
			s.i += 2
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				bad(msgBadUTF8)
			}
			s.i += size
		}
	}
	return msg
}

func (s *textScan) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip consumes one value without looking inside it.
func (s *textScan) skip() {
	depth, inStr := 0, false
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		switch {
		case inStr && c == '\\':
			s.i++
		case inStr && c == '"':
			inStr = false
			if depth == 0 {
				s.i++
				return
			}
		case inStr:
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return
			}
			depth--
			if depth == 0 {
				s.i++
				return
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return
		}
	}
}
