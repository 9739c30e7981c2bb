"""The demo practice the sandbox serves: providers, visit reasons, hours and bookings.

Everything is derived from a "today" date and a seed, so two sandboxes built
with the same pair hold the same therapists and the same appointments. Patient
names are invented and obviously fictional.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Appointment statuses of the Zocdoc API (AppointmentStatus in the OpenAPI description).
APPOINTMENT_STATUSES = (
    "pending_booking",
    "confirmed",
    "booking_failed",
    "cancelled",
    "no_show",
    "pending_reschedule",
    "rescheduled",
    "reschedule_failed",
)
# Statuses whose appointment no longer blocks the provider's time.
FREEING_STATUSES = frozenset({"cancelled", "booking_failed"})

PRACTICE_ID = "pt_sbx001-demo01_practice"
PRACTICE_NAME = "Harborview Counseling Collective (demo)"

# Weeks of appointments generated before and after the week of "today".
WEEKS_BACK = 4
WEEKS_AHEAD = 4


@dataclass(frozen=True, slots=True)
class Specialty:
    """A Zocdoc specialty (``sp_`` id)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class VisitReason:
    """A Zocdoc visit reason (``pc_`` id) and the session length it books."""

    id: str
    name: str
    specialty_id: str
    duration_minutes: int
    visit_type: str = "in_person"


@dataclass(frozen=True, slots=True)
class Office:
    """A physical location of the practice (``lo_`` id)."""

    id: str
    name: str
    address1: str
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    phone_number: str


@dataclass(frozen=True, slots=True)
class SandboxProvider:
    """A therapist of the demo practice and the one location they work at."""

    provider_id: str
    npi: str
    first_name: str
    last_name: str
    title: str
    gender_identity: str
    specialty_id: str
    visit_reason_ids: tuple[str, ...]
    office: Office
    # Working intervals per weekday (0 = Monday), in the practice time zone.
    hours: dict[int, tuple[tuple[time, time], ...]]
    confirmation_type: str = "auto"
    languages: tuple[str, ...] = ("English",)

    @property
    def provider_location_id(self) -> str:
        """Zocdoc's ``provider_id|location_id`` pair."""
        return f"{self.provider_id}|{self.office.id}"

    @property
    def full_name(self) -> str:
        """Name with title, as a directory lists it."""
        return f"{self.first_name} {self.last_name}, {self.title}"


@dataclass(slots=True)
class SandboxAppointment:
    """A booked appointment, stored as the sandbox's source of truth."""

    appointment_id: str
    provider_location_id: str
    visit_reason_id: str
    start: datetime
    duration_minutes: int
    status: str
    patient: dict[str, object]
    patient_type: str
    created_utc: datetime
    last_modified_utc: datetime
    visit_type: str = "in_person"
    notes: str | None = None
    source: str = "Zocdoc Marketplace"
    cancellation_reason: str | None = None
    cancellation_reason_type: str | None = None

    @property
    def end(self) -> datetime:
        """End of the session."""
        return self.start + timedelta(minutes=self.duration_minutes)

    @property
    def provider_id(self) -> str:
        """The ``pr_`` part of the provider location id."""
        return self.provider_location_id.split("|", 1)[0]

    @property
    def blocks_time(self) -> bool:
        """Whether the provider is busy during this appointment."""
        return self.status not in FREEING_STATUSES


@dataclass(slots=True)
class Practice:
    """The whole demo practice."""

    tz: ZoneInfo
    today: date
    specialties: list[Specialty]
    visit_reasons: list[VisitReason]
    providers: list[SandboxProvider]
    appointments: list[SandboxAppointment] = field(default_factory=list)
    _by_location: dict[str, SandboxProvider] = field(default_factory=dict)

    def visit_reason(self, visit_reason_id: str) -> VisitReason | None:
        """Look a visit reason up by id."""
        return next((reason for reason in self.visit_reasons if reason.id == visit_reason_id), None)

    def provider_by_location(self, provider_location_id: str) -> SandboxProvider | None:
        """Look a provider up by provider location id."""
        if len(self._by_location) != len(self.providers):
            self._by_location = {p.provider_location_id: p for p in self.providers}
        return self._by_location.get(provider_location_id)


