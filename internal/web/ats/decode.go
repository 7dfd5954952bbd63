// Package ats is the ATS dialect (SPEC section 2): its handlers, its
// authentication (Bearer mjm_ keys) and its decoder, which turns request
// bodies into domain inputs. Like every package under internal/web, and
// only those, it imports echo; its routes are in package web's routes.go.
//
// Decoding is lenient where ATS systems are known to differ and strict about
// types everywhere else:
//
//   - Unknown keys are ignored, and a key whose value is JSON null is treated
//     as absent. When a key repeats, the last value wins.
//   - Strings must be JSON strings. external_id also accepts a JSON integer
//     literal (such as 42 or -7, of any length) and keeps its decimal text as
//     written, because many ATS systems send numeric IDs; 42.0 and 4.2e1 are
//     refused, since it would be unclear which key the client means.
//     external_id is never trimmed: it is the client's key.
//   - Integers accept JSON numbers with an integral value (5, 5.0, 5e0, -3)
//     and strings of decimal digits only ("5", but not "-5", " 5" or "5.0").
//     Range checks are left to atsgate.JobInput.Validate.
//   - Booleans accept true, false, the numbers 1 and 0, and the strings
//     "true", "false", "1" and "0" (case-insensitive, not trimmed).
//   - states and qualifications accept an array of integers, or a single
//     integer as a one-element array. Non-positive IDs are kept for Validate
//     to drop.
//   - deadline is read with atsgate.ParseDeadline; a value that does not
//     parse, or is not a string, is ignored, as the seed documents, and
//     named in JobInput.Warnings so the response can say so.
//
// A body that is not exactly one JSON object is an atsgate.EINVALIDJSON
// error. A leading UTF-8 byte order mark is skipped; invalid UTF-8 inside
// strings is accepted and replaced with U+FFFD by encoding/json.
package ats

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/atsgate/atsgate/internal/atsgate"
)

// MaxDepth bounds JSON nesting; deeper bodies are invalid_json. The
// top-level object is depth 1.
const MaxDepth = 32

// Field-error messages, keyed in fieldErrs by the wire name of the field.
const (
	msgString   = "must be a string"
	msgInteger  = "must be an integer"
	msgBoolean  = "must be a boolean"
	msgIntArray = "must be an array of integers"
	msgRequired = "is required"
)

// DecodeJob reads a create or update body. It returns the decoded input and a
// map of field-level type errors (wire field name → message such as
// "must be an integer"). err is a *atsgate.Error with code atsgate.EINVALIDJSON
// when the body is not one JSON object: malformed, empty, followed by trailing
// data, not an object, or nested deeper than MaxDepth.
//
// When err is nil, fieldErrs is never nil, so it can be handed straight to
// atsgate.JobInput.Validate. A field with a type error is left absent in in.
// in.Extras is nil when the body holds none of atsgate.ExtraFields.
func DecodeJob(body []byte) (in atsgate.JobInput, fieldErrs map[string]string, err error) {
	obj, err := decodeObject(body)
	if err != nil {
		return atsgate.JobInput{}, nil, err
	}
	fieldErrs = make(map[string]string)
	for key, raw := range obj {
		if isNull(raw) {
			continue
		}
		var msg string
		switch key {
		case "external_id":
			in.ExternalID, msg = readExternalID(raw)
		case "title":
			in.Title, msg = stringPtr(raw)
		case "description":
			in.Description, msg = stringPtr(raw)
		case "apply_url":
			in.ApplyURL, msg = stringPtr(raw)
		case "apply_email":
			in.ApplyEmail, msg = stringPtr(raw)
		case "deadline":
			var warning string
			in.Deadline, warning = deadline(raw)
			if warning != "" {
				if in.Warnings == nil {
					in.Warnings = map[string]string{}
				}
				in.Warnings["deadline"] = warning
			}
		case "min_experience":
			in.MinExperience, msg = intPtr(raw)
		case "max_experience":
			in.MaxExperience, msg = intPtr(raw)
		case "salary":
			in.Salary, msg = intPtr(raw)
		case "specialization":
			in.Specialization, msg = intPtr(raw)
		case "show_company_name":
			in.ShowCompanyName, msg = boolPtr(raw)
		case "states":
			in.States, msg = intArray(raw)
		case "qualifications":
			in.Qualifications, msg = intArray(raw)
		default:
			if _, ok := atsgate.ExtraFields[key]; !ok {
				continue // unknown keys are ignored
			}
			s, ok := jsonString(raw)
			if !ok {
				msg = msgString
				break
			}
			if in.Extras == nil {
				in.Extras = make(map[string]string)
			}
			in.Extras[key] = s
		}
		if msg != "" {
			fieldErrs[key] = msg
		}
	}
	return in, fieldErrs, nil
}

