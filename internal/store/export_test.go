package store

// Translate exposes translate to the tests of its mapping.
var Translate = translate
