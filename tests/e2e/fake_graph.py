"""A fake of Meta's WhatsApp Cloud API (Graph API) for end-to-end tests.

Meta's Graph API cannot be reached from the test machines, so wa-worker is
pointed at this fake (WHATSAPP_GRAPH_URL=FakeGraph.url).  It runs as its own
process (no GIL shared with the test driver) and answers the way the
reference (Meta's Cloud API docs, sending, errors, media) says
Meta answers: the same JSON shapes, serialised like Meta (compact, ASCII
only, "\\/"), errors in Graph's error shape with the fixture files of
tests/fixtures/graph/ where one exists.

Server:  python3 tests/e2e/fake_graph.py --port 0 --token TOKEN
             [--app-secret S] [--require-appsecret-proof] [--portfile F]

Graph endpoints (VER = any vNN.N; every one needs "Authorization: Bearer
TOKEN", else HTTP 401 code 190):

  POST   /VER/{phone-number-id}/messages   send, mark as read, typing indicator
  POST   /VER/{phone-number-id}/media      multipart upload -> {"id": ...}
  GET    /VER/{media-id}                   media url, mime_type, sha256, file_size
  DELETE /VER/{media-id}                   {"success": true}
  POST   /VER/{waba-id}/message_templates  create -> {"id","status":"PENDING","category"};
                                           100/2388024 duplicate name+language, 100/2388043
                                           a variable without example (into st.templates)
  DELETE /VER/{waba-id}/message_templates?name=N[&hsm_id=I]   {"success": true}
  GET    /VER/{phone-number-id}/whatsapp_business_profile?fields=  {"data": [{...}]}
  POST   /VER/{phone-number-id}/whatsapp_business_profile  Meta's limits (code 100)
  GET    /lookaside/{media-id}?ext=&hash=  the bytes (url valid 300 s)
  anything else                            HTTP 400 code 100, GraphMethodException

Send validation (HTTP 400 in Graph's error shape; error_data.details names
the field):
  code 100     body is not JSON / wrong Content-Type, messaging_product missing
               or not "whatsapp", to missing or not a phone number / BSUID,
               unknown type or recipient_type, object of the wrong JSON type,
               text body > 4096, caption > 1024, caption on audio/sticker,
               biz_opaque_callback_data > 512, unknown read-receipt status
  code 131008  a required field is missing: the object named after the type,
               text.body, media id/link (neither), location latitude/longitude,
               contacts name.formatted_name, reaction message_id/emoji,
               interactive type/body.text/action/reply id+title/list
               button+rows, template name/language.code, message_id of a
               read receipt
  code 131009  a value is out of range: media both id and link, link not
               http(s), interactive 1-3 buttons, button title 1-20 / id <= 256
               / duplicates, list <= 10 sections and 1-10 rows, row title <= 24
               / description <= 72 / id <= 200, section title <= 24 (required
               when > 1 section), action.button <= 20, header/footer <= 60,
               interactive body > 1024 (buttons, cta_url) or 4096 (list),
               cta_url display_text <= 20, typing_indicator.type != "text",
               latitude/longitude out of range; flow: version "3", one of
               flow_id/flow_name, flow_cta <= 20, a screen for navigate, no
               payload for data_exchange, data a non-empty object;
               location_request_message action send_location; product
               catalog_id + product_retailer_id; product_list header text,
               titled sections (1-10) of 1+ items, <= 30 items in all;
               catalog_message action catalog_message
               (code 131008 for a missing one, 100 for a header or footer a
               type does not take)

Control endpoints (never used by Meta, JSON in and out, never recorded):
  GET  /_fake/health                 {"ok": true, "port": N}
  GET  /_fake/requests[?prefix=P&contains=S&since=I]
                                     {"requests": [...], "total": N}
  GET  /_fake/count                  {"total": N} requests since the last reset
  POST /_fake/inject  {fault}        queue a fault (see FakeGraph.inject)
  GET  /_fake/faults                 faults still queued
  POST /_fake/delay   {"ms": N}      delay every Graph answer
  POST /_fake/media   {"id","data_b64","mime","phone_number_id"?,
                      "sha256"?, "file_size"?}   (the last two: what the
                      media-info call claims instead of the truth)
  POST /_fake/number  {"id", "fields"?, "token"?}   a number's node, and the
                     token only it takes (see FakeGraph.set_number)
  POST /_fake/config  {"token"?, "media_url_ttl_s"?, "require_appsecret_proof"?,
                      "media_url_host"?, "redirect_host"?}
                     media_url_host: the host the media-info url names
                     (default 127.0.0.1; "localhost" is another host that
                     reaches this same fake); redirect_host: /lookaside/
                     requests answer 302 to the same path and query plus
                     "&hop=1" on that host, once ("" or null: off)
  POST /_fake/profile {"id", "fields"}   a number's business profile
  POST /_fake/reset                  forget requests, faults, delay, media
                                     hosts; end hangs

FakeGraph (below) starts the server as a subprocess and wraps the control
endpoints; it also builds, signs and posts status webhooks to the gateway.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import itertools
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAPH_FIXTURES = os.path.join(TOP, "tests", "fixtures", "graph")

# Reference 8.2: code -> (HTTP status, message). Codes with a fixture file
# are served from the file verbatim.
FIXTURE_FOR_CODE = {
    130429: ("error_130429.json", 400),
    131047: ("error_131047.json", 400),
    131056: ("error_131056.json", 400),
    190: ("error_190.json", 401),
    131000: ("error_500_generic.json", 500),
}
CODES = {
    0: (401, "(#0) AuthException", "Could not authenticate the app user."),
    1: (400, "(#1) An unknown error occurred", "Possibly a temporary server error; retry later."),
    2: (503, "(#2) Service temporarily unavailable", "The API service is temporarily unavailable."),
    3: (500, "(#3) Application does not have the capability to make this API call.",
        "Check the permissions of the access token."),
    4: (400, "(#4) Application request limit reached", "The app reached its API call rate limit."),
    10: (403, "(#10) Application does not have permission for this action",
         "Permission was not granted or has been removed."),
    33: (400, "(#33) Parameter value is not valid", "This phone number has been deleted."),
    100: (400, "(#100) Invalid parameter", "Invalid parameter"),
    368: (403, "(#368) Temporarily blocked for policies violations",
          "The WhatsApp Business Account is restricted for policy violations."),
    80007: (400, "(#80007) Rate limit issues", "The WhatsApp Business Account reached its rate limit."),
    130472: (400, "(#130472) User's number is part of an experiment",
             "The message was not sent as part of a marketing experiment."),
    130497: (403, "(#130497) Business account is restricted from messaging users in this country",
             "The business cannot message users in this country."),
    131005: (403, "(#131005) Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "(#131008) Required parameter is missing", "A required parameter is missing."),
    131009: (400, "(#131009) Parameter value is not valid", "One or more parameter values are invalid."),
    131016: (503, "(#131016) Service unavailable", "A service is temporarily unavailable."),
    131021: (400, "(#131021) Recipient cannot be sender", "The sender and the recipient are the same number."),
    131026: (400, "(#131026) Message undeliverable",
             "The recipient is not on WhatsApp, uses an old app, has not accepted the terms or blocked the business."),
    131030: (400, "(#131030) Recipient phone number not in allowed list",
             "Add the recipient to the allowed list of the test number."),
    131031: (403, "(#131031) Business Account locked", "The account has been locked."),
    131037: (400, "(#131037) WhatsApp provided number needs display name approval before message can be sent.",
             "The display name of the number is not approved."),
    131042: (400, "(#131042) Business eligibility payment issue", "There is a problem with the payment method."),
    131045: (400, "(#131045) Incorrect certificate", "The phone number was not registered with a valid certificate."),
    131048: (400, "(#131048) Spam rate limit hit",
             "Messages were restricted because too many were blocked or flagged as spam."),
    131049: (400, "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
             "The marketing message was not delivered; wait before sending this user another one."),
    131050: (400, "(#131050) Unable to deliver the message.",
             "The recipient stopped receiving marketing messages from this business."),
    131051: (400, "(#131051) Unsupported message type", "The message type is not supported."),
    131052: (400, "(#131052) Media download error", "The user's media could not be downloaded."),
    131053: (400, "(#131053) Media upload error", "The media could not be uploaded or downloaded."),
    131057: (500, "(#131057) Account in maintenance mode", "The business account is in maintenance mode."),
    131062: (400, "(#131062) Business-scoped user ID not supported", "Business-scoped user IDs are not supported here."),
    131063: (400, "(#131063) Marketing templates disabled", "Marketing templates are disabled on the Cloud API."),
    131064: (400, "(#131064) Messaging limit hit", "The messaging limit was hit after template violations."),
    132000: (400, "(#132000) Number of parameters does not match the expected number of params",
             "The number of template parameters does not match the template."),
    132001: (404, "(#132001) Template name does not exist in the translation",
             "The template does not exist in this language or is not approved."),
    132005: (400, "(#132005) Translated text too long", "The template text is too long after hydration."),
    132007: (400, "(#132007) Template format character policy violated",
             "The template content violates a WhatsApp policy."),
    132008: (400, "(#132008) Template parameter value is not valid", "A template parameter value is not valid."),
    132012: (400, "(#132012) Parameter format does not match format in the created template",
             "A template parameter has the wrong format."),
    132015: (400, "(#132015) Template is paused", "The template is paused because of low quality."),
    132016: (400, "(#132016) Template is disabled", "The template was paused too many times and is disabled."),
    132018: (400, "(#132018) There was an issue with the parameters in your template.",
             "Check the template parameters."),
    132068: (400, "(#132068) Flow is in blocked state", "The flow is blocked."),
    132069: (400, "(#132069) Flow is in throttled state", "The flow is throttled."),
    133000: (500, "(#133000) Incomplete deregistration", "A previous deregistration did not complete."),
    133004: (503, "(#133004) Server temporarily unavailable", "The server is temporarily unavailable."),
    133005: (400, "(#133005) Two step verification PIN mismatch", "The two-step verification PIN is wrong."),
    133010: (400, "(#133010) Account not registered", "The phone number is not registered on the Cloud API."),
    133015: (400, "(#133015) Please wait a few minutes before attempting to register this phone number",
             "The number was deleted recently; wait before registering."),
    133016: (400, "(#133016) Account register deregister rate limit exceeded",
             "Too many registration attempts for this number."),
    135000: (400, "(#135000) Generic user error", "Generic user error."),
    137000: (400, "(#137000) Identity key hash mismatch",
             "The recipient's identity key hash does not match."),
}
TRANSIENT = {1, 2, 4, 131000, 131016, 131057, 133004}

MSG_TYPES = ("text", "image", "audio", "video", "document", "sticker", "location",
             "contacts", "interactive", "template", "reaction")
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
INTERACTIVE_TYPES = ("button", "list", "cta_url", "product", "product_list",
                     "catalog_message", "flow", "location_request_message",
                     "address_message")
# Reference 9.6: upload MIME types and size caps per family.
UPLOAD_MIME = {
    "audio/aac": 16 << 20, "audio/amr": 16 << 20, "audio/mpeg": 16 << 20,
    "audio/mp4": 16 << 20, "audio/ogg": 16 << 20,
    "text/plain": 100 << 20, "application/pdf": 100 << 20,
    "application/msword": 100 << 20,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 << 20,
    "application/vnd.ms-excel": 100 << 20,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 << 20,
    "application/vnd.ms-powerpoint": 100 << 20,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 << 20,
    "image/jpeg": 5 << 20, "image/png": 5 << 20,
    "image/webp": 500 << 10,
    "video/mp4": 16 << 20, "video/3gpp": 16 << 20,
}
MAX_BODY = 120 << 20
VERSION_RE = re.compile(r"^v\d{1,3}\.\d{1,2}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]{5,30}$")
BSUID_RE = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]{5,64}$")
CONTROL = "/_fake/"
HTML_401 = (b"<!DOCTYPE html><html><head><title>Error</title></head><body>"
            b"<h1>Sorry, something went wrong.</h1><p>This content is not available: "
            b"the request was not authorised.</p></body></html>")
HTML_404 = (b"<!DOCTYPE html><html><head><title>Error</title></head><body>"
            b"<h1>Sorry, this content isn't available right now</h1><p>The link may "
            b"have expired.</p></body></html>")


def meta_json(obj):
    """Serialises like Graph: compact, pure ASCII (lowercase \\uXXXX,
    surrogate pairs), forward slashes as \\/."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def fbtrace():
    return base64.b64encode(os.urandom(17), altchars=b"Az").decode()[:23]


