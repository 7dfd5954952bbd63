package backoffice

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/atsgate/atsgate/internal/atsgate"
	"github.com/atsgate/atsgate/internal/wire"
)

// --- ERP sources: admin API ---------------------------------------------------

// APIERPSources lists ERP sources, of one employer with ?employer=.
func (h *Handler) APIERPSources(c echo.Context) error {
	list, err := h.erpSources(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.ERPSourceList{Sources: wire.NewERPSources(list)})
}

// erpSources lists the sources of ?employer= (all without it), for the
// API and the page alike, so both refuse a bad ID the same way.
func (h *Handler) erpSources(c echo.Context) ([]atsgate.ERPSource, error) {
	emp, err := queryID(c, "employer")
	if err != nil {
		return nil, atsgate.Invalid(map[string]string{"employer": "must be an employer ID"})
	}
	return h.bo.ERPSources(c.Request().Context(), emp)
}

// erpSourceBody is the admin API's request to add a source.
type erpSourceBody struct {
	EmployerID  int64  `json:"employer_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// TrustedIPs is a comma-separated string of CIDRs or addresses, or an
	// array of them.
	TrustedIPs         json.RawMessage `json:"trusted_ips"`
	IntegrationVersion string          `json:"integration_version"`
	RequireSignature   bool            `json:"require_signature"`
}

// APICreateERPSource adds a source and answers its key and secret, once.
func (h *Handler) APICreateERPSource(c echo.Context) error {
	var body erpSourceBody
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	var ips string
	if raw := strings.TrimSpace(string(body.TrustedIPs)); raw != "" && raw != "null" {
		var list []string
		if err := json.Unmarshal(body.TrustedIPs, &ips); err != nil {
			if err := json.Unmarshal(body.TrustedIPs, &list); err != nil {
				return atsgate.Invalid(map[string]string{"trusted_ips": "must be a string of comma-separated CIDRs or an array of them"})
			}
			ips = strings.Join(list, ",")
		}
	}
	in := atsgate.ERPSourceInput{EmployerID: body.EmployerID, Name: body.Name, Description: body.Description,
		TrustedIPs: ips, IntegrationVersion: body.IntegrationVersion, RequireSignature: body.RequireSignature}
	return h.createERPSource(c, in, func(creds wire.ERPCredentials) error {
		return c.JSON(http.StatusCreated, creds)
	})
}

// createERPSource adds a source for the API and the page alike, and logs
// who did it (never the key or secret).
func (h *Handler) createERPSource(c echo.Context, in atsgate.ERPSourceInput, done func(wire.ERPCredentials) error) error {
	src, key, secret, err := h.bo.CreateERPSource(c.Request().Context(), in)
	if err != nil {
		return err
	}
	h.log.InfoContext(c.Request().Context(), "erp source added", "source", src.ID, "employer", src.EmployerID,
		"prefix", src.KeyPrefix, "actor", adminOf(c).Actor())
	return done(wire.ERPCredentials{Source: wire.NewERPSource(src), APIKey: key, APISecret: secret})
}

// APIERPSource returns one source.
func (h *Handler) APIERPSource(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	src, err := h.bo.ERPSource(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.NewERPSource(src))
}

// APIRotateERPSource gives a source a new key and secret, answered once.
func (h *Handler) APIRotateERPSource(c echo.Context) error {
	creds, err := h.rotateERPSource(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, creds)
}

func (h *Handler) rotateERPSource(c echo.Context) (wire.ERPCredentials, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return wire.ERPCredentials{}, err
	}
	src, key, secret, err := h.bo.RotateERPSource(c.Request().Context(), id)
	if err != nil {
		return wire.ERPCredentials{}, err
	}
	h.log.InfoContext(c.Request().Context(), "erp source rotated", "source", id, "prefix", src.KeyPrefix, "actor", adminOf(c).Actor())
	return wire.ERPCredentials{Source: wire.NewERPSource(src), APIKey: key, APISecret: secret}, nil
}

// APIDisableERPSource disables a source.
func (h *Handler) APIDisableERPSource(c echo.Context) error { return h.apiSetERPActive(c, false) }

// APIEnableERPSource enables a source.
func (h *Handler) APIEnableERPSource(c echo.Context) error { return h.apiSetERPActive(c, true) }

func (h *Handler) apiSetERPActive(c echo.Context, active bool) error {
	src, err := h.setERPActive(c, active)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, wire.NewERPSource(src))
}

func (h *Handler) setERPActive(c echo.Context, active bool) (*atsgate.ERPSource, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	src, err := h.bo.SetERPSourceActive(c.Request().Context(), id, active)
	if err != nil {
		return nil, err
	}
	h.log.InfoContext(c.Request().Context(), "erp source changed", "source", id, "active", active, "actor", adminOf(c).Actor())
	return src, nil
}

// --- ERP sources: pages -------------------------------------------------------

// ERPSourcesPage lists ERP sources (?employer= for one employer's) with
// the form that adds one.
func (h *Handler) ERPSourcesPage(c echo.Context) error {
	return h.renderERPSources(c, http.StatusOK, nil, nil)
}

func (h *Handler) renderERPSources(c echo.Context, status int, creds *wire.ERPCredentials, formErr error) error {
	list, err := h.erpSources(c)
	if err != nil {
		return err
	}
	return h.render(c, status, "erp_sources", "ERP sources", map[string]any{
		"Sources": wire.NewERPSources(list), "Employer": c.QueryParam("employer"), "Creds": creds,
		"Error": atsgate.ErrorMessage(formErr), "Fields": fieldsOf(formErr),
	})
}

// fieldsOf is a validation error's fields, for a form.
func fieldsOf(err error) map[string]string {
	if e, ok := err.(*atsgate.Error); ok {
		return e.Fields
	}
	return nil
}

// CreateERPSourcePage adds a source from the form and shows its key and
// secret once; a refused form is shown again with what was wrong.
func (h *Handler) CreateERPSourcePage(c echo.Context) error {
	emp, _ := strconv.ParseInt(strings.TrimSpace(formValue(c, "employer")), 10, 64)
	in := atsgate.ERPSourceInput{EmployerID: emp, Name: formValue(c, "name"), Description: formValue(c, "description"),
		TrustedIPs: formValue(c, "trusted_ips"), IntegrationVersion: formValue(c, "integration_version"),
		RequireSignature: formValue(c, "require_signature") != ""}
	err := h.createERPSource(c, in, func(creds wire.ERPCredentials) error {
		return h.renderERPSources(c, http.StatusOK, &creds, nil)
	})
	if code := atsgate.ErrorCode(err); code == atsgate.EINVALID || code == atsgate.ECONFLICT || code == atsgate.ENOTFOUND {
		return h.renderERPSources(c, http.StatusUnprocessableEntity, nil, err)
	}
	return err
}

// ERPSourcePage is one source: its settings, sync status, last success
// and failure, and the rotate, disable and enable actions.
func (h *Handler) ERPSourcePage(c echo.Context) error {
	return h.renderERPSource(c, http.StatusOK, nil)
}

func (h *Handler) renderERPSource(c echo.Context, status int, creds *wire.ERPCredentials) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	src, err := h.bo.ERPSource(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.render(c, status, "erp_source", "ERP source "+src.Name, map[string]any{
		"Source": wire.NewERPSource(src), "Creds": creds,
	})
}

// RotateERPSourcePage rotates a source and shows the new credentials once.
func (h *Handler) RotateERPSourcePage(c echo.Context) error {
	creds, err := h.rotateERPSource(c)
	if err != nil {
		return err
	}
	return h.renderERPSource(c, http.StatusOK, &creds)
}

// DisableERPSourcePage disables a source.
func (h *Handler) DisableERPSourcePage(c echo.Context) error { return h.pageSetERPActive(c, false) }

// EnableERPSourcePage enables a source.
func (h *Handler) EnableERPSourcePage(c echo.Context) error { return h.pageSetERPActive(c, true) }

func (h *Handler) pageSetERPActive(c echo.Context, active bool) error {
	src, err := h.setERPActive(c, active)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/erp/sources/"+strconv.FormatInt(src.ID, 10))
}
