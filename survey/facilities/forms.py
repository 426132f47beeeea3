"""The facility form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form
from survey.kinds import KINDS


class CoordinateField(FloatField):
    """A decimal that also accepts the Indonesian decimal comma (-6,1201)."""

    def process_formdata(self, valuelist):
        super().process_formdata([v.strip().replace(",", ".") for v in valuelist])


class FacilityForm(Form):
    """Kind, name, official id, address, kecamatan and position of a facility."""

    kind = SelectField(_l("Kind"), choices=[], validators=[DataRequired(_l("Choose a kind."))])
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Enter the facility's name.")),
        Length(min=3, max=160, message=_l("A facility name has 3 to 160 characters.")),
    ])
    official_id = StringField(_l("Official id (NPSN for schools)"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    kecamatan_code = SelectField(_l("Kecamatan"), choices=[], validators=[DataRequired(_l("Choose a kecamatan."))])
    lat = CoordinateField(_l("Latitude"), validators=[
        Optional(), NumberRange(-90, 90, message=_l("Latitude is between -90 and 90."))],
        render_kw={"inputmode": "decimal"})
    lon = CoordinateField(_l("Longitude"), validators=[
        Optional(), NumberRange(-180, 180, message=_l("Longitude is between -180 and 180."))],
        render_kw={"inputmode": "decimal"})

    def set_choices(self, kind_label, kecamatan_choices) -> None:
        """Fill the select boxes: translated kinds and the kecamatan the user may use."""
        self.kind.choices = [SelectChoice("", "—")] + [SelectChoice(k.code, kind_label(k.code)) for k in KINDS]
        self.kecamatan_code.choices = [SelectChoice("", "—")] + [SelectChoice(*c) for c in kecamatan_choices]
