package main

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// The CLI's human output carries text that others wrote: job titles,
// external IDs and request bodies come from integrators, names and notes
// from whoever typed them. A terminal acts on control characters it is
// sent: ESC and the 8-bit CSI start sequences that move the cursor, rewrite
// lines, set the window title or, on some terminals, answer back as if
// typed; bidirectional overrides make text display as something else.
// So every human output goes through safeWriter, and each value printed in
// a table goes through clean as well. --json output needs neither: JSON
// escapes control characters, and a program reads it, not a terminal.

// unsafeRune reports whether r must not reach a terminal as is: the C0
// controls, DEL, the C1 controls, the bidirectional marks, embeddings,
// overrides and isolates, and the line and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// appendEscaped appends the visible form of an unsafe rune: \t, \n, \r,
// \x1b for the other ASCII controls, \u202e beyond.
func appendEscaped(b []byte, r rune) []byte {
	switch r {
	case '\t':
		return append(b, `\t`...)
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	}
	if r < 0x80 {
		return fmt.Appendf(b, `\x%02x`, r)
	}
	return fmt.Appendf(b, `\u%04x`, r)
}

// escape returns s with every unsafe rune escaped, and every byte that is
// not UTF-8 as \xff: a lone 0x9b is a CSI to a terminal that reads bytes
// as Latin-1. keep names runes that stay as they are.
func escape(s string, keep func(rune) bool) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (unsafeRune(r) && !keep(r)) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = fmt.Appendf(b, `\x%02x`, s[i])
		case unsafeRune(r) && !keep(r):
			b = appendEscaped(b, r)
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

// clean makes one value safe to print in a line of a table: tabs and
// newlines are escaped too, so a value cannot shift columns or forge a
// line of its own.
func clean(s string) string { return escape(s, func(rune) bool { return false }) }

// layout keeps the tab and the newline, which the text layouts are made
// of.
func layout(r rune) bool { return r == '\t' || r == '\n' }

// safeWriter escapes every unsafe rune but tab and newline on its way to
// w: a value printed without clean still cannot drive the terminal. It
// holds back a rune split across writes until the rest arrives; Close
// writes what is held, escaped.
type safeWriter struct {
	w    io.Writer
	held []byte
}

func (s *safeWriter) Write(p []byte) (int, error) {
	data := p
	if len(s.held) > 0 {
		data = append(s.held, p...)
		s.held = nil
	}
	// A rune's first bytes at the end wait for the rest.
	cut := len(data)
	for k := 1; k < utf8.UTFMax && k <= len(data); k++ {
		if c := data[len(data)-k]; utf8.RuneStart(c) {
			if !utf8.FullRune(data[len(data)-k:]) {
				cut = len(data) - k
			}
			break
		}
	}
	s.held = append(s.held, data[cut:]...)
	if _, err := io.WriteString(s.w, escape(string(data[:cut]), layout)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// printError writes the error a command ended with for a person: an
// error can quote what was typed or stored (an external ID, a name).
func printError(w io.Writer, err error) {
	fmt.Fprintln(w, "atsgate:", escape(err.Error(), layout))
}

// Close writes out a rune left incomplete, escaped byte by byte.
func (s *safeWriter) Close() error {
	if len(s.held) == 0 {
		return nil
	}
	held := s.held
	s.held = nil
	_, err := io.WriteString(s.w, escape(string(held), layout))
	return err
}
