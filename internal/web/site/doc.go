// Package site serves the public country sites (SPEC section 6): on each
// country's hosts, the listing of its published jobs with search and
// filters, a page per job with schema.org JobPosting data, the sitemap,
// robots.txt and an RSS feed.
//
// Pages are server-rendered html/template with one small stylesheet and no
// script, so they work on a cheap phone and for every crawler. Every 200
// carries an ETag (a hash of the body) and a Last-Modified and answers
// conditional requests with 304; Cache-Control lets a CDN keep a page at
// most a minute, and atsgate itself never caches, so a job that ends is
// 410 at the origin at once and gone from every page within a minute.
//
// What a job shows is decided once, in the store's atsgate.Posting: a
// job that hides its company has no company to leak into the page, the
// JSON-LD or the feed.
package site
