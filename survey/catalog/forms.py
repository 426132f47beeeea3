"""The upload form of the catalog: an XLSForm workbook, its CSV attachments, the facility kinds it is for."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FileField, MultipleFileField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form
from survey.checklist import ALL_FACILITIES
from survey.kinds import KINDS


class UploadForm(Form):
    """An XLSForm workbook and the CSV files it names; the kinds of facility the checklist is for."""

    form = FileField(_l("XLSForm workbook (.xlsx)"), render_kw={"accept": ".xlsx,.xls"})
    attachments = MultipleFileField(_l("CSV attachments (optional)"), render_kw={"accept": ".csv,text/csv"})
    # Checkboxes, not a multi-select: easy to tap on a tablet. None ticked: every kind.
    kinds = SelectMultipleField(_l("Facility kinds"), validate_choice=True,
                                choices=[SelectChoice(k.code, _l(k.label)) for k in KINDS]
                                + [SelectChoice(ALL_FACILITIES, _l("Every kind of facility"))],
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
