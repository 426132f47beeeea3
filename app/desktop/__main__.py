"""`python -m app.desktop`: the field app in its own window."""

from app.desktop import main

raise SystemExit(main())
