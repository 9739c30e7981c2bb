"""A local stand-in for Zocdoc's partner API, serving an invented therapy practice.

It follows Zocdoc's OpenAPI description v1.176 for the endpoints sched-tui uses:

- ``POST /oauth/token``: OAuth2 client credentials (form fields ``grant_type``,
  ``client_id``, ``client_secret``); tokens expire after ``token_ttl_s``.
- ``GET /v1/reference/npi``, ``GET /v1/providers?npis=`` (at most 50),
  ``GET /v1/provider_locations`` and ``GET /v1/visit_reasons``.
- ``GET /v1/provider_locations/availability``: at most 50 provider location ids
  and at most 31 days per call, otherwise 400 with an ErrorResult body.
- ``GET /v1/appointments`` (``page`` 0 to 10, ``page_size`` 1 to 100, at most
  1,000 results; filters ``provider_ids``, ``location_ids``, ``practice_ids``,
  ``statuses``, ``developer_patient_id``, ``start_time_utc_min``/``_max``,
  ``created_time_utc_min``/``_max``, ``last_modified_time_utc_min``/``_max``),
  ``GET /v1/appointments/{appointment_id}``.
- ``POST /v1/appointments``, ``POST /v1/appointments/cancel`` and
  ``POST /v1/appointments/reschedule``. A repeated ``Idempotency-Key`` header on
  a booking returns the first appointment and books nothing; Zocdoc's
  description does not define this header, the sandbox adds it.

Visit reasons carry a ``duration_minutes`` field that Zocdoc's VisitReasonData
does not have.

Faults. Every request outside ``/_sandbox`` may get one fault. Sources, first
match wins:

1. query flags on any request: ``fault=429`` (with ``retry_after=SECONDS`` and
   ``retry_after_form=seconds|http-date``), ``fault=500``, ``fault=503``,
   ``fault=401``, ``fault=timeout`` (hold the request ``hang_s`` seconds, then
   503), ``fault=malformed`` (200 with a body that is not JSON) and
   ``fault=wrong_shape`` (200 with JSON of the wrong shape). ``fault_latency_ms=N``
   adds latency to that request.
2. scripted faults: `SandboxState.inject` or ``POST /_sandbox/inject`` with
   ``{"kind": "429", "count": 1, "path": "/v1/appointments", "retry_after": "3"}``,
   where ``retry_after`` is the raw header value.
3. random faults from `SandboxFaults`: ``timeout_rate``, ``error_rate`` (503) and
   ``rate_limit_rate`` (429 with ``retry_after_s``), drawn from ``seed``; change
   them at run time with `SandboxState.set_faults` or ``POST /_sandbox/faults``
   with the SandboxFaults fields and optionally ``retry_after_form``.

``latency_ms`` from `SandboxFaults` delays every request. ``GET /_sandbox/health``
answers when the server is up, ``GET /_sandbox/state`` returns counters. The
admin endpoints need no token, so serve the sandbox on loopback only.
"""

from sched_tui.sandbox.app import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_app, sandbox_state
from sched_tui.sandbox.state import RequestRecord, SandboxState

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "RequestRecord",
    "SandboxState",
    "create_app",
    "sandbox_state",
]