// DecodeExternalID reads the body of a close request: only external_id
// matters, and it follows the same rules as in DecodeJob. The same
// invalid_json rules apply. A missing, null or empty external_id is the
// field error "is required"; any other type is "must be a string". When err
// is nil, fieldErrs is never nil.
func DecodeExternalID(body []byte) (externalID string, fieldErrs map[string]string, err error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", nil, err
	}
	fieldErrs = make(map[string]string)
	raw, ok := obj["external_id"]
	if !ok || isNull(raw) {
		fieldErrs["external_id"] = msgRequired
		return "", fieldErrs, nil
	}
	id, msg := readExternalID(raw)
	switch {
	case msg != "":
		fieldErrs["external_id"] = msg
	case id == "":
		fieldErrs["external_id"] = msgRequired
	}
	return id, fieldErrs, nil
}

// decodeObject checks that body is exactly one JSON object no deeper than
// MaxDepth and returns its members undecoded.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if len(trimSpace(body)) == 0 {
		return nil, invalid("the body is empty; send a JSON object")
	}
	// The depth check runs first so that a megabyte of "[[[[" is refused
	// after MaxDepth+1 bytes instead of being parsed.
	if tooDeep(body) {
		return nil, invalid("the JSON is nested more than %d levels deep", MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, invalid("the body is not valid JSON: unexpected end of input")
		case errors.As(err, &syn):
			return nil, invalid("the body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
		case errors.As(err, &typ):
			return nil, invalid("the body must be a JSON object, not %s", article(typ.Value))
		default:
			return nil, &atsgate.Error{Code: atsgate.EINVALIDJSON, Message: "the body is not valid JSON", Err: err}
		}
	}
	if obj == nil {
		return nil, invalid("the body must be a JSON object, not null")
	}
	off := dec.InputOffset()
	if len(trimSpace(body[off:])) != 0 {
		return nil, invalid("the body has data after the JSON object (at byte %d)", off)
	}
	return obj, nil
}

func invalid(format string, args ...any) *atsgate.Error {
	return atsgate.Errorf(atsgate.EINVALIDJSON, format, args...)
}

// article names a JSON kind as reported by encoding/json ("array",
// "string", "number", "bool") for a message.
func article(kind string) string {
	switch kind {
	case "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "":
		return "another value"
	default:
		return "a " + kind
	}
}

// tooDeep reports whether the brackets in body nest deeper than MaxDepth.
// It skips string contents, including escaped quotes, and otherwise trusts
// encoding/json to find syntax errors.
func tooDeep(body []byte) bool {
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > MaxDepth {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// trimSpace drops JSON whitespace from both ends of b.
func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

func isNull(raw json.RawMessage) bool {
	return string(trimSpace(raw)) == "null"
}

// jsonString returns raw as a Go string if it is a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	raw = trimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// encoding/json has already checked the syntax, so a string without
	// escapes is its own contents, and one with escapes needs only them
	// undone: no second decoder, which cost a create or replay of a 1 KiB
	// description encoded by Go or PHP (every < and / escaped) about 6% of
	// its CPU.
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	return unescape(inner)
}

// unescape undoes the escapes of a JSON string's contents, already checked
// by encoding/json, exactly as encoding/json does: invalid UTF-8 and
// unpaired surrogates become U+FFFD (FuzzJSONString holds the two to the
// same answers).
func unescape(s []byte) (string, bool) {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			switch s[i+1] {
			case '"', '\\', '/', '\'':
				b = append(b, s[i+1])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+2:])
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if len(s) >= i+2 && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := hex4(s[i+2:]); r2 >= 0 {
							if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
								b = utf8.AppendRune(b, pair)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b), true
}

// hex4 reads the four hex digits of a \u escape, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

func stringPtr(raw json.RawMessage) (*string, string) {
	s, ok := jsonString(raw)
	if !ok {
		return nil, msgString
	}
	return &s, ""
}

// readExternalID accepts a JSON string, or a JSON integer literal kept as
// written.
func readExternalID(raw json.RawMessage) (string, string) {
	if s, ok := jsonString(raw); ok {
		return s, ""
	}
	raw = trimSpace(raw)
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || !allDigits(digits) {
		return "", msgString
	}
	return string(raw), ""
}