def load_fixture(name):
    with open(os.path.join(GRAPH_FIXTURES, name), "rb") as f:
        return f.read()


def code_http(code):
    if code in FIXTURE_FOR_CODE:
        return FIXTURE_FOR_CODE[code][1]
    if code in CODES:
        return CODES[code][0]
    if 200 <= code <= 299:
        return 403
    return 400


def code_title(code):
    """The error's text without the "(#N) " prefix (webhook errors' title)."""
    if code in FIXTURE_FOR_CODE:
        msg = json.loads(load_fixture(FIXTURE_FOR_CODE[code][0]))["error"]["message"]
    elif code in CODES:
        msg = CODES[code][1]
    else:
        msg = "Unknown error"
    return re.sub(r"^\(#\d+\) ", "", msg)


def graph_error(code, details=None, message=None, etype="OAuthException", subcode=None):
    """(status, body bytes) for a Graph error with this code; the fixture
    file verbatim when one exists and nothing is overridden."""
    if code in FIXTURE_FOR_CODE and details is None and message is None:
        name, status = FIXTURE_FOR_CODE[code]
        return status, load_fixture(name)
    if code in CODES:
        status, msg, det = CODES[code]
    elif 200 <= code <= 299:
        status, msg, det = 403, "(#%d) Permissions error" % code, "The app lacks a permission."
    else:
        status, msg, det = 400, "(#%d) Unknown error" % code, "Unknown error."
    if code in FIXTURE_FOR_CODE:
        status = FIXTURE_FOR_CODE[code][1]
    err = {"message": message or msg, "type": etype, "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    if code in TRANSIENT:
        err["is_transient"] = True
    if code not in (0, 190) and etype == "OAuthException":
        err["error_data"] = {"messaging_product": "whatsapp", "details": details or det}
    err["fbtrace_id"] = fbtrace()
    return status, meta_json({"error": err})


class Refuse(Exception):
    """A validation failure: Graph error code, details naming the field."""

    def __init__(self, code, details, message=None):
        super().__init__(details)
        self.code = code
        self.details = details
        self.message = message


def _missing(field):
    raise Refuse(131008, "The parameter %s is required." % field)


def _field(path):
    head, *rest = path
    return head + "".join("[%s]" % r if isinstance(r, int) else "['%s']" % r for r in rest)


def _get(obj, *path):
    for p in path:
        if isinstance(p, int):
            if not isinstance(obj, list) or p >= len(obj):
                return None
            obj = obj[p]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(p)
    return obj


def _need_str(obj, *path, maxlen=None, code_len=131009, minlen=1):
    v = _get(obj, *path)
    name = _field(path)
    if v is None or (isinstance(v, str) and v == "" and minlen > 0):
        _missing(name)
    if not isinstance(v, str):
        raise Refuse(100, "Param %s must be a string." % name,
                     "(#100) Param %s must be a string." % name)
    _check_len(v, name, maxlen, code_len)
    return v


def _opt_str(obj, *path, maxlen=None, code_len=131009):
    v = _get(obj, *path)
    if v is None:
        return None
    name = _field(path)
    if not isinstance(v, str):
        raise Refuse(100, "Param %s must be a string." % name,
                     "(#100) Param %s must be a string." % name)
    _check_len(v, name, maxlen, code_len)
    return v


def _check_len(v, name, maxlen, code):
    if maxlen is not None and len(v) > maxlen:   # code points, like Meta
        det = "Param %s must be at most %d characters long (got %d)." % (name, maxlen, len(v))
        if code == 100:
            raise Refuse(100, det, "(#100) Param %s must be at most %d characters long." % (name, maxlen))
        raise Refuse(code, det)


def _need_obj(obj, key, kind=dict):
    v = obj.get(key)
    if v is None:
        _missing(key)
    if not isinstance(v, kind):
        what = "an object" if kind is dict else "an array"
        raise Refuse(100, "Param %s must be %s." % (key, what), "(#100) Param %s must be %s." % (key, what))
    return v


def normalise_to(to):
    """(contact dict) for a valid "to", else Refuse(100)."""
    if not isinstance(to, str) or to == "":
        raise Refuse(100, "Param to must be a non-empty string.", "(#100) Param to must be a non-empty string.")
    if BSUID_RE.match(to):
        return {"input": to, "user_id": to}
    digits = re.sub(r"[^0-9]", "", to)
    if not PHONE_RE.match(to) or not 5 <= len(digits) <= 15 or to.count("+") > 1:
        raise Refuse(100, "Param to is not a valid phone number or business-scoped user ID: %r." % to,
                     "(#100) Invalid parameter")
    return {"input": to, "wa_id": digits}


def validate_send(b):
    """Checks a /messages body like Meta; returns ("read", None) for a read
    receipt or ("send", contact) for a message. Raises Refuse."""
    if not isinstance(b, dict):
        raise Refuse(100, "The request body must be a JSON object.", "(#100) Invalid parameter")
    mp = b.get("messaging_product")
    if mp is None:
        raise Refuse(100, "The parameter messaging_product is required.",
                     "(#100) The parameter messaging_product is required.")
    if mp != "whatsapp":
        raise Refuse(100, "Param messaging_product must be one of {WHATSAPP} - got %s." % json.dumps(mp),
                     "(#100) Param messaging_product must be one of {WHATSAPP} - got %s." % json.dumps(mp))
    if "status" in b:
        if b["status"] != "read":
            raise Refuse(100, "Param status must be one of {READ} - got %s." % json.dumps(b["status"]),
                         "(#100) Param status must be one of {READ} - got %s." % json.dumps(b["status"]))
        _need_str(b, "message_id")
        ti = b.get("typing_indicator")
        if ti is not None:
            if not isinstance(ti, dict):
                raise Refuse(100, "Param typing_indicator must be an object.", "(#100) Invalid parameter")
            if ti.get("type") != "text":
                raise Refuse(131009, "Param typing_indicator['type'] must be \"text\".")
        return "read", None
    if "to" not in b:
        raise Refuse(100, "The parameter to is required.", "(#100) The parameter to is required.")
    contact = normalise_to(b["to"])
    rt = b.get("recipient_type", "individual")
    if rt not in ("individual", "group"):
        raise Refuse(100, "Param recipient_type must be one of {INDIVIDUAL, GROUP} - got %s." % json.dumps(rt),
                     "(#100) Invalid parameter")
    t = b.get("type", "text")
    if t not in MSG_TYPES:
        allowed = ", ".join(x.upper() for x in MSG_TYPES)
        raise Refuse(100, "Param type must be one of {%s} - got %s." % (allowed, json.dumps(t)),
                     "(#100) Param type must be one of {%s} - got %s." % (allowed, json.dumps(t)))
    opaque = b.get("biz_opaque_callback_data")
    if opaque is not None:
        if not isinstance(opaque, str):
            raise Refuse(100, "Param biz_opaque_callback_data must be a string.", "(#100) Invalid parameter")
        _check_len(opaque, "biz_opaque_callback_data", 512, 100)
    ctx = b.get("context")
    if ctx is not None:
        if not isinstance(ctx, dict):
            raise Refuse(100, "Param context must be an object.", "(#100) Invalid parameter")
        _need_str(b, "context", "message_id")
    obj = _need_obj(b, t, list if t == "contacts" else dict)
    if t == "text":
        _need_str(b, "text", "body", maxlen=4096, code_len=100)
        pv = obj.get("preview_url")
        if pv is not None and not isinstance(pv, bool):
            raise Refuse(100, "Param text['preview_url'] must be a boolean.", "(#100) Invalid parameter")
    elif t in MEDIA_TYPES:
        _media(obj, t)
    elif t == "location":
        for k, lim in (("latitude", 90), ("longitude", 180)):
            v = obj.get(k)
            if v is None:
                _missing("location['%s']" % k)
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise Refuse(100, "Param location['%s'] must be a number." % k, "(#100) Invalid parameter")
            if isinstance(v, bool) or not -lim <= fv <= lim:
                raise Refuse(131009, "Param location['%s'] is out of range." % k)
        _opt_str(b, "location", "name")
        _opt_str(b, "location", "address")
    elif t == "contacts":
        if not obj:
            _missing("contacts[0]")
        for i, c in enumerate(obj):
            if not isinstance(c, dict):
                raise Refuse(100, "Param contacts[%d] must be an object." % i, "(#100) Invalid parameter")
            _need_str(b, "contacts", i, "name", "formatted_name")
    elif t == "reaction":
        _need_str(b, "reaction", "message_id")
        if "emoji" not in obj:
            _missing("reaction['emoji']")
        _opt_str(b, "reaction", "emoji")
    elif t == "interactive":
        _interactive(b)
    elif t == "template":
        _need_str(b, "template", "name", maxlen=512)
        if not isinstance(obj.get("language"), dict):
            _missing("template['language']")
        _need_str(b, "template", "language", "code")
        comps = obj.get("components")
        if comps is not None and not isinstance(comps, list):
            raise Refuse(100, "Param template['components'] must be an array.", "(#100) Invalid parameter")
    return "send", contact


def _media(obj, t):
    has_id, has_link = "id" in obj, "link" in obj
    if not has_id and not has_link:
        raise Refuse(131008, "Param %s must contain either 'id' or 'link'." % t)
    if has_id and has_link:
        raise Refuse(131009, "Param %s must contain either 'id' or 'link', not both." % t)
    key = "id" if has_id else "link"
    v = obj[key]
    if not isinstance(v, str) or v == "":
        raise Refuse(131009, "Param %s['%s'] must be a non-empty string." % (t, key))
    if has_link and not re.match(r"^https?://[^\s/]+", v):
        raise Refuse(131009, "Param %s['link'] must be an http(s) URL." % t)
    if "caption" in obj:
        if t in ("audio", "sticker"):
            raise Refuse(100, "Param %s['caption'] is not a valid parameter for %s." % (t, t),
                         "(#100) Invalid parameter")
        _opt_str({t: obj}, t, "caption", maxlen=1024, code_len=100)
    if t == "document":
        _opt_str({t: obj}, t, "filename", maxlen=240)


def _interactive_header(b, obj, text_only=False):
    hdr = obj.get("header")
    if hdr is None:
        return
    if not isinstance(hdr, dict):
        raise Refuse(100, "Param interactive['header'] must be an object.", "(#100) Invalid parameter")
    ht = hdr.get("type")
    if ht is None:
        _missing("interactive['header']['type']")
    if text_only and ht != "text":
        raise Refuse(131009, "Param interactive['header']['type'] must be \"text\" for a %s."
                     % obj.get("type"))
    if ht == "text":
        _need_str(b, "interactive", "header", "text", maxlen=60)
    elif ht in ("image", "video", "document"):
        if not isinstance(hdr.get(ht), dict):
            _missing("interactive['header']['%s']" % ht)
        _media(hdr[ht], ht)
    else:
        raise Refuse(131009, "Param interactive['header']['type'] is not valid: %s." % json.dumps(ht))


# Reference 15.4 and Meta's Flows / commerce docs: what each richer type
# takes.  header: "any" (text or media), "text" (text only, required for
# product_list), None (not allowed); body: required?; footer: allowed?
RICH_INTERACTIVE = {
    "flow": ("any", True, True),
    "location_request_message": (None, True, False),
    "product": (None, False, True),
    "product_list": ("text", True, True),
    "catalog_message": (None, True, True),
}


def _not_allowed(field, it):
    raise Refuse(100, "Param %s is not a valid parameter for interactive type %s." % (field, it),
                 "(#100) Invalid parameter")


def _rich_interactive(b, obj, it):
    header, body, footer = RICH_INTERACTIVE[it]
    if header is None and "header" in obj:
        _not_allowed("interactive['header']", it)
    if header == "text" and obj.get("header") is None:
        _missing("interactive['header']")
    _interactive_header(b, obj, text_only=header == "text")
    if body:
        _need_str(b, "interactive", "body", "text", maxlen=1024)
    elif obj.get("body") is not None:
        _need_str(b, "interactive", "body", "text", maxlen=1024)
    if not footer and "footer" in obj:
        _not_allowed("interactive['footer']", it)
    if obj.get("footer") is not None:
        _need_str(b, "interactive", "footer", "text", maxlen=60)
    act = obj.get("action")
    if act is None:
        _missing("interactive['action']")
    if not isinstance(act, dict):
        raise Refuse(100, "Param interactive['action'] must be an object.", "(#100) Invalid parameter")
    a = ("interactive", "action")
    if it == "flow":
        if act.get("name") != "flow":
            raise Refuse(131009, "Param interactive['action']['name'] must be \"flow\".")
        p = a + ("parameters",)
        par = act.get("parameters")
        if not isinstance(par, dict):
            _missing(_field(p))
        if par.get("flow_message_version") is None:
            _missing(_field(p + ("flow_message_version",)))
        if par.get("flow_message_version") != "3":
            raise Refuse(131009, "Param %s['flow_message_version'] must be \"3\"." % _field(p))
        has_id, has_name = "flow_id" in par, "flow_name" in par
        if not has_id and not has_name:
            _missing(_field(p + ("flow_id",)))
        if has_id and has_name:
            raise Refuse(131009, "Param %s must contain either 'flow_id' or 'flow_name', not both."
                         % _field(p))
        _need_str(b, *p, "flow_id" if has_id else "flow_name")
        _need_str(b, *p, "flow_cta", maxlen=20)
        _opt_str(b, *p, "flow_token")
        fa = par.get("flow_action", "navigate")
        if fa not in ("navigate", "data_exchange"):
            raise Refuse(131009, "Param %s['flow_action'] must be one of {NAVIGATE, DATA_EXCHANGE} - got %s."
                         % (_field(p), json.dumps(fa)))
        pay = par.get("flow_action_payload")
        if fa == "navigate":
            if not isinstance(pay, dict):
                _missing(_field(p + ("flow_action_payload",)))
            _need_str(b, *p, "flow_action_payload", "screen")
            data = pay.get("data")
            if data is not None and (not isinstance(data, dict) or not data):
                raise Refuse(131009, "Param %s['flow_action_payload']['data'] must be a non-empty object."
                             % _field(p))
        elif pay is not None:
            raise Refuse(131009, "Param %s['flow_action_payload'] is only valid with flow_action navigate."
                         % _field(p))
        mode = par.get("mode")
        if mode is not None and mode not in ("draft", "published"):
            raise Refuse(131009, "Param %s['mode'] must be one of {DRAFT, PUBLISHED}." % _field(p))
    elif it == "location_request_message":
        if act.get("name") != "send_location":
            raise Refuse(131009, "Param interactive['action']['name'] must be \"send_location\".")
    elif it == "product":
        _need_str(b, *a, "catalog_id")
        _need_str(b, *a, "product_retailer_id")
    elif it == "product_list":
        _need_str(b, *a, "catalog_id")
        secs = act.get("sections")
        if secs is None:
            _missing("interactive['action']['sections']")
        if not isinstance(secs, list) or not 1 <= len(secs) <= 10:
            n = len(secs) if isinstance(secs, list) else 0
            raise Refuse(131009, "Invalid sections count in interactive['action']['sections']: %d. "
                         "Min allowed sections: 1, Max allowed sections: 10" % n)
        total = 0
        for i, sec in enumerate(secs):
            sp = a + ("sections", i)
            _need_str(b, *sp, "title", maxlen=24)
            items = _get(b, *sp, "product_items")
            if items is None:
                _missing(_field(sp + ("product_items",)))
            if not isinstance(items, list) or not items:
                raise Refuse(131009, "Param %s['product_items'] must contain at least one item." % _field(sp))
            for j in range(len(items)):
                _need_str(b, *sp, "product_items", j, "product_retailer_id")
            total += len(items)
        if total > 30:
            raise Refuse(131009, "Total product count exceed max allowed count in "
                         "interactive['action']['sections']: %d > 30" % total)
    else:   # catalog_message
        if act.get("name") != "catalog_message":
            raise Refuse(131009, "Param interactive['action']['name'] must be \"catalog_message\".")
        par = act.get("parameters")
        if par is not None:
            if not isinstance(par, dict):
                raise Refuse(100, "Param interactive['action']['parameters'] must be an object.",
                             "(#100) Invalid parameter")
            _opt_str(b, *a, "parameters", "thumbnail_product_retailer_id")


def _interactive(b):
    obj = b["interactive"]
    it = obj.get("type")
    if it is None:
        _missing("interactive['type']")
    if it not in INTERACTIVE_TYPES:
        raise Refuse(100, "Param interactive['type'] must be one of {%s} - got %s."
                     % (", ".join(INTERACTIVE_TYPES), json.dumps(it)), "(#100) Invalid parameter")
    if it == "address_message":
        return
    if it in RICH_INTERACTIVE:
        _rich_interactive(b, obj, it)
        return
    body_max = 4096 if it == "list" else 1024
    _need_str(b, "interactive", "body", "text", maxlen=body_max)
    _interactive_header(b, obj, text_only=it == "list")
    if obj.get("footer") is not None:
        _need_str(b, "interactive", "footer", "text", maxlen=60)
    act = obj.get("action")
    if not isinstance(act, dict):
        _missing("interactive['action']")
    if it == "button":
        btns = act.get("buttons")
        if btns is None:
            _missing("interactive['action']['buttons']")
        if not isinstance(btns, list) or not 1 <= len(btns) <= 3:
            n = len(btns) if isinstance(btns, list) else 0
            raise Refuse(131009, "Invalid buttons count in interactive['action']['buttons']: %d. "
                         "Min allowed buttons: 1, Max allowed buttons: 3" % n)
        ids, titles = set(), set()
        for i, btn in enumerate(btns):
            p = ("interactive", "action", "buttons", i)
            if _get(b, *p, "type") != "reply":
                raise Refuse(131009, "Param %s['type'] must be \"reply\"." % _field(p))
            bid = _need_str(b, *p, "reply", "id", maxlen=256)
            title = _need_str(b, *p, "reply", "title", maxlen=20)
            if bid != bid.strip():
                raise Refuse(131009, "Param %s['reply']['id'] must not have leading or trailing spaces." % _field(p))
            if bid in ids or title in titles:
                raise Refuse(131009, "Param %s['reply'] duplicates the id or title of another button." % _field(p))
            ids.add(bid)
            titles.add(title)
    elif it == "list":
        _need_str(b, "interactive", "action", "button", maxlen=20)
        secs = act.get("sections")
        if secs is None:
            _missing("interactive['action']['sections']")
        if not isinstance(secs, list) or not 1 <= len(secs) <= 10:
            n = len(secs) if isinstance(secs, list) else 0
            raise Refuse(131009, "Invalid sections count in interactive['action']['sections']: %d. "
                         "Min allowed sections: 1, Max allowed sections: 10" % n)
        rows, ids = 0, set()
        for i, sec in enumerate(secs):
            p = ("interactive", "action", "sections", i)
            if len(secs) > 1:
                _need_str(b, *p, "title", maxlen=24)
            else:
                _opt_str(b, *p, "title", maxlen=24)
            srows = _get(b, *p, "rows")
            if srows is None:
                _missing(_field(p + ("rows",)))
            if not isinstance(srows, list) or not srows:
                raise Refuse(131009, "Param %s['rows'] must contain at least one row." % _field(p))
            for j in range(len(srows)):
                r = p + ("rows", j)
                rid = _need_str(b, *r, "id", maxlen=200)
                _need_str(b, *r, "title", maxlen=24)
                _opt_str(b, *r, "description", maxlen=72)
                if rid in ids:
                    raise Refuse(131009, "Param %s['id'] duplicates another row id." % _field(r))
                ids.add(rid)
            rows += len(srows)
        if rows > 10:
            raise Refuse(131009, "Total row count exceed max allowed count in "
                         "interactive['action']['sections']: %d > 10" % rows)
    else:
        if act.get("name") != "cta_url":
            raise Refuse(131009, "Param interactive['action']['name'] must be \"cta_url\".")
        _need_str(b, "interactive", "action", "parameters", "display_text", maxlen=20)
        url = _need_str(b, "interactive", "action", "parameters", "url")
        if not re.match(r"^https?://", url):
            raise Refuse(131009, "Param interactive['action']['parameters']['url'] must be an http(s) URL.")


def parse_multipart(body, ctype):
    """{name: {"headers", "filename", "content_type", "data"}} or None."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype)
    if not m:
        return None
    delim = b"\r\n--" + (m.group(1) or m.group(2)).encode("latin-1")
    chunks = (b"\r\n" + body).split(delim)
    if len(chunks) < 2:
        return None
    parts = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            return None
        hdrs = {}
        for line in head.split(b"\r\n"):
            k, _, v = line.decode("utf-8", "replace").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        params = dict((k.lower(), v[1:-1] if v.startswith('"') else v) for k, v in
                      re.findall(r';\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;]*)', hdrs.get("content-disposition", "")))
        if "name" not in params:
            continue
        parts[params["name"]] = {"headers": hdrs, "filename": params.get("filename"),
                                 "content_type": hdrs.get("content-type"), "data": data}
    return parts


class State:
    def __init__(self, token, app_secret=None, require_proof=False, max_records=200000):
        self.lock = threading.Lock()
        self.max_records = max_records
        self.dropped = 0    # oldest records forgotten to bound memory
        self.token = token
        self.app_secret = app_secret
        self.require_proof = require_proof
        self.records = []
        self.faults = []
        self.delay_ms = 0
        self.media = {}
        self.numbers = {}   # phone-number-id -> its node's fields (GET /{id})
        self.templates = {}  # waba -> [Meta's template objects] (listing, create, delete)
        self.profiles = {}  # phone-number-id -> its business profile's fields
        self.template_counter = itertools.count(1)
        self.number_tokens = {}   # phone-number-id -> the only token it takes
        self.media_ttl = 300
        self.media_url_host = "127.0.0.1"
        self.redirect_host = None
        self.url_key = os.urandom(16)
        self.hang_cancel = threading.Event()
        self.wamid_prefix = os.urandom(3).hex().upper()
        self.counter = itertools.count(1)
        self.media_counter = itertools.count(1)
        self.conn_counter = itertools.count(1)
        self.port = 0

    def new_wamid(self, to):
        tok = ("%s%012X" % (self.wamid_prefix, next(self.counter))).encode()
        to_b = to.encode()[:32]
        raw = b"\x1c\x18" + bytes([len(to_b)]) + to_b + b"\x15\x02\x00\x11\x18\x12" + tok + b"\x00"
        return "wamid." + base64.b64encode(raw).decode()

    def new_media_id(self):
        return str(1011121314160000 + next(self.media_counter))

    def record(self, rec):
        with self.lock:
            self.records.append(rec)
            if len(self.records) > self.max_records:
                n = max(1, self.max_records // 10)
                del self.records[:n]
                self.dropped += n

    def take_fault(self, rec):
        with self.lock:
            for f in self.faults:
                if fault_matches(f.get("match"), rec):
                    if f["times"] > 0:
                        f["times"] -= 1
                        if f["times"] == 0:
                            self.faults.remove(f)
                    return f
        return None

    def url_hash(self, media_id, exp):
        mac = hmac.new(self.url_key, ("%s:%d" % (media_id, exp)).encode(), hashlib.sha256).digest()
        return "AT" + base64.urlsafe_b64encode(mac[:12]).decode()


def fault_matches(match, rec):
    if match is None:
        return rec["method"] == "POST" and rec["path"].endswith("/messages")
    for k, want in match.items():
        if k == "path":
            if want not in rec["path"]:
                return False
        elif k == "method":
            if rec["method"] != str(want).upper():
                return False
        else:
            v = rec["json"]
            for p in k.split("."):
                v = v.get(p) if isinstance(v, dict) else None
            if v is None or (v != want and str(v) != str(want)):
                return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    state = None   # set by serve()

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.conn_id = next(self.state.conn_counter)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = lambda self: self.dispatch()

    # I/O
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline(8)
                if len(out) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def send(self, status, body, ctype="application/json; charset=UTF-8", extra=()):
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: " + ctype,
                "Content-Length: %d" % len(body)]
        head.extend("%s: %s" % kv for kv in extra)
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += body
        self.wfile.write(data)

    def dispatch(self):
        t = time.time()
        st = self.state
        try:
            raw = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(400, b"bad request body", "text/plain")
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith(CONTROL):
            return self.control(url, raw)
        rec = {"method": self.command, "path": url.path,
               "query": dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": raw.decode("utf-8", "replace"), "json": None, "status": None,
               "t": t, "reply": None, "conn": self.conn_id,
               "peer": "%s:%d" % self.client_address[:2]}
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            rec["body_b64"] = base64.b64encode(raw).decode()
        if raw and "json" in rec["headers"].get("content-type", ""):
            try:
                rec["json"] = json.loads(raw)
            except ValueError:
                pass
        fault = st.take_fault(rec)
        delay = st.delay_ms / 1000.0
        if fault:
            rec["fault"] = {k: v for k, v in fault.items() if k != "times"}
            delay += fault.get("delay_ms", 0) / 1000.0
        if fault and (fault.get("drop") or fault.get("hang_s")):
            rec["status"] = 0
            st.record(rec)
            cancel = st.hang_cancel
            if fault.get("hang_s"):
                cancel.wait(fault["hang_s"])
            elif delay:
                cancel.wait(delay)
            self.close_connection = True
            if fault.get("drop") == "reset":
                # close before socketserver's shutdown(SHUT_WR) could send a FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            return
        if fault and (fault.get("code") is not None or fault.get("http") or fault.get("raw_body") is not None):
            status, body, ctype, extra = self.fault_answer(fault, url.path)
        else:
            self.fault = fault
            status, body, ctype, extra = self.route(rec, url, raw)
        rec["status"] = status
        if ctype.startswith("application/json"):
            try:
                rec["reply"] = json.loads(body)
            except ValueError:
                pass
        st.record(rec)
        if delay:
            st.hang_cancel.wait(delay)
        self.send(status, body, ctype, extra)

    def fault_answer(self, f, path):
        code, status = f.get("code"), f.get("http")
        if f.get("raw_body") is not None:
            body = f["raw_body"].encode() if isinstance(f["raw_body"], str) else f["raw_body"]
            ctype = ("application/json; charset=UTF-8" if body.lstrip().startswith(b"{")
                     else "text/html; charset=utf-8")
            return status or (code_http(code) if code is not None else 502), body, ctype, ()
        if code is None:
            phrase = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "Error"
            body = ("<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center>"
                    "</body></html>" % (status, phrase, status, phrase)).encode()
            return status, body, "text/html; charset=utf-8", ()
        st, body = graph_error(int(code))
        return status or st, body, "application/json; charset=UTF-8", self.graph_headers(path, st)

    def graph_headers(self, path, status=200):
        ver = path.split("/")[1] if path.count("/") >= 2 else ""
        h = [("facebook-api-version", ver if VERSION_RE.match(ver) else "v23.0"),
             ("x-fb-request-id", fbtrace()), ("x-fb-trace-id", fbtrace()[:11]),
             ("Cache-Control", "private, no-cache, no-store, must-revalidate"),
             ("Access-Control-Allow-Origin", "*")]
        if status == 401:
            h.append(("WWW-Authenticate", 'OAuth "Facebook Platform" "invalid_token" '
                      '"Invalid OAuth access token - Cannot parse access token"'))
        return h

    def error(self, path, code, details=None, message=None, etype="OAuthException", subcode=None):
        status, body = graph_error(code, details, message, etype, subcode)
        return status, body, "application/json; charset=UTF-8", self.graph_headers(path, status)

    def ok(self, path, obj):
        return 200, meta_json(obj), "application/json; charset=UTF-8", self.graph_headers(path)

    def unsupported(self, path, method, oid=None):
        oid = oid or path.strip("/").split("/")[-1]
        msg = ("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to "
               "missing permissions, or does not support this operation. Please read the Graph API "
               "documentation at https://developers.facebook.com/docs/graph-api" % (method.lower(), oid))
        return self.error(path, 100, message=msg, etype="GraphMethodException", subcode=33)

    def authorised(self, rec, parts=()):
        st = self.state
        auth = rec["headers"].get("authorization", "")
        tok = auth[7:] if auth[:7].lower() == "bearer " else rec["query"].get("access_token", "")
        # A number with a token of its own (set_number(..., token=)) takes
        # only that one on its node, its messages and media, and for the
        # media ids asked with ?phone_number_id= of it.
        pnid = parts[1] if len(parts) >= 2 else ""
        with st.lock:
            want = st.number_tokens.get(pnid)
            if want is None:
                want = st.number_tokens.get(rec["query"].get("phone_number_id", ""))
        if want is None:
            want = st.token
        return tok != "" and hmac.compare_digest(tok.encode(), want.encode())

    def route(self, rec, url, raw):
        st, path, m = self.state, url.path, self.command
        parts = path.strip("/").split("/")
        if parts[0] == "lookaside" and len(parts) == 2 and m in ("GET", "HEAD"):
            return self.lookaside(rec, parts[1])
        if not VERSION_RE.match(parts[0]) or not 2 <= len(parts) <= 3 or not parts[1]:
            return self.error(path, 100, message="Unknown path components: %s" % path,
                              details="Unknown path components: %s" % path)
        if not self.authorised(rec, parts):
            if not rec["headers"].get("authorization") and "access_token" not in rec["query"]:
                msg = "An access token is required to request this resource."
            else:
                msg = "Invalid OAuth access token - Cannot parse access token"
            return self.error(path, 190, message=msg)
        if st.app_secret:
            proof = rec["query"].get("appsecret_proof") or _get(rec["json"], "appsecret_proof")
            want = hmac.new(st.app_secret.encode(), st.token.encode(), hashlib.sha256).hexdigest()
            if proof is None and st.require_proof:
                return self.error(path, 100, message="API calls from the server require an appsecret_proof argument",
                                  etype="GraphMethodException")
            if proof is not None and not hmac.compare_digest(str(proof).encode(), want.encode()):
                return self.error(path, 100, message="Invalid appsecret_proof provided in the API argument",
                                  etype="GraphMethodException")
        if len(parts) == 3 and parts[1].isdigit() and (parts[2], m) in ACCOUNT_CALLS:
            return ACCOUNT_CALLS[(parts[2], m)](self, rec, parts[1])
        if len(parts) == 3 and parts[2] == "message_templates" and m == "GET" and parts[1].isdigit():
            return self.list_templates(rec, path, parts[1])
        if len(parts) == 3:
            if m != "POST" or parts[2] not in ("messages", "media") or not parts[1].isdigit():
                return self.unsupported(path, m, parts[1])
            if parts[2] == "messages":
                return self.send_message(rec, raw)
            return self.upload(rec, raw, parts[1])
        mid = parts[1]
        with st.lock:
            num = st.numbers.get(mid)
            med = st.media.get(mid)
        if num is not None and m == "GET":
            # The phone number node: the fields asked for, and its id.
            want = [f for f in rec["query"].get("fields", "").split(",") if f]
            out = {k: v for k, v in num.items() if not want or k in want}
            out["id"] = mid
            return self.ok(path, out)
        pnid = rec["query"].get("phone_number_id")
        if med is None or (pnid and med.get("phone_number_id") and pnid != med["phone_number_id"]):
            return self.unsupported(path, m, mid)
        if m == "GET":
            exp = int(time.time()) + st.media_ttl
            q = urllib.parse.urlencode({"mid": mid, "ext": exp, "hash": st.url_hash(mid, exp)})
            return self.ok(path, {"url": "http://%s:%d/lookaside/%s?%s" % (st.media_url_host, st.port,
                                                                            mid, q),
                                  "mime_type": med["mime"],
                                  "sha256": med.get("claim_sha256") or med["sha256"],
                                  "file_size": med.get("claim_size", len(med["data"])), "id": mid,
                                  "messaging_product": "whatsapp"})
        if m == "DELETE":
            with st.lock:
                st.media.pop(mid, None)
            return self.ok(path, {"success": True})
        return self.unsupported(path, m, mid)

    def list_templates(self, rec, path, waba):
        """GET /{v}/{waba}/message_templates (reference 15.2): the WABA's
        templates set by set_templates(), `limit` a page (Meta's default
        25), the `fields` asked for (and id), cursor-paged: cursors.before
        and .after always, paging.next only when more follow."""
        st, q = self.state, rec["query"]
        with st.lock:
            rows = st.templates.get(waba)
        if rows is None:
            return self.unsupported(path, "GET", waba)
        try:
            limit = int(q.get("limit", "25"))
            start = int(base64.b64decode(q["after"]).decode()[6:]) if q.get("after") else 0
        except (ValueError, UnicodeDecodeError):
            return self.error(path, 100, message="Invalid parameter", details="Invalid limit or cursor")
        if limit < 1 or start < 0 or start > len(rows):
            return self.error(path, 100, message="Invalid parameter", details="Invalid limit or cursor")
        want = [f for f in q.get("fields", "").split(",") if f] or ["name", "language", "status",
                                                                      "category", "components"]
        page = [dict({k: v for k, v in t.items() if k in want}, id=t.get("id")) for t in rows[start:start + limit]]
        end = start + len(page)
        cur = lambda i: base64.b64encode(b"index:%d" % i).decode()
        out = {"data": page, "paging": {"cursors": {"before": cur(start), "after": cur(end)}}}
        if end < len(rows):
            nq = dict(q, after=cur(end))
            out["paging"]["next"] = "http://127.0.0.1:%d%s?%s" % (st.port, path, urllib.parse.urlencode(nq))
        if start > 0:
            pq = dict(q, before=cur(start))
            pq.pop("after", None)
            out["paging"]["previous"] = "http://127.0.0.1:%d%s?%s" % (st.port, path,
                                                                      urllib.parse.urlencode(pq))
        return self.ok(path, out)

    def send_message(self, rec, raw):
        path = rec["path"]
        ctype = rec["headers"].get("content-type", "")
        if not ctype.split(";")[0].strip().lower() == "application/json":
            return self.error(path, 100, details="Content-Type must be application/json, got %r." % ctype)
        if rec["json"] is None:
            return self.error(path, 100, details="The request body is not valid JSON.")
        try:
            kind, contact = validate_send(rec["json"])
        except Refuse as e:
            return self.error(path, e.code, details=e.details, message=e.message)
        if kind == "read":
            return self.ok(path, {"success": True})
        f = self.fault or {}
        msg = {"id": f.get("wamid") or self.state.new_wamid(contact.get("wa_id") or contact.get("user_id"))}
        if f.get("message_status"):
            msg["message_status"] = f["message_status"]
        elif rec["json"].get("type") == "template":
            msg["message_status"] = "accepted"
        return self.ok(path, {"messaging_product": "whatsapp", "contacts": [contact], "messages": [msg]})

    def upload(self, rec, raw, pnid):
        path = rec["path"]
        ctype = rec["headers"].get("content-type", "")
        parts = parse_multipart(raw, ctype) if ctype.lower().startswith("multipart/form-data") else None
        if parts is None:
            return self.error(path, 100, details="Content-Type must be multipart/form-data with a boundary.")
        for name in ("messaging_product", "type", "file"):
            if name not in parts:
                return self.error(path, 100, message="(#100) The parameter %s is required." % name,
                                  details="The parameter %s is required." % name)
        mp = parts["messaging_product"]["data"].decode("utf-8", "replace")
        if mp != "whatsapp":
            return self.error(path, 100, message="(#100) Param messaging_product must be one of {WHATSAPP} - got %s."
                              % json.dumps(mp), details="Param messaging_product must be \"whatsapp\".")
        f = parts["file"]
        if f["filename"] is None:
            return self.error(path, 100, message="(#100) Param file must be a file upload.",
                              details="Param file must be a file part with a filename.")
        mime = parts["type"]["data"].decode("utf-8", "replace").strip()
        base = mime.split(";")[0].strip().lower()
        if base not in UPLOAD_MIME:
            return self.error(path, 100, details="Param type: unsupported MIME type %r." % mime)
        data = f["data"]
        if not data:
            return self.error(path, 131053, details="The uploaded file is empty.")
        if len(data) > UPLOAD_MIME[base]:
            return self.error(path, 131053, details="The file is %d bytes; at most %d are allowed for %s."
                              % (len(data), UPLOAD_MIME[base], base))
        digest = hashlib.sha256(data).hexdigest()
        rec["upload"] = {"type": mime, "filename": f["filename"], "content_type": f["content_type"],
                         "size": len(data), "sha256": digest,
                         "data_b64": base64.b64encode(data).decode()}
        mid = self.state.new_media_id()
        with self.state.lock:
            self.state.media[mid] = {"data": data, "mime": mime, "sha256": digest,
                                     "phone_number_id": pnid, "filename": f["filename"]}
        return self.ok(path, {"id": mid})

    def lookaside(self, rec, mid):
        st = self.state
        if st.redirect_host and "hop" not in rec["query"]:
            where = "http://%s:%d%s&hop=1" % (st.redirect_host, st.port, self.path)
            return 302, b"", "text/html; charset=utf-8", [("Location", where)]
        if not self.authorised(rec):
            return 401, HTML_401, "text/html; charset=utf-8", ()
        with st.lock:
            med = st.media.get(mid)
        try:
            exp = int(rec["query"].get("ext", ""))
        except ValueError:
            exp = -1
        good = hmac.compare_digest(rec["query"].get("hash", "").encode(), st.url_hash(mid, exp).encode())
        if med is None or not good or time.time() > exp:
            return 404, HTML_404, "text/html; charset=utf-8", ()
        extra = [("Content-Disposition", "attachment; filename=%s" % (med.get("filename") or mid)),
                 ("Cache-Control", "private, max-age=300")]
        return 200, med["data"], med["mime"], extra

    # Control
    def control(self, url, raw):
        st, what = self.state, url.path[len(CONTROL):]
        try:
            arg = json.loads(raw) if raw else {}
        except ValueError:
            arg = None
        if not isinstance(arg, dict):
            return self.send(400, b'{"error":"body must be a JSON object"}', "application/json")
        out = {"ok": True}
        if what == "health":
            out["port"] = st.port
        elif what == "requests":
            q = dict(urllib.parse.parse_qsl(url.query))
            prefix, contains = q.get("prefix", ""), q.get("contains")
            with st.lock:
                recs = st.records[max(0, int(q.get("since", 0)) - st.dropped):]
                total = st.dropped + len(st.records)
            out = {"total": total, "requests": [r for r in recs if r["path"].startswith(prefix) and
                                                (contains is None or contains in r["path"])]}
        elif what == "inject":
            f = {k: arg[k] for k in ("code", "http", "match", "raw_body", "wamid", "message_status")
                 if arg.get(k) is not None}
            f.update({k: arg[k] for k in ("delay_ms", "drop", "hang_s") if arg.get(k)})
            f["times"] = int(arg.get("times", 1))
            if f["times"] == 0 or f["times"] < -1:
                return self.send(400, b'{"error":"times must be >= 1 or -1"}', "application/json")
            with st.lock:
                st.faults.append(f)
                out["queued"] = len(st.faults)
        elif what == "count":
            with st.lock:
                out["total"] = st.dropped + len(st.records)
        elif what == "faults":
            with st.lock:
                out["faults"] = [dict(f) for f in st.faults]
        elif what == "delay":
            st.delay_ms = max(0, int(arg.get("ms", 0)))
        elif what == "media":
            data = base64.b64decode(arg["data_b64"])
            med = {"data": data, "mime": arg["mime"], "sha256": hashlib.sha256(data).hexdigest(),
                   "phone_number_id": arg.get("phone_number_id"), "filename": arg.get("filename")}
            if arg.get("sha256"):
                med["claim_sha256"] = str(arg["sha256"])
            if arg.get("file_size") is not None:
                med["claim_size"] = int(arg["file_size"])
            with st.lock:
                st.media[str(arg["id"])] = med
            out = {"id": str(arg["id"]), "mime_type": med["mime"], "sha256": med["sha256"],
                   "file_size": len(data)}
        elif what == "config":
            if "token" in arg:
                st.token = str(arg["token"])
            if "media_url_ttl_s" in arg:
                st.media_ttl = int(arg["media_url_ttl_s"])
            if "require_appsecret_proof" in arg:
                st.require_proof = bool(arg["require_appsecret_proof"])
            if "media_url_host" in arg:
                st.media_url_host = str(arg["media_url_host"] or "127.0.0.1")
            if "redirect_host" in arg:
                st.redirect_host = arg["redirect_host"] or None
        elif what == "number":
            pnid = str(arg.get("id", ""))
            if not pnid.isdigit():
                return self.send(400, b'{"error":"id must be digits"}', "application/json")
            with st.lock:
                if arg.get("fields") is None:
                    st.numbers.pop(pnid, None)
                else:
                    st.numbers[pnid] = dict(arg["fields"])
                if arg.get("token"):
                    st.number_tokens[pnid] = str(arg["token"])
                else:
                    st.number_tokens.pop(pnid, None)
        elif what == "profile":
            pnid = str(arg.get("id", ""))
            if not pnid.isdigit() or not isinstance(arg.get("fields"), dict):
                return self.send(400, b'{"error":"id must be digits, fields an object"}', "application/json")
            with st.lock:
                st.profiles[pnid] = dict(arg["fields"])
        elif what == "templates":
            waba = str(arg.get("waba", ""))
            if not waba.isdigit():
                return self.send(400, b'{"error":"waba must be digits"}', "application/json")
            with st.lock:
                if arg.get("templates") is None:
                    st.templates.pop(waba, None)
                else:
                    st.templates[waba] = [dict(t) for t in arg["templates"]]
        elif what == "reset":
            with st.lock:
                st.templates = {}
                st.records = []
                st.dropped = 0
                st.faults = []
                st.numbers = {}
                st.number_tokens = {}
                st.profiles = {}
                st.delay_ms = 0
                st.media_url_host = "127.0.0.1"
                st.redirect_host = None
                st.hang_cancel.set()
                st.hang_cancel = threading.Event()
        else:
            return self.send(404, b'{"error":"unknown control endpoint"}', "application/json")
        self.send(200, json.dumps(out).encode(), "application/json")


# Account side (reference 15.2, 15.3): template creation and deletion,
# the business profile.  Meta's checks as far as the reference and
# Meta's docs say; the error subcodes are as client libraries report them
# (2388024 duplicate name and language; 2388043 a variable without an
# example is [Uncertain]).
TEMPLATE_NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
TEMPLATE_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PROFILE_VERTICALS = ("UNDEFINED", "OTHER", "AUTO", "BEAUTY", "APPAREL", "EDU", "ENTERTAIN",
                     "EVENT_PLAN", "FINANCE", "GROCERY", "GOVT", "HOTEL", "HEALTH", "NONPROFIT",
                     "PROF_SERVICES", "RETAIL", "TRAVEL", "RESTAURANT", "NOT_A_BIZ")
PROFILE_FIELDS = ("about", "address", "description", "email", "profile_picture_url", "websites",
                  "vertical")


def _template_refuse(h, path, details, subcode=None, title=None, user_msg=None):
    status, body = graph_error(100, details=details)
    err = json.loads(body)["error"]
    if subcode is not None:
        err["error_subcode"] = subcode
    if title:
        err["error_user_title"] = title
        err["error_user_msg"] = user_msg or details
    body = meta_json({"error": err})
    return status, body, "application/json; charset=UTF-8", h.graph_headers(path, status)


def template_create(h, rec, waba):
    st, path, b = h.state, rec["path"], rec["json"]
    if not isinstance(b, dict):
        return h.error(path, 100, details="The request body must be a JSON object.")
    name, lang, cat = b.get("name"), b.get("language"), b.get("category")
    if not isinstance(name, str) or not TEMPLATE_NAME_RE.match(name):
        return _template_refuse(h, path, "Param name must be 1 to 512 of a-z, 0-9 and _.")
    if not isinstance(lang, str) or not re.match(r"^[a-z]{2,3}(_[A-Z]{2})?$", lang):
        return _template_refuse(h, path, "Param language must be a language code such as en_US.")
    if cat not in TEMPLATE_CATEGORIES:
        return _template_refuse(h, path, "Param category must be one of {%s}." % ", ".join(TEMPLATE_CATEGORIES))
    comps = b.get("components")
    if not isinstance(comps, list) or not any(isinstance(c, dict) and c.get("type") == "BODY" for c in comps):
        return _template_refuse(h, path, "Param components must hold a BODY component.")
    for c in comps:
        text = c.get("text") if isinstance(c, dict) else None
        if isinstance(text, str) and re.search(r"\{\{[^}]+\}\}", text) and not c.get("example"):
            return _template_refuse(h, path, "A variable of %s has no example." % c.get("type"), 2388043,
                                    "Message template has no example",
                                    "Add a sample value for every variable in the template.")
    with st.lock:
        have = st.templates.setdefault(waba, [])
        if any(t.get("name") == name and t.get("language") == lang for t in have):
            dup = True
        else:
            dup = False
            tid = str(1500000000000000 + next(st.template_counter))
            have.append({"name": name, "language": lang, "status": "PENDING", "category": cat,
                         "components": comps, "parameter_format": b.get("parameter_format", "POSITIONAL"),
                         "id": tid})
    if dup:
        return _template_refuse(h, path, "Content in this language already exists.", 2388024,
                                "Message template language already exists",
                                "There is already content for this template in this language. "
                                "Create a new template, or delete this one first.")
    return h.ok(path, {"id": tid, "status": "PENDING", "category": cat})


def template_delete(h, rec, waba):
    st, path = h.state, rec["path"]
    name, hsm = rec["query"].get("name"), rec["query"].get("hsm_id")
    if not name:
        return h.error(path, 100, details="The parameter name is required.")
    with st.lock:
        have = st.templates.get(waba, [])
        gone = [t for t in have if t.get("name") == name and (hsm is None or t.get("id") == hsm)]
        st.templates[waba] = [t for t in have if t not in gone]
    if not gone:
        return _template_refuse(h, path, "Message template %r was not found." % name)
    return h.ok(path, {"success": True})


def profile_get(h, rec, pnid):
    st = h.state
    want = [f for f in rec["query"].get("fields", "").split(",") if f] or list(PROFILE_FIELDS)
    with st.lock:
        prof = dict(st.profiles.get(pnid, {}))
    out = {k: v for k, v in prof.items() if k in want}
    out["messaging_product"] = "whatsapp"
    return h.ok(rec["path"], {"data": [out]})


def profile_set(h, rec, pnid):
    st, path, b = h.state, rec["path"], rec["json"]
    if not isinstance(b, dict) or b.get("messaging_product") != "whatsapp":
        return h.error(path, 100, details="The parameter messaging_product is required.")
    limits = {"about": (1, 139), "address": (0, 256), "description": (0, 512), "email": (0, 128)}
    for k, v in b.items():
        if k == "messaging_product":
            continue
        if k in limits:
            lo, hi = limits[k]
            if not isinstance(v, str) or not lo <= len(v) <= hi:
                return h.error(path, 100, details="Param %s must be %d to %d characters long." % (k, lo, hi))
        elif k == "websites":
            if (not isinstance(v, list) or len(v) > 2 or
                    any(not isinstance(w, str) or len(w) > 256 or not re.match(r"^https?://\S+$", w) for w in v)):
                return h.error(path, 100, details="Param websites must be at most 2 http(s) URLs of 256.")
        elif k == "vertical":
            if v not in PROFILE_VERTICALS:
                return h.error(path, 100, details="Param vertical must be one of {%s}." % ", ".join(PROFILE_VERTICALS))
        else:
            return h.error(path, 100, details="Param %s is not a business profile field." % k)
    with st.lock:
        prof = st.profiles.setdefault(pnid, {})
        prof.update({k: v for k, v in b.items() if k != "messaging_product"})
    return h.ok(path, {"success": True})


# (node kind, method) -> handler(handler, record, node id)
ACCOUNT_CALLS = {
    ("message_templates", "POST"): template_create,
    ("message_templates", "DELETE"): template_delete,
    ("whatsapp_business_profile", "GET"): profile_get,
    ("whatsapp_business_profile", "POST"): profile_set,
}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            super().handle_error(request, client_address)


def serve(port, token, app_secret=None, require_proof=False, portfile=None, watch_parent=False,
          max_records=200000):
    state = State(token, app_secret, require_proof, max_records)
    handler = type("BoundHandler", (Handler,), {"state": state})
    srv = Server(("127.0.0.1", port), handler)
    state.port = srv.server_address[1]
    if portfile:
        tmp = portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % state.port)
        os.replace(tmp, portfile)
    print(state.port, flush=True)
    if watch_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.3)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


# Client side, used by the tests.

def sign(body, secret):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


DISPLAY = {"200300400500600": ("100200300400500", "15550001111"),
           "200300400500777": ("100200300400999", "15550004444")}


def status_webhook(wamid, status, recipient="15550002222", phone_number_id="200300400500600",
                   timestamp=None, biz_opaque=None, error_code=None, pricing_category="service"):
    """The exact bytes of a status webhook in Meta's shape (fixtures
    webhooks/status_*.json), serialised like Meta (ASCII, \\/)."""
    waba, display = DISPLAY.get(phone_number_id, ("100200300400500", "15550001111"))
    st = {"id": wamid, "status": status,
          "timestamp": str(int(timestamp if timestamp is not None else time.time()))}
    if BSUID_RE.match(recipient):
        st["recipient_user_id"] = recipient
    else:
        st["recipient_id"] = recipient
    if biz_opaque is not None:
        st["biz_opaque_callback_data"] = biz_opaque
    if status in ("sent", "delivered"):
        free = pricing_category == "service"
        st["pricing"] = {"billable": not free, "pricing_model": "PMP",
                         "type": "free_customer_service" if free else "regular",
                         "category": pricing_category}
    if status == "failed" or error_code is not None:
        code = 131000 if error_code is None else int(error_code)
        title = code_title(code)
        det = CODES[code][2] if code in CODES else title
        if code in FIXTURE_FOR_CODE:
            det = json.loads(load_fixture(FIXTURE_FOR_CODE[code][0]))["error"].get(
                "error_data", {}).get("details", title)
        st["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": det},
                         "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]
    doc = {"object": "whatsapp_business_account",
           "entry": [{"id": waba, "changes": [{"value": {
               "messaging_product": "whatsapp",
               "metadata": {"display_phone_number": display, "phone_number_id": phone_number_id},
               "statuses": [st]}, "field": "messages"}]}]}
    return meta_json(doc)


class FakeGraph:
    """Starts fake_graph.py as a subprocess on a free loopback port and
    drives it through its control endpoints."""

    def __init__(self, token="test-token", app_secret=None, require_appsecret_proof=False, timeout=10,
                 max_records=200000):
        self.token = token
        self.app_secret = app_secret
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-graph-")
        portfile = os.path.join(self._tmp.name, "port")
        self._log = open(os.path.join(self._tmp.name, "log"), "w+b")
        cmd = [sys.executable, os.path.abspath(__file__), "--port", "0", "--token", token,
               "--portfile", portfile, "--watch-parent", "--max-records", str(max_records)]
        if app_secret:
            cmd += ["--app-secret", app_secret]
        if require_appsecret_proof:
            cmd.append("--require-appsecret-proof")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.port = None
        self.url = None
        self.last_webhook = None
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with open(portfile) as f:
                    self.port = int(f.read())
                self.url = "http://127.0.0.1:%d" % self.port
                if self._ctl("GET", "health")["port"] == self.port:
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        self.close()
        raise RuntimeError("fake_graph did not start:\n" + self.logtext())

    def logtext(self):
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def _ctl(self, method, what, arg=None, query=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            path = CONTROL + what + ("?" + urllib.parse.urlencode(query) if query else "")
            body = json.dumps(arg).encode() if arg is not None else None
            c.request(method, path, body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            out = json.loads(r.read())
            if r.status != 200:
                raise RuntimeError("fake_graph %s: %s" % (what, out))
            return out
        finally:
            c.close()

    def requests(self, path_prefix=None, contains=None):
        """Recorded Graph requests in arrival order: method, path, query,
        headers (lower-case keys), body (str), json, status (0 = dropped or
        hung), t, reply, conn (TCP connection number), peer, fault (if one
        applied), body_b64 (non-UTF-8 bodies), upload (media uploads)."""
        q = {}
        if path_prefix:
            q["prefix"] = path_prefix
        if contains:
            q["contains"] = contains
        return self._ctl("GET", "requests", query=q)["requests"]

    def count(self):
        """How many Graph requests arrived since the last reset (cheap; for
        benchmarks)."""
        return self._ctl("GET", "count")["total"]

    def wait_requests(self, n, path_prefix=None, timeout=10, contains=None):
        deadline = time.time() + timeout
        while True:
            got = self.requests(path_prefix, contains)
            if len(got) >= n:
                return got
            if time.time() > deadline:
                raise AssertionError("fake_graph: %d of %d requests (prefix %r) after %ss"
                                     % (len(got), n, path_prefix, timeout))
            time.sleep(0.02)

    def inject(self, code=None, http=None, times=1, match=None, delay_ms=0, drop=False, hang_s=0,
               raw_body=None, wamid=None, message_status=None):
        """Queues a fault for the next `times` matching Graph requests
        (times=-1: until reset). The first queued fault that matches a request
        applies. match: None = any POST .../messages; {} = any request;
        {"path": "/media"} substring of the path; {"method": "GET"};
        any other key (dots for nesting, e.g. "text.body") is compared with
        the request's JSON body.
          code=N           Graph error N (fixture file if one exists, else
                           built with the status of the reference's table)
          http=S           status override; without code: an HTML 5xx page
          raw_body=B       this body instead (text/html unless it starts "{")
          delay_ms=D       answer (normally or with the fault) after D ms
          drop=True        read the request, close without answering;
          drop="reset"     the same with a TCP RST
          hang_s=N         read the request, answer nothing for N s, close
          wamid=W          a send that passes validation is accepted with
                           this wamid instead of a new one
          message_status=S messages[0].message_status in that reply (e.g.
                           "held_for_quality_assessment")
        Note: libcurl silently resends a request whose reused keep-alive
        connection is dropped without a byte of answer ("Connection died,
        retrying a fresh connect"), so a drop on a reused connection shows
        up as two recorded requests (status 0, then the next answer)."""
        if (code is None and not http and raw_body is None and not delay_ms and not drop and not hang_s
                and wamid is None and message_status is None):
            raise ValueError("inject: nothing to inject")
        f = {"code": code, "http": http, "times": times, "match": match, "delay_ms": delay_ms,
             "drop": drop or None, "hang_s": hang_s, "raw_body": raw_body, "wamid": wamid,
             "message_status": message_status}
        return self._ctl("POST", "inject", f)["queued"]

    def faults(self):
        return self._ctl("GET", "faults")["faults"]

    def set_delay(self, ms):
        self._ctl("POST", "delay", {"ms": ms})

    def set_token(self, token):
        self.token = token
        self._ctl("POST", "config", {"token": token})

    def set_number(self, phone_number_id, fields=None, token=None):
        """Makes GET /{version}/{phone_number_id} answer fields (a dict of
        the phone number node's fields); None forgets the number, which
        then gets Meta's 100/33 "does not exist".  token: the number has a
        token of its own: its node, /{id}/messages, /{id}/media and media
        asked with ?phone_number_id={id} take that one only (another is
        HTTP 401 code 190); without, the fake's single token serves it."""
        self._ctl("POST", "number", {"id": phone_number_id, "fields": fields, "token": token})

    def set_profile(self, phone_number_id, fields):
        """What GET /{version}/{phone_number_id}/whatsapp_business_profile
        answers (a dict of profile fields) until a POST changes it."""
        self._ctl("POST", "profile", {"id": phone_number_id, "fields": fields})
    def set_templates(self, waba, templates):
        """Makes GET /{version}/{waba}/message_templates list templates (a
        list of dicts in Meta's shape: id, name, language, status,
        category, components, quality_score, ...), paged by cursor; None
        forgets the WABA (Meta's 100/33 "does not exist")."""
        self._ctl("POST", "templates", {"waba": str(waba), "templates": templates})

    def set_media_url_ttl(self, seconds):
        self._ctl("POST", "config", {"media_url_ttl_s": seconds})

    def set_media_hosts(self, media_url_host=None, redirect_host=None):
        """Where media-info urls point (None: 127.0.0.1) and where
        /lookaside/ redirects to (None: nowhere)."""
        self._ctl("POST", "config", {"media_url_host": media_url_host, "redirect_host": redirect_host})

    def add_media(self, media_id, data, mime, phone_number_id=None, filename=None, claim_sha256=None,
                  claim_size=None):
        """claim_sha256 / claim_size: what the media-info call reports
        instead of the true digest and size."""
        return self._ctl("POST", "media", {"id": str(media_id), "data_b64": base64.b64encode(data).decode(),
                                           "mime": mime, "phone_number_id": phone_number_id,
                                           "filename": filename, "sha256": claim_sha256,
                                           "file_size": claim_size})

    def reset(self):
        self._ctl("POST", "reset", {})

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def post_status(self, gateway_base_url, app_secret, wamid, status, recipient="15550002222",
                    phone_number_id="200300400500600", timestamp=None, biz_opaque=None, error_code=None):
        """Builds a status webhook like Meta's, signs the exact bytes with
        X-Hub-Signature-256 (app_secret None: the one given to FakeGraph),
        POSTs it to gateway_base_url + "/api/whatsapp/webhook" and returns
        the HTTP status. self.last_webhook = (body, status, reply body)."""
        secret = app_secret if app_secret is not None else self.app_secret
        if not secret:
            raise ValueError("post_status: no app secret")
        body = status_webhook(wamid, status, recipient, phone_number_id, timestamp, biz_opaque, error_code)
        u = urllib.parse.urlsplit(gateway_base_url.rstrip("/"))
        conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        c = conn_cls(u.hostname, u.port, timeout=10)
        try:
            c.request("POST", u.path + "/api/whatsapp/webhook", body=body, headers={
                "Content-Type": "application/json", "User-Agent": "facebookexternalua",
                "X-Hub-Signature-256": sign(body, secret),
                "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()})
            r = c.getresponse()
            self.last_webhook = (body, r.status, r.read())
            return r.status
        finally:
            c.close()


def main():
    ap = argparse.ArgumentParser(description="Fake WhatsApp Cloud API (Graph) server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", required=True)
    ap.add_argument("--app-secret")
    ap.add_argument("--require-appsecret-proof", action="store_true")
    ap.add_argument("--portfile")
    ap.add_argument("--watch-parent", action="store_true", help="exit when the parent process dies")
    ap.add_argument("--max-records", type=int, default=200000,
                    help="keep at most this many recorded requests (oldest forgotten first)")
    a = ap.parse_args()
    serve(a.port, a.token, a.app_secret, a.require_appsecret_proof, a.portfile, a.watch_parent,
          max(10, a.max_records))


if __name__ == "__main__":
    main()
