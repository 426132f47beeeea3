"""The base of every form: WTForms' own messages (a wrong choice, a number that is not one, a field too long)
in the reader's language, from the app's catalog, as WTForms ships no Indonesian."""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

from app.inputs import one_line
from app.problems import N_

# The WTForms messages our forms can show, marked so `make extract` keeps them (each plural form on its own).
WTFORMS_MESSAGES = (
    N_("This field is required."), N_("Invalid input."), N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."), N_("'%(value)s' is not a valid choice for this field."),
    N_("'%(value)s' are not valid choices for this field."), N_("Not a valid float value."),
    N_("Not a valid integer value."), N_("Field must be at least %(min)d character long."),
    N_("Field must be at least %(min)d characters long."), N_("Field cannot be longer than %(max)d character."),
    N_("Field cannot be longer than %(max)d characters."), N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be between %(min)s and %(max)s."), N_("Field must be equal to %(other_name)s."),
)


class _Catalog:
    """What WTForms asks its translations for, answered from the app's catalog in the request's language."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        # WTForms fills the fields itself; Indonesian has one form, so each English form is its own msgid.
        return self.gettext(singular if n == 1 else plural)


def _one_line(value):
    return one_line(value) if isinstance(value, str) else value


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages are translated like every other text, and whose one-line text
    fields hold one line (app.inputs.one_line: what the sync door allows in a name)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _Catalog()

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, (TextAreaField, PasswordField)):
                options = {**options, "filters": [*unbound_field.kwargs.get("filters", ()), _one_line]}
            return super().bind_field(form, unbound_field, options)
