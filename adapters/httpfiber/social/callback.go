package social

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/authd/authd/adapters/httpfiber/internal/body"
	"github.com/authd/authd/adapters/httpfiber/internal/cookie"
	"github.com/authd/authd/adapters/httpfiber/internal/endpoint"
	"github.com/authd/authd/core"
	socialcore "github.com/authd/authd/core/social"
)

type callbackQuery struct {
	Code             string `query:"code"`
	Error            string `query:"error"`
	DeviceID         string `query:"device_id"`
	ErrorDescription string `query:"error_description"`
	State            string `query:"state"`
	User             string `query:"user"`
	Iss              string `query:"iss"`
}

// GET /callback/:id finishes a flow; every outcome is a 302.
func (h handlers) callback(c *fiber.Ctx, r *endpoint.Request, in *callbackQuery) error {
	id, _ := endpoint.PathParam(c, "id")
	bound, st := h.Cookies.ReadSigned(r.Cookie.Header, h.Cookies.Name(stateCookie))
	if st != cookie.Verified {
		bound = ""
	}
	res, err := h.svc.Callback(c.UserContext(), socialcore.CallbackInput{ProviderID: id, Code: in.Code, State: in.State,
		Error: in.Error, ErrorDesc: in.ErrorDescription, Iss: in.Iss, User: in.User, StateCookie: bound,
		Meta: h.Meta(c)})
	if err != nil {
		return err
	}
	if res.Refusal != "" {
		// The code only: the provider's own words may quote the request.
		h.Log.LogAttrs(c.UserContext(), slog.LevelInfo, "social callback refused",
			slog.String("provider", id), slog.String("error", res.Refusal))
	}
	if res.ClearStateCookie {
		h.PutCookie(c, stateCookie, "", 0)
	}
	if res.Session != nil {
		h.SetSessionCookie(c, sessionView(res.User, *res.Session), false, r.Cookie.DontRemember)
		h.SetKnownDevice(c, res.User.ID())
	}
	endpoint.NoStore(c)
	return endpoint.Redirect(c, res.Location)
}

func sessionView(u core.User, s core.Session) core.SessionView {
	return core.SessionView{Session: s, User: u}
}

// callbackForm is POST /callback/:id: the body (a form_post answer) and
// the query, both optional.
type callbackForm struct {
	_                body.OptionalBody
	Code             *string `json:"code"`
	Error            *string `json:"error"`
	DeviceID         *string `json:"device_id"`
	ErrorDescription *string `json:"error_description"`
	State            *string `json:"state"`
	User             *string `json:"user"`
	Iss              *string `json:"iss"`
	QueryCode        *string `query:"code"`
	QueryError       *string `query:"error"`
	QueryDeviceID    *string `query:"device_id"`
	QueryErrorDesc   *string `query:"error_description"`
	QueryState       *string `query:"state"`
	QueryUser        *string `query:"user"`
	QueryIss         *string `query:"iss"`
}

// POST /callback/:id answers form_post providers (Apple) as better-auth
// does: a 302 to the GET callback with body and query merged (the query
// wins), so that the browser brings its SameSite=Lax state cookie.
func (h handlers) callbackPost(c *fiber.Ctx, _ *endpoint.Request, in *callbackForm) error {
	id, _ := endpoint.PathParam(c, "id")
	var q []string
	add := func(k string, b, qv *string) {
		v := b
		if qv != nil {
			v = qv
		}
		if v != nil {
			q = append(q, url.QueryEscape(k)+"="+url.QueryEscape(*v))
		}
	}
	add("code", in.Code, in.QueryCode)
	add("error", in.Error, in.QueryError)
	add("device_id", in.DeviceID, in.QueryDeviceID)
	add("error_description", in.ErrorDescription, in.QueryErrorDesc)
	add("state", in.State, in.QueryState)
	add("user", in.User, in.QueryUser)
	add("iss", in.Iss, in.QueryIss)
	return endpoint.Redirect(c, h.BaseURL+"/callback/"+url.PathEscape(id)+"?"+strings.Join(q, "&"))
}
