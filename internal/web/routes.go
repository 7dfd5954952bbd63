package web

import "github.com/labstack/echo/v4"

// publicRoutes is the whole surface of the public listener.
func (s *Server) publicRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)

	ats := e.Group("/api/ats", s.resolveCountry)
	ats.GET("/taxonomy", s.taxonomy)
	jobs := ats.Group("", s.authenticate)
	// One URL, many operations: method and ?action= choose (atsJobs).
	jobs.Any("/jobs", s.atsJobs)
	jobs.Any("/jobs.php", s.atsJobs)
}

// adminRoutes is the whole surface of the back-office listener.
func (s *Server) adminRoutes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
}