// Warnings about a deadline that is ignored.
const (
	warnDeadlineUnread    = "not understood; ignored (send YYYY-MM-DD)"
	warnDeadlineNotString = "not a date string; ignored (send YYYY-MM-DD)"
)

// deadline reads a deadline, or says why it is ignored. An empty string is
// no deadline, with nothing to say.
func deadline(raw json.RawMessage) (*string, string) {
	s, ok := jsonString(raw)
	if !ok {
		return nil, warnDeadlineNotString
	}
	if strings.TrimSpace(s) == "" {
		return nil, ""
	}
	d, ok := atsgate.ParseDeadline(s)
	if !ok {
		return nil, warnDeadlineUnread
	}
	return &d, ""
}

func intPtr(raw json.RawMessage) (*int64, string) {
	n, ok := integer(raw)
	if !ok {
		return nil, msgInteger
	}
	return &n, ""
}

// integer reads a JSON number with an integral value that fits in int64, or
// a JSON string of decimal digits.
func integer(raw json.RawMessage) (int64, bool) {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	switch c := raw[0]; {
	case c == '"':
		s, ok := jsonString(raw)
		if !ok || s == "" || !allDigits([]byte(s)) {
			return 0, false
		}
		return parseInt(s)
	case c == '-' || c >= '0' && c <= '9':
		return integralNumber(string(raw))
	default:
		return 0, false
	}
}

// integralNumber reads the text of a JSON number (already validated by
// encoding/json) whose value is an integer in int64's range, such as "5",
// "-3", "5.0", "1e3" or "12.5e1". It works on the decimal digits rather than
// through float64, so it neither loses precision nor spends time on huge
// exponents.
func integralNumber(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" || !allDigits([]byte(intPart)) || !allDigits([]byte(frac)) {
		return 0, false
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, true // zero, whatever its sign or exponent
	}
	// point is where the decimal point falls within digits once the
	// exponent has been applied.
	point := len(intPart) - (len(intPart+frac) - len(digits))
	if exp != "" {
		e, ok := exponent(exp)
		if !ok {
			// |exponent| is astronomically large: a non-zero value is
			// then either far beyond int64 or a tiny fraction.
			return 0, false
		}
		point += e
	}
	if point <= 0 {
		return 0, false // 0 < |value| < 1
	}
	if point < len(digits) {
		if strings.TrimRight(digits[point:], "0") != "" {
			return 0, false // has a fractional part
		}
		digits = digits[:point]
	}
	if point > 19 {
		return 0, false // more than 19 digits is beyond int64
	}
	digits += strings.Repeat("0", point-len(digits))
	if neg {
		digits = "-" + digits
	}
	return parseInt(digits)
}

// parseInt is strconv.ParseInt that reports failure with 0 rather than a
// clamped value.
func parseInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// exponent reads a JSON number's exponent, refusing magnitudes beyond
// 999,999,999 so that later arithmetic cannot overflow.
func exponent(s string) (int, bool) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s = strings.TrimLeft(s, "0")
	if len(s) > 9 || !allDigits([]byte(s)) {
		return 0, false
	}
	e := 0
	for _, c := range []byte(s) {
		e = e*10 + int(c-'0')
	}
	if neg {
		e = -e
	}
	return e, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func boolPtr(raw json.RawMessage) (*bool, string) {
	var v, ok bool
	switch s := string(trimSpace(raw)); s {
	case "true", "1":
		v, ok = true, true
	case "false", "0":
		v, ok = false, true
	default:
		if str, isStr := jsonString(raw); isStr {
			switch strings.ToLower(str) {
			case "true", "1":
				v, ok = true, true
			case "false", "0":
				v, ok = false, true
			}
		}
	}
	if !ok {
		return nil, msgBoolean
	}
	return &v, ""
}

// intArray reads an array of integers, or a single integer as a
// one-element array. An empty array gives a non-nil empty slice, which an
// update uses to clear the field.
func intArray(raw json.RawMessage) (*[]int64, string) {
	raw = trimSpace(raw)
	if len(raw) > 0 && raw[0] != '[' {
		n, ok := integer(raw)
		if !ok {
			return nil, msgIntArray
		}
		return &[]int64{n}, ""
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, msgIntArray
	}
	ids := make([]int64, 0, len(elems))
	for _, e := range elems {
		n, ok := integer(e)
		if !ok {
			return nil, msgIntArray
		}
		ids = append(ids, n)
	}
	return &ids, ""
}
