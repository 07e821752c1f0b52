package verify

import (
	"strconv"
	"unicode/utf8"
)

// This file holds the SDK's fast paths for reading the small JSON values
// that have an UnmarshalJSON of their own: a Secret, a SecretMap, a
// FactorConfig. Running a second json.Unmarshal over such a value costs
// four to six allocations each time, for every item of a list. The fast
// paths take the common shape only (plain strings, integers, null) and
// hand anything else to json.Unmarshal, so they decode exactly what it
// would; the Fuzz…JSON targets compare the two.

// plainJSONString is the text of b when b is a JSON string that needs no
// unescaping (no backslash or control character, valid UTF-8), as a seed or
// a token is: the string json.Unmarshal would give.
func plainJSONString(b []byte) (string, bool) {
	if text, ok := plainString(b); ok && len(text) == len(b)-2 {
		return string(text), true
	}
	return "", false
}

// plainString is the text of the plain JSON string b starts with (see
// plainJSONString), without its quotes.
func plainString(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			text := b[1:i]
			return text, utf8.Valid(text)
		case c == '\\' || c < ' ':
			return nil, false
		}
	}
	return nil, false
}

// Kinds of the values scanFlatObject passes on.
const (
	flatString  = '"' // a plain string, its text without quotes
	flatInteger = '0' // an integer without fraction or exponent, as written
	flatNull    = 'n'
)

// scanFlatObject calls member for each member of b in order, and reports
// whether b is a JSON object (spaces around it allowed) whose keys are
// plain strings and whose values are plain strings, integers or null, and
// member accepted every one. It gives up at the first thing it does not
// take, having called member for the members before it.
func scanFlatObject(b []byte, member func(key, value []byte, kind byte) bool) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, ok := plainString(b[i:])
		if !ok {
			return false
		}
		i = skipSpace(b, i+len(key)+2)
		if i == len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i == len(b) {
			return false
		}
		var value []byte
		var kind byte
		switch c := b[i]; {
		case c == '"':
			if value, ok = plainString(b[i:]); !ok {
				return false
			}
			kind, i = flatString, i+len(value)+2
		case c == 'n':
			if len(b)-i < 4 || string(b[i:i+4]) != "null" {
				return false
			}
			kind, i = flatNull, i+4
		default:
			if value = integer(b[i:]); value == nil {
				return false
			}
			kind, i = flatInteger, i+len(value)
		}
		if !member(key, value, kind) {
			return false
		}
		i = skipSpace(b, i)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// integer is the JSON integer b starts with (-?(0|[1-9][0-9]*)), or nil.
// What follows it is for the caller to judge: a fraction or an exponent
// then fails the object.
func integer(b []byte) []byte {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || b[start] == '0' && i-start > 1 {
		return nil
	}
	return b[:i]
}

// flatInt is the value of an integer member for a field of bits bits (64,
// or strconv.IntSize for an int); false for another kind of value, or one
// the field cannot hold.
func flatInt(value []byte, kind byte, bits int) (int64, bool) {
	if kind != flatInteger {
		return 0, false
	}
	n, err := strconv.ParseInt(string(value), 10, bits)
	return n, err == nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