def _stable_id(prefix: str, text: str, length: int = 22) -> str:
    """Derive an id that depends only on `text`, shaped like Zocdoc's ids."""
    digest = hashlib.sha256(text.encode()).digest()
    return prefix + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


SPECIALTIES = [
    Specialty("sp_405", "Psychologist"),
    Specialty("sp_412", "Therapist / Counselor"),
    Specialty("sp_419", "Marriage & Family Therapist"),
    Specialty("sp_426", "Psychiatrist"),
]
_PSYCHOLOGIST, _COUNSELOR, _FAMILY, _PSYCHIATRIST = (s.id for s in SPECIALTIES)

VISIT_REASONS = [
    VisitReason(_stable_id("pc_", "individual"), "Individual therapy", _COUNSELOR, 50),
    VisitReason(_stable_id("pc_", "intake"), "Intake assessment", _PSYCHOLOGIST, 60),
    VisitReason(_stable_id("pc_", "couples"), "Couples therapy", _FAMILY, 80),
    VisitReason(_stable_id("pc_", "family"), "Family therapy", _FAMILY, 60),
    VisitReason(_stable_id("pc_", "group"), "Group therapy", _COUNSELOR, 90),
    VisitReason(
        _stable_id("pc_", "telehealth"),
        "Telehealth session",
        _COUNSELOR,
        50,
        "zocdoc_video_service",
    ),
    VisitReason(_stable_id("pc_", "medication"), "Medication management", _PSYCHIATRIST, 30),
]
_REASON = {reason.name: reason.id for reason in VISIT_REASONS}

OFFICES = [
    Office(
        _stable_id("lo_", "downtown", 20),
        "Harborview Downtown",
        "214 Placeholder Ave, Suite 3",
        "New York",
        "NY",
        "10013",
        40.7205,
        -74.0030,
        "2125550142",
    ),
    Office(
        _stable_id("lo_", "uptown", 20),
        "Harborview Uptown",
        "88 Sampleton St, Floor 2",
        "New York",
        "NY",
        "10025",
        40.7990,
        -73.9680,
        "2125550187",
    ),
]

_T = time
# Weekly patterns, by weekday (0 = Monday). Lunch is the gap between intervals.
_DAY = ((_T(9), _T(12)), (_T(13), _T(17)))
_LATE = ((_T(12), _T(16)), (_T(16, 30), _T(20)))
_SHORT = ((_T(9), _T(13)),)
_HOURS_PATTERNS: list[dict[int, tuple[tuple[time, time], ...]]] = [
    {0: _DAY, 1: _DAY, 2: _DAY, 3: _DAY, 4: _SHORT},
    {0: _LATE, 1: _LATE, 3: _LATE, 5: _SHORT},
    {1: _DAY, 2: _DAY, 3: _LATE, 4: _DAY},
    {0: _DAY, 2: _LATE, 4: _DAY},
    {0: _SHORT, 1: _DAY, 2: _DAY, 3: _DAY, 4: _DAY},
]

