"""Every model module, imported once so metadata is complete for the app and for migrations."""

from app.auditlog import AuditLogEntry  # noqa: F401
from app.auth.models import User, user_kecamatan  # noqa: F401
from app.node import Device  # noqa: F401
from app.throttle import ThrottleCount  # noqa: F401
from geo.models import Wilayah  # noqa: F401
from indicators.models import (EntryEvidence, EvidenceFile, IndicatorCoverage, IndicatorEntry,  # noqa: F401
                               IndicatorPoints, IndicatorSetVersion, IndicatorValue, IndicatorYear)
from survey.audits.models import Answer, AnswerPhoto, Audit, ChecklistVersion, GpsReading, Photo  # noqa: F401
from survey.facilities.models import Facility  # noqa: F401
from sync.models import AuditReview, FacilityEdit, SyncChange, SyncConflict, SyncPeer, SyncState  # noqa: F401
