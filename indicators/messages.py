"""Labels shown on indicator pages and exports (English msgids, translated where shown). Pure."""

from __future__ import annotations

from app.problems import N_
from indicators.definitions import GROUP_LABELS

GROUPS = GROUP_LABELS
SOURCE_STATUSES = {"verified": N_("verified"), "weak": N_("weak source"), "unverified": N_("unverified")}
OBTAINED = {"facility": N_("from approved audits"), "entered": N_("entered by a planner")}
UNITS = {"percent": N_("percent"), "count": N_("count"), "yes_no": N_("yes/no")}
BASES = {"facilities": N_("computed from facilities"), "entered": N_("entered"), "rollup": N_("rolled up from kecamatan")}
BANDS = {"kla": "KLA", "utama": "Utama", "nindya": "Nindya", "madya": "Madya", "pratama": "Pratama",
         None: N_("no predicate")}
GROUP_SHORT = {"kelembagaan": N_("Institutions"), "klaster_1": N_("Cluster I"), "klaster_2": N_("Cluster II"),
               "klaster_3": N_("Cluster III"), "klaster_4": N_("Cluster IV"), "klaster_5": N_("Cluster V")}