# (first name, last name, title, gender, specialty, visit reasons, confirmation type)
_ROSTER: list[tuple[str, str, str, str, str, tuple[str, ...], str]] = [
    (
        "Marisol",
        "Quintero-Vance",
        "PsyD",
        "Female",
        _PSYCHOLOGIST,
        ("Individual therapy", "Intake assessment", "Telehealth session", "Group therapy"),
        "auto",
    ),
    (
        "Theo",
        "Abernathy",
        "PhD",
        "Male",
        _PSYCHOLOGIST,
        ("Individual therapy", "Intake assessment", "Telehealth session"),
        "auto",
    ),
    (
        "Priya",
        "Raman-Castell",
        "LMFT",
        "Female",
        _FAMILY,
        ("Couples therapy", "Family therapy", "Individual therapy", "Intake assessment"),
        "auto",
    ),
    (
        "Jonah",
        "Whitlock",
        "LCSW",
        "Male",
        _COUNSELOR,
        ("Individual therapy", "Group therapy", "Telehealth session"),
        "manual",
    ),
    (
        "Imogen",
        "Farrow",
        "MD",
        "Female",
        _PSYCHIATRIST,
        ("Medication management", "Intake assessment", "Telehealth session"),
        "auto",
    ),
    (
        "Desmond",
        "Achterberg",
        "LMHC",
        "Male",
        _COUNSELOR,
        ("Individual therapy", "Telehealth session"),
        "auto",
    ),
    (
        "Lucia",
        "Brennan-Oduya",
        "LMFT",
        "Female",
        _FAMILY,
        ("Couples therapy", "Family therapy", "Telehealth session"),
        "auto",
    ),
    (
        "Samuel",
        "Okafor-Lind",
        "PsyD",
        "Male",
        _PSYCHOLOGIST,
        ("Individual therapy", "Intake assessment", "Group therapy"),
        "manual",
    ),
    (
        "Hana",
        "Sorvik",
        "LCSW",
        "Non-binary",
        _COUNSELOR,
        ("Individual therapy", "Family therapy", "Telehealth session"),
        "auto",
    ),
    (
        "Felix",
        "Montrose",
        "LPC",
        "Male",
        _COUNSELOR,
        ("Individual therapy", "Couples therapy", "Intake assessment"),
        "auto",
    ),
]
_EXTRA_FIRST = [
    "Avery",
    "Rowan",
    "Quinn",
    "Sage",
    "Emery",
    "Harper",
    "Reese",
    "Blair",
    "Corin",
    "Dana",
]
_EXTRA_LAST = [
    "Ashgrove",
    "Bellweather",
    "Copperfield",
    "Dunmore",
    "Evenwood",
    "Fairlight",
    "Greystone",
    "Hollowell",
    "Ironside",
    "Juniper",
    "Kestrel",
    "Larkspur",
]

# Patients are invented: first names paired with surnames no one carries.
_PATIENT_FIRST = [
    "Ada",
    "Basil",
    "Clementine",
    "Dorian",
    "Esme",
    "Florian",
    "Greta",
    "Hugo",
    "Iris",
    "Jasper",
    "Kit",
    "Lorna",
    "Milo",
    "Nell",
    "Otto",
    "Pia",
]
_PATIENT_LAST = [
    "Placeholder",
    "Testwell",
    "Sampleby",
    "Mockridge",
    "Demoson",
    "Fictus",
    "Exampleton",
    "Notreal",
    "Dummington",
    "Stubbs-Fixture",
]


def build_practice(today: date, seed: int, tz: ZoneInfo, therapist_count: int = 10) -> Practice:
    """Build the demo practice around `today`; the same arguments give the same practice."""
    rng = random.Random(seed)
    providers = [_make_provider(index, rng) for index in range(therapist_count)]
    practice = Practice(
        tz=tz,
        today=today,
        specialties=list(SPECIALTIES),
        visit_reasons=list(VISIT_REASONS),
        providers=providers,
    )
    patients = _make_patients(rng, count=max(40, therapist_count * 8))
    practice.appointments = _make_appointments(practice, patients, rng)
    return practice


def _random_token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _make_provider(index: int, rng: random.Random) -> SandboxProvider:
    lower = "abcdefghijklmnopqrstuvwxyz0123456789"
    provider_id = (
        f"pr_{_random_token(rng, lower, 6)}-{_random_token(rng, lower, 6)}"
        f"_{_random_token(rng, lower, 8)}"
    )
    if index < len(_ROSTER):
        first, last, title, gender, specialty, reasons, confirmation = _ROSTER[index]
    else:
        first = _EXTRA_FIRST[index % len(_EXTRA_FIRST)]
        last = f"{_EXTRA_LAST[(index // len(_EXTRA_FIRST)) % len(_EXTRA_LAST)]}-{index}"
        title, gender, specialty, confirmation = "LCSW", "Non-binary", _COUNSELOR, "auto"
        reasons = ("Individual therapy", "Telehealth session", "Intake assessment")
    return SandboxProvider(
        provider_id=provider_id,
        npi=str(1_000_000_000 + rng.randrange(100_000_000, 999_999_999)),
        first_name=first,
        last_name=last,
        title=title,
        gender_identity=gender,
        specialty_id=specialty,
        visit_reason_ids=tuple(_REASON[name] for name in reasons),
        office=OFFICES[index % len(OFFICES)],
        hours=_HOURS_PATTERNS[index % len(_HOURS_PATTERNS)],
        confirmation_type=confirmation,
        languages=("English", "Spanish") if index % 3 == 0 else ("English",),
    )


