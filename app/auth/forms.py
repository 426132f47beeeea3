"""Forms for signing in and managing users."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import ROLE_NAMES
from app.auth.scope import ROLES
from app.forms import Form

ROLE_LABELS = {role: _l(name) for role, name in ROLE_NAMES.items()}


class LoginForm(Form):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])


class UserForm(Form):
    """Create a user, or change one's role, kecamatan and password."""

    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Enter a username.")),
        Length(min=3, max=40, message=_l("A username has 3 to 40 characters.")),
        Regexp(r"^[a-zA-Z0-9._-]+$", message=_l("Use only letters, digits, dot, dash and underscore.")),
    ])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
                       validators=[DataRequired(_l("Choose a role."))])
    # Checkboxes, not a multi-select: easy to tap on a tablet, no Ctrl-click.
    kecamatan = SelectMultipleField(_l("Kecamatan"), choices=[], validate_choice=True,
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    password = PasswordField(_l("Password"), validators=[
        Optional(), Length(min=8, max=200, message=_l("A password has at least 8 characters.")),
    ])
    confirm = PasswordField(_l("Repeat password"), validators=[
        EqualTo("password", message=_l("The passwords do not match.")),
    ])
    active = BooleanField(_l("Can sign in"), default=True)