def _make_patients(rng: random.Random, count: int) -> list[dict[str, object]]:
    patients: list[dict[str, object]] = []
    for number in range(1, count + 1):
        first = rng.choice(_PATIENT_FIRST)
        last = rng.choice(_PATIENT_LAST)
        patients.append(
            {
                "developer_patient_id": f"demo-patient-{number:04d}",
                "first_name": first,
                "last_name": last,
                "date_of_birth": f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 29):02d}",
                "sex_at_birth": rng.choice(["female", "male"]),
                "phone_number": f"212555{rng.randrange(2000, 9999):04d}",
                "email_address": f"{first.lower()}.{last.lower()}@example.com",
                "patient_address": {
                    "address1": f"{rng.randrange(1, 400)} Imaginary Lane",
                    "city": "New York",
                    "state": "NY",
                    "zip_code": "10001",
                },
            }
        )
    return patients


def _make_appointments(
    practice: Practice, patients: list[dict[str, object]], rng: random.Random
) -> list[SandboxAppointment]:
    """Fill working hours with sessions: denser in the past, thinner further ahead."""
    week_start = practice.today - timedelta(days=practice.today.weekday())
    first_day = week_start - timedelta(weeks=WEEKS_BACK)
    last_day = week_start + timedelta(weeks=WEEKS_AHEAD + 1)
    reasons = {reason.id: reason for reason in practice.visit_reasons}
    appointments: list[SandboxAppointment] = []

    for provider in practice.providers:
        day = first_day
        while day < last_day:
            days_ahead = (day - practice.today).days
            density = 0.3 if days_ahead <= 7 else max(0.1, 0.3 - 0.01 * (days_ahead - 7))
            for interval_start, interval_end in provider.hours.get(day.weekday(), ()):
                cursor = datetime.combine(day, interval_start, practice.tz)
                limit = datetime.combine(day, interval_end, practice.tz)
                while cursor < limit:
                    reason = reasons[rng.choice(provider.visit_reason_ids)]
                    end = cursor + timedelta(minutes=reason.duration_minutes)
                    if end <= limit and rng.random() < density:
                        appointments.append(
                            _make_appointment(practice, provider, reason, cursor, patients, rng)
                        )
                        cursor = _next_hour(end)
                    else:
                        cursor += timedelta(hours=1)
            day += timedelta(days=1)
    return appointments


def _next_hour(moment: datetime) -> datetime:
    rounded = moment.replace(minute=0, second=0, microsecond=0)
    return rounded if rounded == moment else rounded + timedelta(hours=1)


def _make_appointment(
    practice: Practice,
    provider: SandboxProvider,
    reason: VisitReason,
    start: datetime,
    patients: list[dict[str, object]],
    rng: random.Random,
) -> SandboxAppointment:
    in_past = start.date() < practice.today
    draw = rng.random()
    if in_past:
        status = "confirmed"
        if draw < 0.08:
            status = "cancelled"
        elif draw < 0.12:
            status = "no_show"
    else:
        status = "confirmed"
        if draw < 0.06:
            status = "cancelled"
        elif draw < 0.16:
            status = "pending_booking"
    created = start.astimezone(UTC) - timedelta(
        days=rng.randrange(2, 40), minutes=rng.randrange(600)
    )
    patient = rng.choice(patients)
    return SandboxAppointment(
        appointment_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        provider_location_id=provider.provider_location_id,
        visit_reason_id=reason.id,
        start=start,
        duration_minutes=reason.duration_minutes,
        status=status,
        patient=dict(patient),
        patient_type="new" if reason.name == "Intake assessment" else "existing",
        created_utc=created,
        last_modified_utc=created,
        visit_type=reason.visit_type,
        source=rng.choice(["Zocdoc Marketplace", "Your website"]),
        cancellation_reason_type="patient_no_longer_available" if status == "cancelled" else None,
    )
